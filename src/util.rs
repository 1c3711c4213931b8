//! Small shared helpers: serde adapters and human-readable formatting.

use std::time::Duration;

/// Serialises a `Duration` as whole milliseconds (`warmup_ms`-style fields).
pub mod duration_ms {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

/// `text` on one line, whitespace folded, cut to `max` characters with "…".
pub fn one_line(text: &str, max: usize) -> String {
    let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if folded.chars().count() <= max {
        return folded;
    }
    let mut cut: String = folded.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Serialises an optional `Duration` as whole milliseconds or null.
pub mod option_duration_ms {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Option::<u64>::deserialize(d).map(|ms| ms.map(Duration::from_millis))
    }

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_u64(d.as_millis() as u64),
            None => s.serialize_none(),
        }
    }
}

/// Formats nanoseconds with a unit that keeps three significant digits.
/// For `skip_serializing_if`: a zero count.
pub fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A whole number with a comma every three digits: `20,000`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn format_ns(ns: f64) -> String {
    if ns < 1_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 1_000_000.0 {
        format!("{} µs", sig3(ns / 1_000.0))
    } else if ns < 1_000_000_000.0 {
        format!("{} ms", sig3(ns / 1_000_000.0))
    } else {
        format!("{} s", sig3(ns / 1_000_000_000.0))
    }
}

/// Formats a byte count in binary units.
pub fn format_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{} {}", sig3(v), UNITS[unit])
    }
}

/// Formats a duration in seconds or milliseconds.
pub fn format_duration(d: Duration) -> String {
    format_ns(d.as_nanos() as f64)
}

/// Three significant digits without scientific notation.
pub fn sig3(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A user's number (evidence readings): whole numbers exactly ("40",
/// "1048576"), others to three significant digits.
pub fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        sig3(v)
    }
}

/// A ratio as "0.31×".
pub fn format_ratio(r: f64) -> String {
    if !r.is_finite() {
        "n/a".to_string()
    } else {
        let decimals = ratio_decimals(r);
        format!("{r:.decimals$}×")
    }
}

/// Decimals [`format_ratio`] shows: one from 10×, two from 0.1×, and two
/// significant digits below (0.012×).
fn ratio_decimals(r: f64) -> usize {
    if r >= 10.0 {
        1
    } else if r >= 0.1 || r <= 0.0 {
        2
    } else {
        (-r.log10()).ceil() as usize + 1
    }
}

/// `r` rounded as [`format_ratio`] shows it, so a limit is checked against
/// the figure the reader sees (1.2534 shows as 1.25× and passes a 1.25× limit).
pub fn shown_ratio(r: f64) -> f64 {
    if !r.is_finite() {
        return r;
    }
    let scale = 10f64.powi(ratio_decimals(r) as i32);
    (r * scale).round() / scale
}

/// A change as "+12%" / "-40%".
pub fn format_change(ratio: f64) -> String {
    if !ratio.is_finite() {
        return "n/a".to_string();
    }
    let pct = (ratio - 1.0) * 100.0;
    if pct.abs() < 0.5 {
        "±0%".to_string()
    } else {
        format!("{pct:+.0}%")
    }
}

/// An error and its causes on one line, each once: `a: b: c`.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let part = c.to_string();
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = c.source();
    }
    text
}

/// The two-sided `level` quantile of Student's t with `df` degrees of freedom.
pub fn t_quantile(df: usize, level: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    StudentsT::new(0.0, 1.0, df as f64)
        .expect("degrees of freedom are at least 1")
        .inverse_cdf(1.0 - (1.0 - level) / 2.0)
}

/// The mean of `values` with its two-sided 95% Student's t interval (`None`
/// with fewer than two values).
pub fn mean_interval(values: &[f64]) -> (f64, Option<(f64, f64)>) {
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n.max(1) as f64;
    if n < 2 {
        return (mean, None);
    }
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let half = t_quantile(n - 1, 0.95) * (var / n as f64).sqrt();
    (mean, Some((mean - half, mean + half)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_keep_three_significant_digits() {
        assert_eq!(format_ns(850.0), "850 ns");
        assert_eq!(format_ns(48_213.0), "48.2 µs");
        assert_eq!(format_ns(1_550_000.0), "1.55 ms");
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(3 * 1024 * 1024 + 1), "3.00 MiB");
        assert_eq!(format_change(1.12), "+12%");
        assert_eq!(format_change(0.6), "-40%");
        assert_eq!(format_ratio(0.0312), "0.031×");
        assert_eq!(format_ratio(0.00123), "0.0012×");
        assert_eq!(format_ratio(0.5), "0.50×");
        assert_eq!(format_ratio(12.345), "12.3×");
        assert_eq!(shown_ratio(1.2534), 1.25);
        assert_eq!(shown_ratio(1.2551), 1.26);
        assert_eq!(shown_ratio(0.01234), 0.012);
    }
}
