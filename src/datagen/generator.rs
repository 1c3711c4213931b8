//! Generators: expressions such as `zipf(1, users, 1.07)` resolved into
//! samplers. Building validates arguments once; sampling is allocation-free
//! except for text.

use super::signatures::SIGNATURES;
use super::size::MAX_VALUE_LEN;
use super::value::Value;
use super::words::{email, lorem, person_name};
use crate::expr::{Arg, Expr, ExprError, ExprKind, Params, eval_integer, eval_number};
use crate::suggest::did_you_mean;
use rand::distr::{Distribution, Uniform};
use rand::{Rng, RngExt};
use rand_distr::{Normal, Zipf};

/// Where a generator is used: table columns know their row number, operation
/// parameters do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Column,
    OpParam,
}

/// The key range of a `seq` column, which `ref(table.column)` draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRange {
    pub start: i64,
    pub step: i64,
    pub rows: u64,
}

/// What building a generator may look up besides the expression itself.
pub struct BuildCtx<'a> {
    pub params: &'a Params,
    /// The folder file names (`vector_file("...")`) are relative to: the
    /// workload file's.
    pub dir: &'a std::path::Path,
    /// The expression text, for messages.
    pub src: &'a str,
    pub place: Place,
    /// Resolves `table.column` to the key range of a `seq` column.
    pub keys: &'a dyn Fn(&str) -> Result<KeyRange, String>,
}

/// Milliseconds since the epoch of the first UUIDv7 (2024-01-01T00:00:00Z);
/// each later row or draw is one millisecond on.
const UUID7_EPOCH_MS: u64 = 1_704_067_200_000;

#[derive(Debug, Clone)]
pub enum Generator {
    Const(Value),
    Seq {
        start: i64,
        step: i64,
    },
    UniformInt(Uniform<i64>),
    UniformFloat(Uniform<f64>),
    Decimal {
        units: Uniform<i64>,
        scale: u8,
    },
    Normal(Normal<f64>),
    Zipf {
        lo: i64,
        dist: Zipf<f64>,
    },
    Choice {
        labels: Vec<Value>,
        /// Cumulative weights; a draw in `0..total` picks the first bucket above it.
        cumulative: Vec<u64>,
    },
    Text {
        len: Uniform<usize>,
        mean_len: f64,
    },
    Name(Box<Key>),
    Email(Box<Key>),
    Timestamp(Uniform<i64>),
    Ref {
        key: KeyRange,
        index: Uniform<u64>,
    },
    Nullable {
        rate: f64,
        inner: Box<Generator>,
    },
    /// Version 4 (random) or 7 (time-ordered by row or draw number).
    Uuid {
        version: u8,
    },
    Json(Vec<(String, Generator)>),
    Bytes {
        len: Uniform<usize>,
        mean_len: f64,
    },
    /// Uniform over whole seconds.
    Interval(Uniform<i64>),
    Inet {
        v6: bool,
    },
    Array {
        item: Box<Generator>,
        len: Uniform<usize>,
        mean_len: f64,
    },
    /// A Gaussian mixture (`vector`, `unit_vector`).
    Vector(std::sync::Arc<crate::vectors::Mixture>),
    /// `vector_file`: row i of the file for row i (`by_row`, columns), or a
    /// row at random (operation parameters).
    VectorFile {
        file: std::sync::Arc<super::vector_gen::VectorFile>,
        by_row: bool,
    },
    /// `series`, `series_time`, `series_value` (time series by row).
    Series(Box<super::series_gen::SeriesGen>),
}

/// What a name or email is derived from: the row number, or another generator.
#[derive(Debug, Clone)]
pub enum Key {
    Row,
    Generated(Generator),
}

