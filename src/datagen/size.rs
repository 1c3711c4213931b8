//! How large generated data is, estimated from the generators alone (no
//! value is generated): the mean bytes each generator's values take, and a
//! table's bytes from its rows. Runs check it against free disk space
//! before loading, and `validate` prints it.

use super::generator::Generator;
use super::table::TablePlan;
use super::value::Value;

/// Longest generated text or bytes value (16 MiB): one value is built in
/// memory, so a `text()` of gigabytes would exhaust it.
pub const MAX_VALUE_LEN: i64 = 16 * 1024 * 1024;

/// Per-row overhead on disk beyond the values (PostgreSQL's tuple header and
/// line pointer; SQLite's record header and cell pointer are smaller).
const ROW_OVERHEAD: f64 = 28.0;

/// The bytes one value takes, about.
fn value_bytes(v: &Value) -> f64 {
    match v {
        Value::Null => 1.0,
        Value::Int(_) | Value::Float(_) | Value::Decimal { .. } | Value::Timestamp(_) => 8.0,
        Value::Text(t) => t.len() as f64 + 1.0,
        Value::Uuid(_) | Value::Interval { .. } | Value::Inet(_) => 16.0,
        Value::Json(j) => j.to_string().len() as f64 + 1.0,
        Value::Bytes(b) => b.len() as f64 + 1.0,
        Value::Array(items) => 8.0 + items.iter().map(value_bytes).sum::<f64>(),
        Value::Vector(v) => 8.0 + 4.0 * v.len() as f64,
    }
}

impl Generator {
    /// The mean bytes of one generated value, about (names, emails and
    /// JSON by their typical length).
    pub fn mean_bytes(&self) -> f64 {
        match self {
            Generator::Const(v) => value_bytes(v),
            Generator::Seq { .. }
            | Generator::UniformInt(_)
            | Generator::UniformFloat(_)
            | Generator::Decimal { .. }
            | Generator::Normal(_)
            | Generator::Zipf { .. }
            | Generator::Timestamp(_)
            | Generator::Ref { .. }
            | Generator::Series(_) => 8.0,
            Generator::Choice { labels, .. } => {
                labels.iter().map(value_bytes).sum::<f64>() / labels.len().max(1) as f64
            }
            Generator::Text { mean_len, .. } | Generator::Bytes { mean_len, .. } => mean_len + 1.0,
            Generator::Name(_) => 16.0,
            Generator::Email(_) => 28.0,
            Generator::Nullable { rate, inner } => rate + (1.0 - rate) * inner.mean_bytes(),
            Generator::Uuid { .. } | Generator::Interval(_) | Generator::Inet { .. } => 16.0,
            Generator::Json(fields) => {
                2.0 + fields
                    .iter()
                    .map(|(k, g)| k.len() as f64 + 4.0 + g.mean_bytes())
                    .sum::<f64>()
            }
            Generator::Array { item, mean_len, .. } => 8.0 + mean_len * item.mean_bytes(),
            Generator::Vector(m) => 8.0 + 4.0 * m.dim as f64,
            Generator::VectorFile { file, .. } => 8.0 + 4.0 * file.set.dim as f64,
        }
    }
}

/// The bytes of generated rows of `tables` on disk, about (values plus a
/// per-row overhead; indexes not included).
pub fn data_bytes(tables: &[TablePlan]) -> u64 {
    tables
        .iter()
        .map(|t| {
            let row = ROW_OVERHEAD + t.columns.iter().map(|c| c.generator.mean_bytes()).sum::<f64>();
            row * t.rows as f64
        })
        .sum::<f64>() as u64
}
