//! The values generators produce and backends bind: one small enum shared by
//! data loading, operation parameters and answer comparison.

use std::fmt::{self, Write as _};

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Float(f64),
    /// A fixed-point decimal: `units / 10^scale` (e.g. 1234 with scale 2 is 12.34).
    Decimal {
        units: i64,
        scale: u8,
    },
    Text(String),
    /// Microseconds since the Unix epoch, UTC.
    Timestamp(i64),
    /// A UUID's 16 bytes.
    Uuid([u8; 16]),
    /// A JSON document.
    Json(serde_json::Value),
    /// Raw bytes (PostgreSQL `bytea`, SQLite BLOB).
    Bytes(Vec<u8>),
    /// An interval as PostgreSQL keeps it: months, days and microseconds.
    Interval {
        months: i32,
        days: i32,
        micros: i64,
    },
    /// An IP address (PostgreSQL `inet`).
    Inet(std::net::IpAddr),
    /// An array of values (PostgreSQL arrays; JSON text on SQLite).
    Array(Vec<Value>),
    /// A vector of floats (pgvector's `vector`, `halfvec`, `sparsevec`).
    Vector(Vec<f32>),
}

/// Microseconds in a second.
pub const MICROS: i64 = 1_000_000;

impl Value {
    /// What kind of value this is, for messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Decimal { .. } => "a decimal",
            Value::Text(_) => "text",
            Value::Timestamp(_) => "a timestamp",
            Value::Uuid(_) => "a UUID",
            Value::Json(_) => "a JSON document",
            Value::Bytes(_) => "bytes",
            Value::Interval { .. } => "an interval",
            Value::Inet(_) => "an IP address",
            Value::Array(_) => "an array",
            Value::Vector(_) => "a vector",
        }
    }

    /// An exact decimal from its text (`-12.340`), if its digits fit.
    pub fn parse_decimal(text: &str) -> Option<Value> {
        let (int, frac) = text.split_once('.').unwrap_or((text, ""));
        let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        let unsigned = int.strip_prefix('-').unwrap_or(int);
        if unsigned.is_empty() || !digits_ok(unsigned) || !digits_ok(frac) || frac.len() > 18 {
            return None;
        }
        let units = format!("{int}{frac}").parse::<i64>().ok()?;
        Some(Value::Decimal {
            units,
            scale: frac.len() as u8,
        })
    }

    /// The value for messages and reports: vectors abbreviated to their
    /// first values and length.
    pub fn brief(&self) -> String {
        match self {
            Value::Vector(xs) if xs.len() > 4 => {
                let head: Vec<String> = xs.iter().take(3).map(|x| format!("{x:.3}")).collect();
                format!("[{}, … ({} values)]", head.join(", "), xs.len())
            }
            _ => self.to_string(),
        }
    }

    /// The value as JSON (arrays and vectors on SQLite, JSON documents).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Int(i) => J::from(*i),
            Value::Float(f) => J::from(*f),
            Value::Json(j) => j.clone(),
            Value::Array(items) => J::Array(items.iter().map(Value::to_json).collect()),
            Value::Vector(xs) => J::Array(xs.iter().map(|x| J::from(*x)).collect()),
            Value::Text(t) => J::String(t.clone()),
            other => J::String(other.to_string()),
        }
    }

    /// The decimal as a float, for backends without a decimal type.
    pub fn decimal_as_f64(units: i64, scale: u8) -> f64 {
        units as f64 / 10f64.powi(scale as i32)
    }

    /// Feeds a canonical, type-tagged encoding into a checksum, so equal data
    /// gives equal checksums on every platform.
    pub fn checksum_into(&self, sum: &mut Checksum) {
        match self {
            Value::Null => sum.update(&[0]),
            Value::Int(v) => {
                sum.update(&[1]);
                sum.update(&v.to_le_bytes());
            }
            Value::Float(v) => {
                sum.update(&[2]);
                sum.update(&v.to_bits().to_le_bytes());
            }
            Value::Decimal { units, scale } => {
                sum.update(&[3, *scale]);
                sum.update(&units.to_le_bytes());
            }
            Value::Text(s) => {
                sum.update(&[4]);
                sum.update(&(s.len() as u64).to_le_bytes());
                sum.update(s.as_bytes());
            }
            Value::Timestamp(t) => {
                sum.update(&[5]);
                sum.update(&t.to_le_bytes());
            }
            Value::Uuid(u) => {
                sum.update(&[6]);
                sum.update(u);
            }
            Value::Json(j) => {
                let text = j.to_string();
                sum.update(&[7]);
                sum.update(&(text.len() as u64).to_le_bytes());
                sum.update(text.as_bytes());
            }
            Value::Bytes(b) => {
                sum.update(&[8]);
                sum.update(&(b.len() as u64).to_le_bytes());
                sum.update(b);
            }
            Value::Interval { months, days, micros } => {
                sum.update(&[9]);
                sum.update(&months.to_le_bytes());
                sum.update(&days.to_le_bytes());
                sum.update(&micros.to_le_bytes());
            }
            Value::Inet(ip) => {
                sum.update(&[10]);
                match ip {
                    std::net::IpAddr::V4(a) => sum.update(&a.octets()),
                    std::net::IpAddr::V6(a) => sum.update(&a.octets()),
                }
            }
            Value::Array(items) => {
                sum.update(&[11]);
                sum.update(&(items.len() as u64).to_le_bytes());
                for item in items {
                    item.checksum_into(sum);
                }
            }
            Value::Vector(xs) => {
                sum.update(&[12]);
                sum.update(&(xs.len() as u64).to_le_bytes());
                // Two floats per step: byte-at-a-time FNV over 512-byte
                // embeddings was the largest client cost of loading them.
                let pairs = xs.chunks_exact(2);
                let last = pairs.remainder().first().map(|x| x.to_bits() as u64);
                sum.update_words(
                    pairs
                        .map(|p| (p[0].to_bits() as u64) | ((p[1].to_bits() as u64) << 32))
                        .chain(last),
                );
            }
        }
    }
}