impl Generator {
    /// Builds a generator from a parsed expression.
    pub fn build(expr: &Expr, ctx: &BuildCtx<'_>) -> Result<Generator, ExprError> {
        match &expr.kind {
            ExprKind::Number(n) => Ok(Generator::Const(if n.fract() == 0.0 {
                Value::Int(*n as i64)
            } else {
                Value::Float(*n)
            })),
            ExprKind::Str(s) => Ok(Generator::Const(Value::Text(s.clone()))),
            ExprKind::Timestamp(t) => Ok(Generator::Const(Value::Timestamp(*t * super::MICROS))),
            ExprKind::Ident(name) if is_generator(name) => build_call(name, &expr.span, &[], &expr.span, ctx),
            ExprKind::Ident(_) | ExprKind::Neg(_) | ExprKind::Binary(..) => {
                // A constant computed from parameters, e.g. `users + 1`.
                let v = eval_number(expr, ctx.params).map_err(|e| not_a_generator(e, ctx))?;
                Ok(Generator::Const(if v.fract() == 0.0 {
                    Value::Int(v as i64)
                } else {
                    Value::Float(v)
                }))
            }
            ExprKind::Call { name, name_span, args } => build_call(name, name_span, args, &expr.span, ctx),
        }
    }

    /// Draws one value. `row` is the 0-based row number for columns (ignored
    /// for operation parameters).
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R, row: u64) -> Value {
        match self {
            Generator::Const(v) => v.clone(),
            Generator::Seq { start, step } => Value::Int(start.wrapping_add(step.wrapping_mul(row as i64))),
            Generator::UniformInt(u) => Value::Int(u.sample(rng)),
            Generator::UniformFloat(u) => Value::Float(u.sample(rng)),
            Generator::Decimal { units, scale } => Value::Decimal {
                units: units.sample(rng),
                scale: *scale,
            },
            Generator::Normal(n) => Value::Float(n.sample(rng)),
            Generator::Zipf { lo, dist } => Value::Int(lo + dist.sample(rng) as i64 - 1),
            Generator::Choice { labels, cumulative } => {
                let total = *cumulative.last().unwrap_or(&1);
                let x = rng.random_range(0..total);
                let i = cumulative.partition_point(|&c| c <= x);
                labels[i].clone()
            }
            Generator::Text { len, .. } => {
                let n = len.sample(rng);
                Value::Text(lorem(rng, n))
            }
            Generator::Name(key) => Value::Text(person_name(key.value(rng, row))),
            Generator::Email(key) => Value::Text(email(key.value(rng, row))),
            Generator::Timestamp(u) => Value::Timestamp(u.sample(rng) * super::MICROS),
            Generator::Ref { key, index } => Value::Int(key.start + key.step * index.sample(rng) as i64),
            Generator::Nullable { rate, inner } => {
                // Draw the inner value regardless, so the null rate does not
                // shift the sequence of non-null values.
                let v = inner.sample(rng, row);
                if rng.random::<f64>() < *rate { Value::Null } else { v }
            }
            Generator::Uuid { version } => {
                let mut random = [0u8; 16];
                rng.fill_bytes(&mut random);
                let id = if *version == 7 {
                    let tail: [u8; 10] = random[..10].try_into().expect("ten bytes");
                    uuid::Builder::from_unix_timestamp_millis(UUID7_EPOCH_MS + row, &tail).into_uuid()
                } else {
                    uuid::Builder::from_random_bytes(random).into_uuid()
                };
                Value::Uuid(id.into_bytes())
            }
            Generator::Json(fields) => Value::Json(serde_json::Value::Object(
                fields
                    .iter()
                    .map(|(k, g)| (k.clone(), g.sample(rng, row).to_json()))
                    .collect(),
            )),
            Generator::Bytes { len, .. } => {
                let mut b = vec![0u8; len.sample(rng)];
                rng.fill_bytes(&mut b);
                Value::Bytes(b)
            }
            Generator::Interval(u) => Value::Interval {
                months: 0,
                days: 0,
                micros: u.sample(rng) * super::MICROS,
            },
            Generator::Inet { v6 } => Value::Inet(if *v6 {
                std::net::IpAddr::V6(std::net::Ipv6Addr::from(rng.random::<u128>()))
            } else {
                std::net::IpAddr::V4(std::net::Ipv4Addr::from(rng.random::<u32>()))
            }),
            Generator::Array { item, len, .. } => {
                let n = len.sample(rng);
                Value::Array((0..n).map(|_| item.sample(rng, row)).collect())
            }
            Generator::Vector(m) => Value::Vector(m.sample(rng)),
            Generator::VectorFile { file, by_row } => {
                let n = file.set.len() as u64;
                let i = if *by_row { row % n } else { rng.random_range(0..n) };
                Value::Vector(file.set.row(i as usize).to_vec())
            }
            Generator::Series(g) => g.sample(rng, row),
        }
    }

    /// The key range of a `seq` generator, for `ref` targets.
    pub fn key_range(&self, rows: u64) -> Option<KeyRange> {
        match self {
            Generator::Seq { start, step } => Some(KeyRange {
                start: *start,
                step: *step,
                rows,
            }),
            _ => None,
        }
    }
}

