//! `report.md`: the verdict first, then per-operation tables with ratios
//! against the baseline, storage and setup, load, and the environment.

use super::verdict::{Style, banners, sentence};
use crate::result::{BackendResult, Effect, RunResult, VariantResult};
use crate::scenario::Metric;
use crate::util::{format_bytes, format_ns, format_ratio, sig3};
use std::fmt::Write as _;

pub(super) fn ratio_cell(e: Option<&Effect>) -> String {
    match e {
        Some(e) => match (e.ci_low, e.ci_high) {
            (Some(lo), Some(hi)) => format!(
                "{} [{}–{}] {}",
                format_ratio(e.ratio),
                format_ratio(lo),
                format_ratio(hi),
                e.class.label()
            ),
            _ => format!("{} {}", format_ratio(e.ratio), e.class.label()),
        },
        None => "—".into(),
    }
}

fn errors_cell(v: &VariantResult, op: &str) -> String {
    let Some(o) = v.op(op) else {
        return "—".into();
    };
    if o.errors.is_empty() {
        return "0".into();
    }
    o.errors
        .iter()
        .map(|(class, n)| format!("{n} {}", class.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Renders the Markdown report.
pub fn render(r: &RunResult) -> String {
    let mut md = String::new();
    let sc = &r.scenario;
    let _ = writeln!(md, "# {}\n\n**Question:** {}\n", sc.name, sc.question);
    if let Some(rule) = &sc.rule {
        let _ = writeln!(md, "**Rule tested:** {rule}\n");
    }
    for banner in banners(&r.run, Style::Markdown) {
        let _ = writeln!(md, "> {banner}\n");
    }
    let _ = writeln!(md, "## Verdict\n");
    for v in &r.comparison.verdicts {
        let _ = writeln!(md, "{}\n", sentence(v, Style::Markdown));
    }
    if r.comparison.verdicts.is_empty() {
        let _ = writeln!(md, "No verdict: nothing was measured.\n");
    }
    let load = &sc.load;
    let _ = writeln!(
        md,
        "Run `{}`: workload `{}`, seed {}, {}, warmup {} s, measured {} s × {} rounds \
         (variants in a balanced order rotated each round, order seed {}).\n",
        r.run.id,
        sc.workload,
        r.seed,
        r.run.load_model,
        load.warmup.as_secs_f64(),
        load.duration.as_secs_f64(),
        load.rounds,
        r.order_seed,
    );
    if let Some(line) = shard_line(r) {
        let _ = writeln!(md, "{line}\n");
    }
    let params: Vec<String> = sc.params.iter().map(|(k, v)| format!("{k} = {v}")).collect();
    let mix: Vec<String> = sc.mix.iter().map(|m| format!("{} {}", m.op, m.weight)).collect();
    let _ = writeln!(md, "Scale: {}. Mix: {}.\n", params.join(", "), mix.join(", "));
    let mut versions = vec![format!(
        "schemabench {} ({})",
        r.environment.harness_version, r.environment.harness_commit
    )];
    versions.extend(r.backends.iter().map(|b| format!("{} {}", b.backend, b.version)));
    let _ = writeln!(
        md,
        "Reproduce ({}): `{}`\n",
        versions.join(", "),
        super::exports::reproduce(r)
    );

    for b in &r.backends {
        backend_section(&mut md, r, b);
    }
    cross_engine_section(&mut md, r);
    environment_section(&mut md, r);
    md
}

/// Which part of a sharded run this is, or what was merged.
fn shard_line(r: &RunResult) -> Option<String> {
    let info = r.run.shard.as_ref()?;
    Some(match info.index {
        Some(k) => format!(
            "Shard {k} of {} of sharded run `{}`: this shard's share of the clients only; `schemabench merge` the {} \
             shards' folders for the run's figures.",
            info.count, info.key, info.count
        ),
        None => {
            let parts: Vec<String> = info
                .parts
                .iter()
                .map(|p| {
                    format!(
                        "{} `{}` on {} ({} CPUs, window starts within {:.1} ms of shard 1)",
                        p.index, p.run_id, p.environment.hostname, p.environment.cpus, p.start_skew_ms
                    )
                })
                .collect();
            format!(
                "Merged from {} shards of sharded run `{}` (histograms added, timelines summed by wall-clock \
                 second): {}.",
                info.count,
                info.key,
                parts.join("; ")
            )
        }
    })
}

fn backend_section(md: &mut String, r: &RunResult, b: &BackendResult) {
    let baseline_name = &r.scenario.verdict_rule.baseline;
    let _ = writeln!(md, "## Answers ({})\n", b.backend);
    let a = &b.answers;
    let when = if a.writes_applied > 0 {
        format!(
            ", before any write and again after the same {} writes on fresh copies",
            a.writes_applied
        )
    } else {
        String::new()
    };
    if a.mismatches.is_empty() {
        let _ = writeln!(
            md,
            "Every variant returned the baseline's rows for {} ({} parameter samples each{when}).\n",
            if a.checked_ops.is_empty() {
                "no read operations".to_string()
            } else {
                a.checked_ops.join(", ")
            },
            a.samples_per_op
        );
    } else {
        let _ = writeln!(md, "**Answers differ — these variants are not comparable:**\n");
        let _ = writeln!(
            md,
            "| op | variant | when | differing samples | first difference | parameters |\n|---|---|---|---|---|---|"
        );
        for m in &a.mismatches {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {}/{} | {} | {} |",
                m.op,
                m.variant,
                m.phase.label(),
                m.differing_samples,
                m.samples,
                m.detail,
                m.params
            );
        }
        md.push('\n');
    }
    if !a.unchecked_ops.is_empty() {
        let _ = writeln!(
            md,
            "Not checked (`check = \"none\"`): {}.\n",
            a.unchecked_ops.join(", ")
        );
    }
    if !a.recall_ops.is_empty() {
        let _ = writeln!(
            md,
            "Judged by recall against exact neighbours the harness computed, not row by row: {}.\n",
            a.recall_ops.join(", ")
        );
    }
    let sweeps = crate::report::sweeps::lines(r, b);
    if !sweeps.is_empty() {
        let _ = writeln!(md, "## Sweeps ({})\n", b.backend);
        for line in sweeps {
            let _ = writeln!(md, "- {line}");
        }
        md.push('\n');
    }

    let groups = crate::report::groups::lines(b);
    if !groups.is_empty() {
        let _ = writeln!(md, "## Load groups and own schemas ({})\n", b.backend);
        for line in groups {
            let _ = writeln!(md, "- {line}");
        }
        md.push('\n');
    }

    let _ = writeln!(md, "## Operations ({})\n", b.backend);
    let _ = writeln!(
        md,
        "Latency per operation, all rounds merged; ratios are against `{baseline_name}` with their 95% interval across rounds and a classification against the ±{:.0}% noise band (docs/method.md).\n",
        r.scenario.verdict_rule.noise * 100.0
    );
    if r.scenario.load.model.is_open() {
        let _ = writeln!(
            md,
            "Open loop: latencies are response times from each operation's intended start (coordinated omission \
             corrected); service times, from the actual start, are listed below each table.\n"
        );
    }
    for m in &r.scenario.mix {
        let kind = match m.kind {
            crate::scenario::OpKind::Read => "read",
            crate::scenario::OpKind::Write => "write",
        };
        let _ = writeln!(md, "### {} (weight {}, {kind})\n", m.op, m.weight);
        for sql in &m.sql {
            let _ = writeln!(md, "`{}`\n", sql.split_whitespace().collect::<Vec<_>>().join(" "));
        }
        let _ = writeln!(
            md,
            "| variant | ops | ops/s | p50 | p90 | p99 | p99.9 | max | errors | p50 vs base | p99 vs base | ops/s vs base |\n\
             |---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|"
        );
        for v in &b.variants {
            let Some(o) = v.op(&m.op) else { continue };
            let l = o.latency_ns;
            let is_base = v.name == *baseline_name;
            let cmp = |metric| {
                if is_base {
                    return "baseline".to_string();
                }
                ratio_cell(r.comparison.effect(b.backend, &v.name, Some(&m.op), metric))
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                v.name,
                o.count,
                sig3(o.throughput_per_s),
                format_ns(l.p50 as f64),
                format_ns(l.p90 as f64),
                format_ns(l.p99 as f64),
                format_ns(l.p999 as f64),
                format_ns(l.max as f64),
                errors_cell(v, &m.op),
                cmp(Metric::P50),
                cmp(Metric::P99),
                cmp(Metric::Throughput),
            );
        }
        md.push('\n');
        for v in &b.variants {
            if let Some(recall) = v.op(&m.op).and_then(|o| o.recall.as_ref()) {
                let _ = writeln!(md, "- `{}` {}", v.name, crate::report::verdict::recall_text(recall));
            }
        }
        for v in &b.variants {
            if let Some(s) = v.op(&m.op).and_then(|o| o.service_ns) {
                let _ = writeln!(
                    md,
                    "- `{}` service time p50 {}, p99 {}, max {}",
                    v.name,
                    format_ns(s.p50 as f64),
                    format_ns(s.p99 as f64),
                    format_ns(s.max as f64)
                );
            }
        }
        for v in &b.variants {
            if let Some(sched) = v.schedule.as_ref().filter(|_| m.op == r.scenario.mix[0].op) {
                let _ = writeln!(
                    md,
                    "- `{}` schedule: {} operations due, {} late ({:.2}%), start lag p99 {}",
                    v.name,
                    sched.scheduled,
                    sched.late,
                    sched.late_fraction * 100.0,
                    format_ns(sched.lag_ns.p99 as f64)
                );
            }
        }
        for v in &b.variants {
            if let Some(e) = v.op(&m.op).and_then(|o| o.first_error.as_ref()) {
                let _ = writeln!(md, "- `{}` first error: {e}", v.name);
            }
        }
    }

    super::phases::equal_load_section(md, r, b);
    super::phases::evidence_section(md, r, b);

    let _ = writeln!(md, "## Storage and setup ({})\n", b.backend);
    let _ = writeln!(
        md,
        "| variant | total size | vs base | setup | analyze | copy of base | WAL per write | buffer hit ratio | objects |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---|"
    );
    for v in &b.variants {
        let objects: Vec<String> = v
            .sizes
            .objects
            .iter()
            .map(|o| {
                let parts = match o.parts {
                    0 => String::new(),
                    n => format!(" in {n} partitions/chunks"),
                };
                if o.toast_bytes > 0 {
                    format!(
                        "{} {}{parts} (+{} TOAST)",
                        o.name,
                        format_bytes(o.bytes),
                        format_bytes(o.toast_bytes)
                    )
                } else {
                    format!("{} {}{parts}", o.name, format_bytes(o.bytes))
                }
            })
            .collect();
        let counters = v.server_counters.as_ref();
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            v.name,
            format_bytes(v.sizes.total_bytes),
            if v.name == *baseline_name {
                "baseline".to_string()
            } else {
                ratio_cell(r.comparison.effect(b.backend, &v.name, None, Metric::Storage))
            },
            if v.setup.statement_seconds.is_empty() {
                "—".to_string()
            } else {
                format_ns(v.setup.setup_seconds * 1e9)
            },
            format_ns(v.setup.analyze_seconds * 1e9),
            format_ns(v.setup.clone_seconds * 1e9),
            counters
                .and_then(|c| c.wal_bytes_per_write)
                .map_or("—".into(), |w| format_bytes(w as u64)),
            counters
                .and_then(|c| c.buffer_hit_ratio)
                .map_or("—".into(), |h| format!("{:.2}%", h * 100.0)),
            objects.join(", ")
        );
    }
    md.push('\n');

    fn equal_warnings(v: &VariantResult) -> Vec<&crate::result::Warning> {
        v.equal_load.iter().flat_map(|e| &e.warnings).collect()
    }
    let warned: Vec<&VariantResult> = b
        .variants
        .iter()
        .filter(|v| !v.warnings.is_empty() || !equal_warnings(v).is_empty())
        .collect();
    if !warned.is_empty() {
        let _ = writeln!(md, "## Warnings ({})\n", b.backend);
        for v in warned {
            for w in &v.warnings {
                let _ = writeln!(md, "- `{}`: {w}", v.name);
            }
            for w in equal_warnings(v) {
                let _ = writeln!(md, "- `{}` at equal load: {w}", v.name);
            }
        }
        md.push('\n');
    }
    let _ = writeln!(md, "## Plans ({})\n", b.backend);
    for v in &b.variants {
        for i in &v.unused_indexes {
            let _ = writeln!(
                md,
                "> **Unused index:** `{i}`, added by `{}`, appears in no operation's plan.\n",
                v.name
            );
        }
    }
    // Collapsed where Markdown renders HTML (GitHub, most design-doc tools).
    let _ = writeln!(
        md,
        "<details><summary>Plans of every operation on every variant</summary>\n"
    );
    let _ = writeln!(md, "| variant | op | plan (sample parameters) |\n|---|---|---|");
    for v in &b.variants {
        for p in &v.plans {
            let _ = writeln!(
                md,
                "| {} | {} | {} ({}) |",
                v.name,
                p.op,
                p.summary().replace('|', "\\|"),
                p.params
            );
        }
    }
    md.push_str("\n</details>\n\n");

    if b.variants.iter().any(|v| v.slo.is_some()) {
        let _ = writeln!(md, "## Maximum throughput at the SLO ({})\n", b.backend);
        let _ = writeln!(
            md,
            "| variant | op | p99 target | max rate held | probes (rate: p99, late) |\n|---|---|---:|---:|---|"
        );
        for v in &b.variants {
            let Some(s) = &v.slo else { continue };
            let probes: Vec<String> = s
                .probes
                .iter()
                .map(|p| {
                    format!(
                        "{}/s: {} {:.1}%{}",
                        p.rate_per_s,
                        format_ns(p.p99_ns as f64),
                        p.late_fraction * 100.0,
                        if p.held { "" } else { " ✗" }
                    )
                })
                .collect();
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                v.name,
                s.op,
                format_ns(s.target_p99_ns as f64),
                match s.max_rate_per_s {
                    Some(r) if s.capped => format!("≥ {r}/s (search cap)"),
                    Some(r) => format!("{r}/s"),
                    None => "below the start rate".into(),
                },
                probes.join("; ")
            );
        }
        md.push('\n');
    }
    let _ = writeln!(md, "## Load ({})\n", b.backend);
    let _ = writeln!(
        md,
        "{} rows in {} s: **{} rows/s**. Data checksum `{}`.\n",
        b.load.rows,
        sig3(b.load.seconds),
        sig3(b.load.rows_per_sec),
        b.load.data_checksum
    );
    let _ = writeln!(
        md,
        "| table | rows | seconds | rows/s | checksum |\n|---|---:|---:|---:|---|"
    );
    for t in &b.load.tables {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | `{}` |",
            t.table,
            t.rows,
            sig3(t.seconds),
            sig3(t.rows_per_sec),
            t.checksum
        );
    }
    md.push('\n');
    if !b.round_order.is_empty() {
        let orders: Vec<String> = b.round_order.iter().map(|o| o.join(" → ")).collect();
        let _ = writeln!(md, "Round order: {}.\n", orders.join("; "));
    }
}

