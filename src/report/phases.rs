//! Report sections for what a run measures beyond the rounds: the
//! equal-load phase the guards were judged on, and `[[evidence]]` readings.

use super::markdown::ratio_cell;
use crate::result::{BackendResult, RunResult};
use crate::scenario::Metric;
use crate::util::{format_ns, sig3};
use std::fmt::Write as _;

/// `[[evidence]]` readings per variant, if the scenario has any.
pub(super) fn evidence_section(md: &mut String, r: &RunResult, b: &BackendResult) {
    if r.scenario.evidence.is_empty() {
        return;
    }
    let baseline_name = &r.scenario.verdict_rule.baseline;
    let _ = writeln!(md, "## Evidence ({})\n", b.backend);
    let _ = writeln!(
        md,
        "Each `[[evidence]]` query on every measured round's copy, after its setup and after its window \
         (verdicts use the latter; — is NULL or no SQL for this backend).\n"
    );
    let _ = writeln!(
        md,
        "| evidence | variant | after setup | after the window | vs base |\n|---|---|---|---|---:|"
    );
    let list = |v: &[Option<f64>]| {
        v.iter()
            .map(|x| x.map_or_else(|| "—".to_string(), crate::util::format_number))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (index, q) in r.scenario.evidence.iter().enumerate() {
        let metric = Metric::Evidence(crate::scenario::EvidenceRef {
            index,
            higher_is_better: q.higher_is_better,
        });
        for v in &b.variants {
            let Some(e) = v.evidence.get(index) else { continue };
            let _ = writeln!(
                md,
                "| evidence.{} | {} | {} | {} | {} |",
                q.name,
                v.name,
                list(&e.after_setup),
                list(&e.after_run),
                if v.name == *baseline_name {
                    "baseline".to_string()
                } else {
                    ratio_cell(r.comparison.effect(b.backend, &v.name, None, metric))
                }
            );
        }
    }
    md.push('\n');
}

/// The equal-load phase the guards were judged on, if it ran.
pub(super) fn equal_load_section(md: &mut String, r: &RunResult, b: &BackendResult) {
    let Some(rate) = b.equal_load_rate_per_s else { return };
    let baseline_name = &r.scenario.verdict_rule.baseline;
    let _ = writeln!(md, "## At equal load ({})\n", b.backend);
    let _ = writeln!(
        md,
        "Guards are judged here. After the measured rounds every variant ran again on fresh copies, open-loop at \
         {rate} operations/s ({:.0}% of the slowest variant's throughput above), so a faster read path could not \
         change how many writes ran or how much CPU they had. Latency is service time, from each operation's \
         actual start; response time from the intended start is beside it.\n",
        crate::run::EQUAL_LOAD_FRACTION * 100.0
    );
    let _ = writeln!(
        md,
        "| op | variant | rounds | ops/s | service p50 | service p99 | response p99 | p50 vs base | p99 vs base |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|"
    );
    for m in &r.scenario.mix {
        for v in &b.variants {
            let Some(phase) = &v.equal_load else { continue };
            let Some(o) = phase.ops.iter().find(|o| o.op == m.op) else {
                continue;
            };
            let service = o.service_ns.unwrap_or(o.latency_ns);
            let cmp = |metric| {
                if v.name == *baseline_name {
                    return "baseline".to_string();
                }
                ratio_cell(
                    r.comparison
                        .effect_at_equal_load(b.backend, &v.name, Some(&m.op), metric),
                )
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                m.op,
                v.name,
                phase.rounds_completed,
                sig3(o.throughput_per_s),
                format_ns(service.p50 as f64),
                format_ns(service.p99 as f64),
                format_ns(o.latency_ns.p99 as f64),
                cmp(Metric::P50),
                cmp(Metric::P99),
            );
        }
    }
    md.push('\n');
}