impl Key {
    fn value<R: Rng + ?Sized>(&self, rng: &mut R, row: u64) -> i64 {
        match self {
            Key::Row => row as i64 + 1,
            Key::Generated(g) => match g.sample(rng, row) {
                Value::Int(k) => k,
                _ => 0,
            },
        }
    }
}

fn is_generator(name: &str) -> bool {
    SIGNATURES.iter().any(|(n, _)| *n == name)
}

fn not_a_generator(err: ExprError, ctx: &BuildCtx<'_>) -> ExprError {
    let _ = ctx;
    ExprError::new(
        err.span.clone(),
        format!(
            "{}; a value here is a generator call such as uniform(1, 10), a constant, or arithmetic over parameters",
            err.message
        ),
    )
}

pub(super) fn signature(name: &str) -> &'static str {
    SIGNATURES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| *s)
        .unwrap_or("")
}

fn build_call(
    name: &str,
    name_span: &std::ops::Range<usize>,
    args: &[Arg],
    span: &std::ops::Range<usize>,
    ctx: &BuildCtx<'_>,
) -> Result<Generator, ExprError> {
    let arity = |allowed: &[usize]| -> Result<(), ExprError> {
        if allowed.contains(&args.len()) {
            Ok(())
        } else {
            Err(ExprError::new(
                span.clone(),
                format!(
                    "`{name}` takes {}, got {} argument(s); usage: {}",
                    allowed.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(" or "),
                    args.len(),
                    signature(name)
                ),
            ))
        }
    };
    if !matches!(name, "choice" | "json")
        && !super::series_gen::takes_labels(name)
        && let Some(label) = args.iter().find_map(|a| a.label.as_ref())
    {
        return Err(ExprError::new(
            label.span.clone(),
            format!(
                "labels (`{}:`) are only used by choice(...), json(...) and the series_* generators",
                label.text
            ),
        ));
    }
    let num = |i: usize| eval_number(&args[i].value, ctx.params);
    let int = |i: usize| eval_integer(&args[i].value, ctx.params, ctx.src);
    let bad = |i: usize, msg: String| ExprError::new(args[i].value.span.clone(), msg);

    match name {
        "seq" => {
            arity(&[0, 1, 2])?;
            if ctx.place == Place::OpParam {
                return Err(ExprError::new(
                    span.clone(),
                    "seq is only valid for table columns; for new keys in writes let the \
                     database assign them (INTEGER PRIMARY KEY / identity)",
                ));
            }
            let start = if args.is_empty() { 1 } else { int(0)? };
            let step = if args.len() == 2 { int(1)? } else { 1 };
            if step == 0 {
                return Err(bad(1, "seq step must not be 0".into()));
            }
            Ok(Generator::Seq { start, step })
        }
        "uniform" => {
            arity(&[2])?;
            let (lo, hi) = (int(0)?, int(1)?);
            if lo > hi {
                return Err(bad(1, format!("uniform needs lo <= hi, got {lo} > {hi}")));
            }
            Ok(Generator::UniformInt(
                Uniform::new_inclusive(lo, hi).map_err(|e| bad(0, e.to_string()))?,
            ))
        }
        "float" => {
            arity(&[2])?;
            let (lo, hi) = (num(0)?, num(1)?);
            if lo >= hi {
                return Err(bad(1, format!("float needs lo < hi, got {lo} >= {hi}")));
            }
            Ok(Generator::UniformFloat(
                Uniform::new(lo, hi).map_err(|e| bad(0, e.to_string()))?,
            ))
        }
        "decimal" => {
            arity(&[3])?;
            let (lo, hi, places) = (num(0)?, num(1)?, int(2)?);
            if !(0..=9).contains(&places) {
                return Err(bad(2, format!("decimal places must be 0..=9, got {places}")));
            }
            let p = 10f64.powi(places as i32);
            let (lo_u, hi_u) = ((lo * p).round() as i64, (hi * p).round() as i64);
            if lo_u > hi_u {
                return Err(bad(1, format!("decimal needs lo <= hi, got {lo} > {hi}")));
            }
            Ok(Generator::Decimal {
                units: Uniform::new_inclusive(lo_u, hi_u).map_err(|e| bad(0, e.to_string()))?,
                scale: places as u8,
            })
        }
        "normal" => {
            arity(&[2])?;
            let (mean, sd) = (num(0)?, num(1)?);
            if sd <= 0.0 {
                return Err(bad(1, format!("normal needs std_dev > 0, got {sd}")));
            }
            Ok(Generator::Normal(
                Normal::new(mean, sd).map_err(|e| bad(1, e.to_string()))?,
            ))
        }
        "zipf" => {
            arity(&[3])?;
            let (lo, hi, s) = (int(0)?, int(1)?, num(2)?);
            if lo > hi {
                return Err(bad(1, format!("zipf needs lo <= hi, got {lo} > {hi}")));
            }
            if s < 0.0 {
                return Err(bad(2, format!("zipf exponent must be >= 0, got {s}")));
            }
            let n = (hi - lo + 1) as f64;
            Ok(Generator::Zipf {
                lo,
                dist: Zipf::new(n, s).map_err(|e| bad(2, e.to_string()))?,
            })
        }
        "choice" => {
            if args.is_empty() {
                return Err(ExprError::new(
                    span.clone(),
                    format!("choice needs at least one option; usage: {}", signature(name)),
                ));
            }
            let mut labels = Vec::with_capacity(args.len());
            let mut cumulative = Vec::with_capacity(args.len());
            let mut total = 0u64;
            for (i, arg) in args.iter().enumerate() {
                let Some(label) = &arg.label else {
                    return Err(bad(i, "every choice option needs a label: `label: weight`".into()));
                };
                let w = int(i)?;
                if w < 0 {
                    return Err(bad(i, format!("choice weights must be >= 0, got {w}")));
                }
                total += w as u64;
                cumulative.push(total);
                labels.push(if label.numeric {
                    label
                        .text
                        .parse::<i64>()
                        .map(Value::Int)
                        .unwrap_or_else(|_| Value::Text(label.text.clone()))
                } else {
                    Value::Text(label.text.clone())
                });
            }
            if total == 0 {
                return Err(ExprError::new(span.clone(), "choice weights add up to 0"));
            }
            Ok(Generator::Choice { labels, cumulative })
        }
        "text" => {
            arity(&[2])?;
            let (lo, hi) = (int(0)?, int(1)?);
            if lo < 0 || lo > hi || hi > MAX_VALUE_LEN {
                return Err(bad(
                    1,
                    format!("text needs 0 <= min_len <= max_len <= {MAX_VALUE_LEN}, got {lo}, {hi}"),
                ));
            }
            Ok(Generator::Text {
                len: Uniform::new_inclusive(lo as usize, hi as usize).map_err(|e| bad(0, e.to_string()))?,
                mean_len: (lo + hi) as f64 / 2.0,
            })
        }
        "name" | "email" => {
            arity(&[0, 1])?;
            let key = if let Some(arg) = args.first() {
                Key::Generated(Generator::build(&arg.value, ctx)?)
            } else if ctx.place == Place::OpParam {
                return Err(ExprError::new(
                    span.clone(),
                    format!(
                        "{name}() without a key only works in table columns (it uses the row number); in an operation pass the key, e.g. {name}(uniform(1, users))"
                    ),
                ));
            } else {
                Key::Row
            };
            Ok(if name == "name" {
                Generator::Name(Box::new(key))
            } else {
                Generator::Email(Box::new(key))
            })
        }
        "timestamp" => {
            arity(&[2])?;
            super::series_gen::build_timestamp(args, ctx)
        }
        "ref" => {
            arity(&[1])?;
            let ExprKind::Ident(target) = &args[0].value.kind else {
                return Err(bad(0, "expected `table.column`, e.g. ref(users.id)".into()));
            };
            if !target.contains('.') {
                return Err(bad(0, format!("expected `table.column`, got `{target}`")));
            }
            let key = (ctx.keys)(target).map_err(|m| bad(0, m))?;
            if key.rows == 0 {
                return Err(bad(0, format!("`{target}` has no rows to refer to")));
            }
            Ok(Generator::Ref {
                key,
                index: Uniform::new(0, key.rows).map_err(|e| bad(0, e.to_string()))?,
            })
        }
        "nullable" => {
            arity(&[2])?;
            let rate = num(0)?;
            if !(0.0..=1.0).contains(&rate) {
                return Err(bad(0, format!("null rate must be between 0 and 1, got {rate}")));
            }
            let inner = Generator::build(&args[1].value, ctx)?;
            Ok(Generator::Nullable {
                rate,
                inner: Box::new(inner),
            })
        }
        "uuid" => {
            arity(&[0, 1])?;
            let version = if args.is_empty() { 4 } else { int(0)? };
            if version != 4 && version != 7 {
                return Err(bad(0, format!("uuid version must be 4 or 7, got {version}")));
            }
            Ok(Generator::Uuid { version: version as u8 })
        }
        "json" => {
            if args.is_empty() {
                return Err(ExprError::new(
                    span.clone(),
                    format!("json needs at least one field; usage: {}", signature(name)),
                ));
            }
            let mut fields: Vec<(String, Generator)> = Vec::with_capacity(args.len());
            for (i, arg) in args.iter().enumerate() {
                let Some(label) = &arg.label else {
                    return Err(bad(i, "every json field needs a key: `key: generator`".into()));
                };
                if fields.iter().any(|(k, _)| *k == label.text) {
                    return Err(ExprError::new(
                        label.span.clone(),
                        format!("json key `{}` appears twice", label.text),
                    ));
                }
                fields.push((label.text.clone(), Generator::build(&arg.value, ctx)?));
            }
            Ok(Generator::Json(fields))
        }
        "bytes" => {
            arity(&[2])?;
            let (lo, hi) = (int(0)?, int(1)?);
            if lo < 0 || lo > hi || hi > MAX_VALUE_LEN {
                return Err(bad(
                    1,
                    format!("bytes needs 0 <= min_len <= max_len <= {MAX_VALUE_LEN}, got {lo}, {hi}"),
                ));
            }
            Ok(Generator::Bytes {
                len: Uniform::new_inclusive(lo as usize, hi as usize).map_err(|e| bad(0, e.to_string()))?,
                mean_len: (lo + hi) as f64 / 2.0,
            })
        }
        "interval" => {
            arity(&[2])?;
            let (lo, hi) = (int(0)?, int(1)?);
            if lo > hi {
                return Err(bad(1, format!("interval needs min <= max seconds, got {lo} > {hi}")));
            }
            Ok(Generator::Interval(
                Uniform::new_inclusive(lo, hi).map_err(|e| bad(0, e.to_string()))?,
            ))
        }
        "inet" => {
            arity(&[0, 1])?;
            let family = if args.is_empty() { 4 } else { int(0)? };
            if family != 4 && family != 6 {
                return Err(bad(0, format!("inet takes 4 or 6, got {family}")));
            }
            Ok(Generator::Inet { v6: family == 6 })
        }
        "array" => {
            arity(&[3])?;
            let item = Generator::build(&args[0].value, ctx)?;
            let (lo, hi) = (int(1)?, int(2)?);
            if lo < 0 || lo > hi || hi > 100_000 {
                return Err(bad(
                    2,
                    format!("array needs 0 <= min_len <= max_len <= 100000, got {lo}, {hi}"),
                ));
            }
            Ok(Generator::Array {
                item: Box::new(item),
                len: Uniform::new_inclusive(lo as usize, hi as usize).map_err(|e| bad(1, e.to_string()))?,
                mean_len: (lo + hi) as f64 / 2.0,
            })
        }
        "vector" | "unit_vector" | "vector_file" => super::vector_gen::build(name, args, span, ctx),
        "series" | "series_time" | "series_value" => super::series_gen::build(name, args, span, ctx),
        _ => {
            let names = SIGNATURES.iter().map(|(n, _)| *n);
            let hint = did_you_mean(name, names)
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            Err(ExprError::new(
                name_span.clone(),
                format!(
                    "unknown generator `{name}`{hint} (known: {})",
                    SIGNATURES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                ),
            ))
        }
    }
}