fn environment_section(md: &mut String, r: &RunResult) {
    let e = &r.environment;
    let _ = writeln!(md, "## Environment\n");
    let _ = writeln!(
        md,
        "- Host: {} ({} CPUs, {} memory), {}",
        e.cpu_model,
        e.cpus,
        format_bytes(e.memory_bytes),
        e.os
    );
    let _ = writeln!(
        md,
        "- Harness: schemabench {} (commit {}), client {}",
        e.harness_version, e.harness_commit, e.client_placement
    );
    for b in &r.backends {
        let _ = writeln!(
            md,
            "- {} {}: {}; client placement: {}",
            b.backend, b.version, b.server, b.placement.summary
        );
        if !b.relaxed_durability.is_empty() {
            let _ = writeln!(
                md,
                "  - **Durability relaxed: {}** — results do not reflect a crash-safe configuration",
                b.relaxed_durability.join(", ")
            );
        }
        let settings: Vec<String> = b.settings.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        let _ = writeln!(md, "  - settings: {}", settings.join(", "));
    }
    if let Some(rss) = r.run.peak_rss_bytes {
        let _ = writeln!(md, "- Peak harness memory (RSS): {}", format_bytes(rss));
    }
    let _ = writeln!(md, "- Started {}, finished {}", r.run.started_at, r.run.finished_at);
    let _ = writeln!(
        md,
        "- Scenario file: `{}`; workload file: `{}`",
        r.scenario.path, r.scenario.workload_path
    );
}

