//! Time-series generators: `series(n)`, `series_time(...)` and
//! `series_value(...)`. Rows are laid out time-major, the way points
//! arrive: row `i` is point `i / n` of series `1 + i % n`, so a table
//! generated with them is in time order (up to jitter and late points) and
//! rows past the loaded ones (batched ingest, see `[op.batch]`) continue
//! every series where the load left it.
//!
//! Each value depends on its row number alone, so chunks generate in
//! parallel and ingest batches need no state: the random walk is a
//! Brownian bridge evaluated top-down over 2^32 points per series, with
//! one hashed Gaussian per level (O(32) per value).

use super::generator::{BuildCtx, Generator, Place};
use super::value::{MICROS, Value};
use super::words::mix64;
use crate::expr::{Arg, ExprError, ExprKind, eval_number};
use rand::{Rng, RngExt};

/// Levels of the random walk's bridge: 2^32 points per series.
const WALK_LEVELS: u32 = 32;

/// A time-series generator (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub enum SeriesGen {
    /// `series(n)`: the series a row belongs to, 1..=n (`by_row`, columns),
    /// or any series (operation parameters).
    Id { series: u64, by_row: bool },
    /// `series_time(...)`: the point's time, microseconds since the epoch.
    Time(SeriesTime),
    /// `series_value(...)`: a random walk plus a seasonal wave plus noise.
    Value(SeriesValue),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SeriesTime {
    pub series: u64,
    /// First point, microseconds since the epoch.
    pub from: i64,
    /// Microseconds between a series' points.
    pub every: i64,
    /// Uniform jitter of each point, up to this many microseconds either way.
    pub jitter: i64,
    /// Share of points that arrive out of order: 1 to 10 intervals late.
    pub out_of_order: f64,
    /// Share of points that arrive late: up to `late_by` microseconds.
    pub late: f64,
    pub late_by: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SeriesValue {
    pub series: u64,
    pub start: f64,
    /// Standard deviation of each step of the random walk.
    pub walk: f64,
    pub amplitude: f64,
    /// Points per seasonal cycle (0: no season).
    pub period: f64,
    /// Standard deviation of independent noise per point.
    pub noise: f64,
}

impl SeriesGen {
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R, row: u64) -> Value {
        match self {
            SeriesGen::Id { series, by_row: false } => Value::Int(rng.random_range(1..=*series as i64)),
            SeriesGen::Id { series, .. } => Value::Int((row % series) as i64 + 1),
            SeriesGen::Time(t) => Value::Timestamp(t.at(rng, row)),
            SeriesGen::Value(v) => Value::Float(v.at(rng, row)),
        }
    }

    /// The series a row number belongs to and its point within the series.
    fn split(series: u64, row: u64) -> (u64, u64) {
        (row % series, row / series)
    }
}

impl SeriesTime {
    fn at<R: Rng + ?Sized>(&self, rng: &mut R, row: u64) -> i64 {
        let (_, point) = SeriesGen::split(self.series, row);
        let mut t = self.from + point as i64 * self.every;
        // Draw every random part regardless, so one share does not shift
        // the draws of the others.
        let jitter = rng.random_range(-self.jitter..=self.jitter);
        let (disorder, late) = (rng.random::<f64>(), rng.random::<f64>());
        let (back, late_by) = (rng.random_range(1..=10i64), rng.random_range(0..=self.late_by));
        t += jitter;
        if disorder < self.out_of_order {
            t -= back * self.every;
        }
        if late < self.late {
            t -= late_by;
        }
        t.max(self.from)
    }
}

impl SeriesValue {
    fn at<R: Rng + ?Sized>(&self, rng: &mut R, row: u64) -> f64 {
        let (s, point) = SeriesGen::split(self.series, row);
        let key = mix64(0x7761_6c6b ^ mix64(s));
        let mut v = self.start;
        if self.walk > 0.0 {
            v += self.walk * walk_at(key, point);
        }
        if self.amplitude != 0.0 && self.period > 0.0 {
            // Every series has its own phase.
            let phase = (key >> 11) as f64 / (1u64 << 53) as f64;
            let cycle = point as f64 / self.period + phase;
            v += self.amplitude * (std::f64::consts::TAU * cycle).sin();
        }
        if self.noise > 0.0 {
            v += self.noise * gaussian(rng.next_u64());
        }
        v
    }
}

/// An approximately standard normal number from 64 random bits: the sum of
/// four 16-bit uniforms (Irwin–Hall), centred and scaled to variance 1.
fn gaussian(bits: u64) -> f64 {
    let sum: f64 = (0..4).map(|k| ((bits >> (16 * k)) & 0xffff) as f64 / 65_536.0).sum();
    (sum - 2.0) * (3.0f64).sqrt()
}

