//! Files beside the reports for other tools: `operations.csv` (the
//! per-operation table, one row per backend × variant × operation), one
//! HdrHistogram interval log per operation and variant under `hlog/`, and
//! the command that reproduces the run.

use crate::record::decode_histogram;
use crate::result::RunResult;
use crate::scenario::{Arrivals, LoadModel};
use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use std::fmt::Write;
use std::time::{Duration, UNIX_EPOCH};

/// The per-operation table as CSV: counts, throughput, latency percentiles
/// in nanoseconds, errors, and the p50/p99/throughput ratios against the
/// baseline with their class.
pub fn operations_csv(r: &RunResult) -> String {
    let mut out = String::from(
        "backend,variant,op,ops,errors,throughput_per_s,p50_ns,p90_ns,p99_ns,p999_ns,max_ns,mean_ns,\
         p50_ratio,p50_class,p99_ratio,p99_class,throughput_ratio,throughput_class\n",
    );
    let effect = |backend, variant: &str, op: &str, metric: &str| {
        r.comparison
            .effects
            .iter()
            .find(|e| {
                e.backend == backend
                    && !e.equal_load
                    && e.variant == variant
                    && e.op.as_deref() == Some(op)
                    && e.metric.name_in(&r.scenario.evidence) == metric
            })
            .map(|e| {
                let class = serde_json::to_value(e.effect.class).ok();
                let class = class.as_ref().and_then(|c| c.as_str()).unwrap_or_default().to_string();
                (format!("{:.4}", e.effect.ratio), class)
            })
            .unwrap_or_default()
    };
    for b in &r.backends {
        for v in &b.variants {
            for o in &v.ops {
                let l = &o.latency_ns;
                let (p50r, p50c) = effect(b.backend, &v.name, &o.op, "p50");
                let (p99r, p99c) = effect(b.backend, &v.name, &o.op, "p99");
                let (tr, tc) = effect(b.backend, &v.name, &o.op, "throughput");
                let _ = writeln!(
                    out,
                    "{},{},{},{},{},{:.2},{},{},{},{},{},{:.0},{p50r},{p50c},{p99r},{p99c},{tr},{tc}",
                    b.backend,
                    csv(&v.name),
                    csv(&o.op),
                    o.count,
                    o.errors.values().sum::<u64>(),
                    o.throughput_per_s,
                    l.p50,
                    l.p90,
                    l.p99,
                    l.p999,
                    l.max,
                    l.mean,
                );
            }
        }
    }
    out
}

/// A CSV field: quoted when it holds a comma, a quote or a line break.
fn csv(field: &str) -> String {
    if field.contains([',', '"', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

/// `hlog/<backend>-<variant>-<op>.hlog`: the operation's latency histogram
/// (all measured windows merged, nanoseconds; the max column in
/// milliseconds) as an HdrHistogram interval log, which HdrHistogram's
/// tools (HistogramLogAnalyzer, hdr-plot) read.
pub fn hlogs(r: &RunResult) -> Vec<(String, Vec<u8>)> {
    let start = time::OffsetDateTime::parse(&r.run.started_at, &time::format_description::well_known::Rfc3339)
        .map(|t| UNIX_EPOCH + Duration::from_secs_f64(t.unix_timestamp_nanos() as f64 / 1e9))
        .unwrap_or(UNIX_EPOCH);
    let measured = r.scenario.load.duration * r.scenario.load.rounds.get();
    let mut out = Vec::new();
    for b in &r.backends {
        for v in &b.variants {
            for o in &v.ops {
                let Ok(h) = decode_histogram(&o.histogram) else {
                    continue;
                };
                if h.is_empty() {
                    continue;
                }
                let mut bytes = Vec::new();
                let mut serializer = V2DeflateSerializer::new();
                let written = (|| -> Result<(), String> {
                    let mut log = IntervalLogWriterBuilder::new()
                        .add_comment(&format!(
                            "schemabench {} {} {} {}: latency in nanoseconds, all measured windows merged",
                            r.run.id, b.backend, v.name, o.op
                        ))
                        .with_start_time(start)
                        .with_base_time(start)
                        .with_max_value_divisor(1e6)
                        .begin_log_with(&mut bytes, &mut serializer)
                        .map_err(|e| e.to_string())?;
                    log.write_histogram(&h, Duration::ZERO, measured, Tag::new(&o.op))
                        .map_err(|e| e.to_string())
                })();
                if written.is_ok() {
                    out.push((format!("hlog/{}-{}-{}.hlog", b.backend, v.name, o.op), bytes));
                }
            }
        }
    }
    out
}

/// The command that reruns this run's measurement: the scenario with the
/// seeds, scale and load it ran with, every value spelled out so changed
/// defaults do not change the run.
pub fn reproduce(r: &RunResult) -> String {
    let sc = &r.scenario;
    let load = &sc.load;
    let mut cmd = format!(
        "schemabench run {} --seed {} --order-seed {}",
        sc.path, r.seed, r.order_seed
    );
    if r.run.quick {
        cmd.push_str(" --quick");
    }
    for b in &sc.backends {
        let _ = write!(cmd, " --backend {b}");
    }
    for (k, v) in &sc.params {
        let _ = write!(cmd, " --param {k}={v}");
    }
    let _ = write!(cmd, " --clients {}", load.model.clients());
    match &load.model {
        LoadModel::Closed { .. } => {}
        LoadModel::Pipelined { depth, .. } => {
            let _ = write!(cmd, " --pipeline {depth}");
        }
        LoadModel::Open {
            rate_per_s, arrivals, ..
        } => {
            let a = match arrivals {
                Arrivals::Uniform => "uniform",
                Arrivals::Poisson => "poisson",
            };
            let _ = write!(cmd, " --rate {rate_per_s} --arrivals {a}");
        }
    }
    let ms = |d: Duration| format!("{}ms", d.as_millis());
    let _ = write!(
        cmd,
        " --warmup {} --duration {} --rounds {}",
        ms(load.warmup),
        ms(load.duration),
        load.rounds
    );
    if let Some(t) = load.op_timeout {
        let _ = write!(cmd, " --op-timeout {}", ms(t));
    }
    if load.cache == crate::scenario::CachePolicy::Cold {
        cmd.push_str(" --cold");
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_with_commas_or_quotes_are_quoted() {
        assert_eq!(csv("plain"), "plain");
        assert_eq!(csv("a,b"), "\"a,b\"");
        assert_eq!(csv("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