fn cross_engine_section(md: &mut String, r: &RunResult) {
    let Some(first) = r.comparison.across_engines.first() else {
        return;
    };
    let (a, b) = (first.first, first.second);
    let (Some(ra), Some(rb)) = (r.backend(a), r.backend(b)) else {
        return;
    };
    let _ = writeln!(md, "## Across engines ({b} vs {a})\n");
    let _ = writeln!(
        md,
        "The same variant on both engines; ratios are {b} / {a} (below 1: {b} is faster).\n"
    );
    let _ = writeln!(
        md,
        "| variant | op | {a} p50 | {b} p50 | p50 ratio | {a} p99 | {b} p99 | p99 ratio | ops/s ratio |\n|---|---|---:|---:|---:|---:|---:|---:|---:|"
    );
    let ratio = |x: Option<f64>| x.map_or_else(|| "—".to_string(), format_ratio);
    for x in &r.comparison.across_engines {
        let (Some(oa), Some(ob)) = (
            ra.variant(&x.variant).and_then(|v| v.op(&x.op)),
            rb.variant(&x.variant).and_then(|v| v.op(&x.op)),
        ) else {
            continue;
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            x.variant,
            x.op,
            format_ns(oa.latency_ns.p50 as f64),
            format_ns(ob.latency_ns.p50 as f64),
            ratio(x.p50_ratio),
            format_ns(oa.latency_ns.p99 as f64),
            format_ns(ob.latency_ns.p99 as f64),
            ratio(x.p99_ratio),
            ratio(x.throughput_ratio),
        );
    }
    md.push('\n');
}