/// Position `point` of a standard random walk (the sum of `point` steps of
/// variance 1) keyed by `key`, from the Brownian bridge: a node covering
/// 2^j steps with sum S splits into a left half with sum
/// S/2 + sqrt(2^j)/2 · Z and the rest, Z hashed from (key, level, node).
/// Every point of one key lies on the same walk.
pub fn walk_at(key: u64, point: u64) -> f64 {
    let point = point.min((1u64 << WALK_LEVELS) - 1);
    let z = |level: u32, node: u64| gaussian(mix64(key ^ mix64(((level as u64) << 40) ^ node)));
    let mut sum = ((1u64 << WALK_LEVELS) as f64).sqrt() * z(WALK_LEVELS, 0);
    let (mut acc, mut first) = (0.0, 0u64);
    for level in (1..=WALK_LEVELS).rev() {
        let half = 1u64 << (level - 1);
        let left = sum / 2.0 + ((1u64 << level) as f64).sqrt() / 2.0 * z(level, first >> level);
        if point < first + half {
            sum = left;
        } else {
            acc += left;
            sum -= left;
            first += half;
        }
    }
    acc
}

/// Names of the time-series generators' arguments, in positional order,
/// and whether each is required.
fn parameters(name: &str) -> &'static [(&'static str, bool)] {
    match name {
        "series" => &[("series", true)],
        "series_time" => &[
            ("from", true),
            ("every", true),
            ("series", true),
            ("jitter", false),
            ("out_of_order", false),
            ("late", false),
            ("late_by", false),
        ],
        _ => &[
            ("series", true),
            ("start", false),
            ("walk", false),
            ("amplitude", false),
            ("period", false),
            ("noise", false),
        ],
    }
}

/// Whether a generator takes `name: value` arguments.
pub(super) fn takes_labels(name: &str) -> bool {
    matches!(name, "series_time" | "series_value")
}

pub(super) fn build(
    name: &str,
    args: &[Arg],
    span: &std::ops::Range<usize>,
    ctx: &BuildCtx<'_>,
) -> Result<Generator, ExprError> {
    let names = parameters(name);
    let usage = super::generator::signature(name);
    let mut given: Vec<Option<&Arg>> = vec![None; names.len()];
    for (i, arg) in args.iter().enumerate() {
        let slot = match &arg.label {
            Some(label) => names.iter().position(|(n, _)| *n == label.text).ok_or_else(|| {
                let known: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
                ExprError::new(
                    label.span.clone(),
                    format!(
                        "`{name}` has no argument `{}` (it takes: {}); usage: {usage}",
                        label.text,
                        known.join(", ")
                    ),
                )
            })?,
            None if i < names.len() => i,
            None => {
                return Err(ExprError::new(
                    arg.value.span.clone(),
                    format!("`{name}` takes at most {} arguments; usage: {usage}", names.len()),
                ));
            }
        };
        if given[slot].replace(arg).is_some() {
            return Err(ExprError::new(
                arg.value.span.clone(),
                format!("`{name}`: `{}` is given twice", names[slot].0),
            ));
        }
    }
    if let Some((missing, _)) = names.iter().zip(&given).find(|((_, req), g)| *req && g.is_none()) {
        return Err(ExprError::new(
            span.clone(),
            format!("`{name}` needs `{}`; usage: {usage}", missing.0),
        ));
    }
    let number = |key: &str, default: f64, check: &dyn Fn(f64) -> Option<String>| -> Result<f64, ExprError> {
        let i = names.iter().position(|(n, _)| *n == key).expect("a known argument");
        let Some(arg) = given[i] else { return Ok(default) };
        let v = eval_number(&arg.value, ctx.params)?;
        match check(v) {
            Some(why) => Err(ExprError::new(
                arg.value.span.clone(),
                format!("`{key}` {why}, got {v}"),
            )),
            None => Ok(v),
        }
    };
    let series = number("series", 1.0, &|v| {
        (v.fract() != 0.0 || !(1.0..=1e9).contains(&v)).then(|| "must be a whole number from 1 to 1e9".into())
    })? as u64;
    let at_least_zero = |v: f64| (v < 0.0).then(|| "must be >= 0".to_string());
    let share = |v: f64| (!(0.0..=1.0).contains(&v)).then(|| "must be between 0 and 1".to_string());
    let micros = |s: f64| (s * MICROS as f64).round() as i64;
    match name {
        "series" => Ok(Generator::Series(Box::new(SeriesGen::Id {
            series,
            by_row: ctx.place == Place::Column,
        }))),
        "series_time" => {
            if ctx.place == Place::OpParam {
                return Err(ExprError::new(
                    span.clone(),
                    "series_time is for table columns (it follows the row number); for a time in an operation use \
                     timestamp(from, to), e.g. timestamp(2024-01-01, 2024-01-01 + days * 86400)",
                ));
            }
            let from_arg = given[0].expect("required");
            if !mentions_date(&from_arg.value) {
                return Err(ExprError::new(
                    from_arg.value.span.clone(),
                    "`from` must be a date such as 2024-01-01, or a date plus seconds (2024-01-01 + 3600)",
                ));
            }
            let from = eval_number(&from_arg.value, ctx.params)?;
            let every = number("every", 1.0, &|v| (v <= 0.0).then(|| "(seconds) must be > 0".into()))?;
            let limit = |v: f64| at_least_zero(v).or_else(|| (v > 1e9).then(|| "(seconds) must be at most 1e9".into()));
            Ok(Generator::Series(Box::new(SeriesGen::Time(SeriesTime {
                series,
                from: micros(from),
                every: micros(every).max(1),
                jitter: micros(number("jitter", 0.0, &limit)?),
                out_of_order: number("out_of_order", 0.0, &share)?,
                late: number("late", 0.0, &share)?,
                late_by: micros(number("late_by", 3600.0, &limit)?),
            }))))
        }
        _ => {
            if ctx.place == Place::OpParam {
                return Err(ExprError::new(
                    span.clone(),
                    "series_value is for table columns (it follows the row number); in an operation use float(lo, \
                     hi) or normal(mean, std_dev)",
                ));
            }
            let any = |_: f64| None;
            Ok(Generator::Series(Box::new(SeriesGen::Value(SeriesValue {
                series,
                start: number("start", 0.0, &any)?,
                walk: number("walk", 0.0, &at_least_zero)?,
                amplitude: number("amplitude", 0.0, &any)?,
                period: number("period", 0.0, &at_least_zero)?,
                noise: number("noise", 0.0, &at_least_zero)?,
            }))))
        }
    }
}

