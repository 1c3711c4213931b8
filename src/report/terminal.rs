//! The terminal summary printed after a run: one line per variant and
//! operation, then the verdict and where the report is.

use super::verdict::{Style, banners, sentence};
use crate::result::RunResult;
use crate::scenario::Metric;
use crate::util::{format_ns, format_ratio, sig3};
use std::fmt::Write as _;
use std::path::Path;

/// Renders the summary; `folder` is where the report was written.
pub fn render(r: &RunResult, folder: &Path) -> String {
    let mut out = String::new();
    for b in &r.backends {
        let width = b.variants.iter().map(|v| v.name.len()).max().unwrap_or(7).max(7);
        let opw = r.scenario.mix.iter().map(|m| m.op.len()).max().unwrap_or(2).max(2);
        let _ = writeln!(
            out,
            "\n{} {} — {} ({}; {})",
            b.backend, b.version, r.scenario.name, r.run.load_model, b.placement.summary
        );
        let _ = writeln!(
            out,
            "  {:width$}  {:opw$}  {:>9}  {:>9}  {:>9}  {:>9}  {:>7}  {:>12}",
            "variant", "op", "ops/s", "p50", "p99", "max", "errors", "p99 vs base"
        );
        for v in &b.variants {
            for o in &v.ops {
                let ratio = if v.name == r.scenario.verdict_rule.baseline {
                    format_ratio(1.0)
                } else {
                    r.comparison
                        .effect(b.backend, &v.name, Some(&o.op), Metric::P99)
                        .map_or_else(|| "—".into(), |e| format_ratio(e.ratio))
                };
                let _ = writeln!(
                    out,
                    "  {:width$}  {:opw$}  {:>9}  {:>9}  {:>9}  {:>9}  {:>7}  {:>12}",
                    v.name,
                    o.op,
                    sig3(o.throughput_per_s),
                    format_ns(o.latency_ns.p50 as f64),
                    format_ns(o.latency_ns.p99 as f64),
                    format_ns(o.latency_ns.max as f64),
                    o.errors.values().sum::<u64>(),
                    ratio
                );
            }
        }
        for line in crate::report::sweeps::lines(r, b) {
            let _ = writeln!(out, "  {line}");
        }
        for line in crate::report::groups::lines(b) {
            let _ = writeln!(out, "  {line}");
        }
        for v in &b.variants {
            for o in &v.ops {
                if let Some(recall) = &o.recall {
                    let _ = writeln!(
                        out,
                        "  {} {}: {}",
                        v.name,
                        o.op,
                        crate::report::verdict::recall_text(recall)
                    );
                }
            }
        }
        for v in &b.variants {
            for i in &v.unused_indexes {
                let _ = writeln!(
                    out,
                    "  unused index: {i} (added by {}) appears in no operation's plan",
                    v.name
                );
            }
        }
        if !b.answers.mismatches.is_empty() {
            let _ = writeln!(out, "  ANSWERS DIFFER:");
            for m in &b.answers.mismatches {
                let _ = writeln!(
                    out,
                    "    {} on {} ({}): {} (params {})",
                    m.variant,
                    m.op,
                    m.phase.label(),
                    m.detail,
                    m.params
                );
            }
        }
    }
    for banner in banners(&r.run, Style::Plain) {
        let _ = writeln!(out, "\n{banner}");
    }
    for v in &r.comparison.verdicts {
        let _ = writeln!(out, "\nVerdict: {}", sentence(v, Style::Plain));
    }
    let _ = writeln!(out, "\nReport: {}", folder.join("report.md").display());
    out
}
