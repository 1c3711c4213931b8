//! Operation groups in reports: per variant, each group's offered and
//! achieved load ("ingest: 20,000 rows/s offered, 19,980 achieved in the
//! worst round, start lag p99 2.1 ms — held"), and the load of a variant's
//! own schema.

use crate::result::{BackendResult, GroupResult};
use crate::util::format_ns;

/// `x` with thousands separators, no decimals.
fn count(x: f64) -> String {
    crate::util::thousands(x.round() as u64)
}

/// One group in words.
pub fn describe(g: &GroupResult) -> String {
    let unit = |per_s: f64| match g.rows(per_s) {
        Some(rows) => format!("{} rows/s", count(rows)),
        None => format!("{} ops/s", count(per_s)),
    };
    let worst = g.worst_per_s();
    match (g.target_per_s, g.held) {
        (Some(target), Some(held)) => {
            let lag = g
                .schedule
                .as_ref()
                .map(|s| {
                    format!(
                        ", start lag p99 {}, {:.1}% late",
                        format_ns(s.lag_ns.p99 as f64),
                        100.0 * s.late_fraction
                    )
                })
                .unwrap_or_default();
            let verdict = if held {
                "held".to_string()
            } else {
                format!(
                    "NOT held: {} short ({:.1}% of the offered rate)",
                    unit(target - worst),
                    100.0 * worst / target
                )
            };
            format!(
                "{}: {} offered, {} achieved in the worst round{lag} — {verdict}",
                g.name,
                unit(target),
                unit(worst)
            )
        }
        _ => format!("{} ({}): {} in the worst round", g.name, g.load, unit(worst.max(0.0))),
    }
}

/// One line per variant and group on `b`, and per variant with its own schema.
pub fn lines(b: &BackendResult) -> Vec<String> {
    let mut out = Vec::new();
    for v in &b.variants {
        for g in &v.groups {
            out.push(format!("`{}` {}", v.name, describe(g)));
        }
        if let Some(l) = &v.own_load {
            out.push(format!(
                "`{}` loaded its own schema: {} rows in {:.2} s ({} rows/s)",
                v.name,
                count(l.rows as f64),
                l.seconds,
                count(l.rows_per_sec)
            ));
        }
    }
    out
}