/// `timestamp(from, to)`: uniform over whole seconds; each end a date, or a
/// date plus seconds (`2024-01-01 + days * 86400`).
pub(super) fn build_timestamp(args: &[Arg], ctx: &BuildCtx<'_>) -> Result<Generator, ExprError> {
    let bad = |i: usize, msg: &str| ExprError::new(args[i].value.span.clone(), msg);
    let ts = |i: usize| match mentions_date(&args[i].value) {
        true => Ok(eval_number(&args[i].value, ctx.params)?.round() as i64),
        false => Err(bad(
            i,
            "expected a date such as 2024-01-01 or 2024-01-01T08:00:00, or a date plus seconds",
        )),
    };
    let (lo, hi) = (ts(0)?, ts(1)?);
    if lo >= hi {
        return Err(bad(1, "timestamp needs from < to"));
    }
    Ok(Generator::Timestamp(
        rand::distr::Uniform::new(lo, hi).map_err(|e| bad(0, &e.to_string()))?,
    ))
}

/// Whether an expression has a date in it (`2024-01-01 + days * 86400`).
pub(super) fn mentions_date(e: &crate::expr::Expr) -> bool {
    match &e.kind {
        ExprKind::Timestamp(_) => true,
        ExprKind::Neg(inner) => mentions_date(inner),
        ExprKind::Binary(_, a, b) => mentions_date(a) || mentions_date(b),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walk_is_one_walk_whose_steps_have_variance_one() {
        // Consecutive points differ by one step of a standard walk.
        let steps: Vec<f64> = (0..20_000u64).map(|p| walk_at(7, p + 1) - walk_at(7, p)).collect();
        let mean = steps.iter().sum::<f64>() / steps.len() as f64;
        let var = steps.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / steps.len() as f64;
        assert!(mean.abs() < 0.03, "mean step {mean}");
        assert!((var - 1.0).abs() < 0.05, "step variance {var}");
        assert_eq!(walk_at(7, 0), 0.0);
        // Over many keys, W(p) has variance p.
        let at = |p: u64| (0..4000u64).map(|k| walk_at(mix64(k), p).powi(2)).sum::<f64>() / 4000.0;
        for p in [16u64, 1000] {
            let v = at(p) / p as f64;
            assert!((v - 1.0).abs() < 0.1, "var W({p}) / {p} = {v}");
        }
    }

    #[test]
    fn rows_are_time_major_and_late_points_go_back_in_time() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        use rand::SeedableRng;
        let t = SeriesTime {
            series: 3,
            from: 0,
            every: 10 * MICROS,
            jitter: 0,
            out_of_order: 0.0,
            late: 0.0,
            late_by: 0,
        };
        let times: Vec<i64> = (0..9).map(|r| t.at(&mut rng, r)).collect();
        assert_eq!(times, [0, 0, 0, 10, 10, 10, 20, 20, 20].map(|s| s * MICROS));
        let id = SeriesGen::Id {
            series: 3,
            by_row: true,
        };
        let ids: Vec<Value> = (0..4).map(|r| id.sample(&mut rng, r)).collect();
        assert_eq!(ids, [1, 2, 3, 1].map(Value::Int));
        let disorderly = SeriesTime {
            out_of_order: 0.1,
            ..t.clone()
        };
        let back = (0..30_000u64)
            .filter(|&r| disorderly.at(&mut rng, r) < (r / 3) as i64 * 10 * MICROS)
            .count();
        assert!((2_600..3_400).contains(&back), "{back} of 30000 out of order");
    }
}