/// Writes a timestamp (microseconds since the epoch) as `YYYY-MM-DD
/// HH:MM:SS` in UTC, with `.ffffff` when it has a fraction of a second: the
/// text form SQLite's date functions understand.
pub fn write_timestamp(out: &mut String, micros: i64) {
    let secs = micros.div_euclid(MICROS);
    let frac = micros.rem_euclid(MICROS);
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        tod / 3600,
        (tod / 60) % 60,
        tod % 60
    );
    if frac != 0 {
        let _ = write!(out, ".{frac:06}");
    }
}

/// [`write_timestamp`] with an explicit UTC offset, so PostgreSQL reads the
/// same instant whatever the session's time zone (`timestamp` columns
/// ignore the offset).
pub fn write_pg_timestamp(out: &mut String, micros: i64) {
    write_timestamp(out, micros);
    out.push_str("+00");
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day);
/// Howard Hinnant's `civil_from_days` algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Int(v) => write!(f, "{v}"),
            Value::Float(v) => write!(f, "{v}"),
            Value::Decimal { units, scale } => {
                let p = 10i64.pow(*scale as u32);
                let sign = if *units < 0 { "-" } else { "" };
                let a = units.unsigned_abs();
                if *scale == 0 {
                    write!(f, "{sign}{a}")
                } else {
                    write!(
                        f,
                        "{sign}{}.{:0width$}",
                        a / p as u64,
                        a % p as u64,
                        width = *scale as usize
                    )
                }
            }
            Value::Text(s) => write!(f, "'{s}'"),
            Value::Timestamp(t) => {
                let mut s = String::with_capacity(26);
                write_timestamp(&mut s, *t);
                f.write_str(&s)
            }
            Value::Uuid(u) => write!(f, "{}", uuid::Uuid::from_bytes(*u)),
            Value::Json(j) => write!(f, "{j}"),
            Value::Bytes(b) => {
                f.write_str("\\x")?;
                b.iter().try_for_each(|x| write!(f, "{x:02x}"))
            }
            Value::Interval { months, days, micros } => {
                let sign = if *micros < 0 { "-" } else { "" };
                let a = micros.unsigned_abs();
                let secs = a / 1_000_000;
                write!(
                    f,
                    "{months} mons {days} days {sign}{:02}:{:02}:{:02}.{:06}",
                    secs / 3600,
                    (secs / 60) % 60,
                    secs % 60,
                    a % 1_000_000
                )
            }
            Value::Inet(ip) => write!(f, "{ip}"),
            Value::Array(_) | Value::Vector(_) => write!(f, "{}", self.to_json()),
        }
    }
}

/// 64-bit FNV-1a: stable across Rust versions and platforms (unlike std's
/// `DefaultHasher`), which is what a data checksum must be.
#[derive(Debug, Clone, Copy)]
pub struct Checksum(u64);

impl Default for Checksum {
    fn default() -> Self {
        Checksum(0xcbf2_9ce4_8422_2325)
    }
}

impl Checksum {
    pub fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// Folds in 64-bit words (FNV's multiply, then a shift so high bits
    /// reach the low ones): eight times fewer steps than bytes.
    pub fn update_words(&mut self, words: impl Iterator<Item = u64>) {
        for w in words {
            self.0 = (self.0 ^ w).wrapping_mul(0x0100_0000_01b3);
            self.0 ^= self.0 >> 29;
        }
    }

    pub fn value(&self) -> u64 {
        self.0
    }

    /// The checksum as 16 lowercase hex digits, as reports show it.
    pub fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_format_like_sql() {
        let mut s = String::new();
        write_timestamp(&mut s, 1_735_734_600 * MICROS);
        assert_eq!(s, "2025-01-01 12:30:00");
        s.clear();
        write_timestamp(&mut s, -1);
        assert_eq!(s, "1969-12-31 23:59:59.999999");
        s.clear();
        write_timestamp(&mut s, 951_782_400 * MICROS + 5); // leap day 2000
        assert_eq!(s, "2000-02-29 00:00:00.000005");
        s.clear();
        write_pg_timestamp(&mut s, 0);
        assert_eq!(s, "1970-01-01 00:00:00+00");
    }

    #[test]
    fn decimals_display_with_their_scale() {
        assert_eq!(Value::Decimal { units: 1234, scale: 2 }.to_string(), "12.34");
        assert_eq!(Value::Decimal { units: -5, scale: 2 }.to_string(), "-0.05");
        assert_eq!(Value::Decimal { units: 7, scale: 0 }.to_string(), "7");
    }

    #[test]
    fn checksum_distinguishes_types_with_equal_bytes() {
        let sum = |v: Value| {
            let mut c = Checksum::default();
            v.checksum_into(&mut c);
            c.value()
        };
        assert_ne!(sum(Value::Int(5)), sum(Value::Timestamp(5)));
        assert_ne!(sum(Value::Text("a".into())), sum(Value::Text("b".into())));
    }
}
