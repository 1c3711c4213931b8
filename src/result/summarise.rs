//! Builds a [`RunResult`] from the run's records: a pure function of the
//! plan, the records and the environment. The comparison starts empty.

use super::*;
use crate::record::{OpRecord, Schedule, encode_histogram};
use crate::run::recall::RecallRound;
use crate::run::{Records, RunPlan, Window};
use crate::scenario::GuardLimit;
use time::format_description::well_known::Rfc3339;

impl Latency {
    pub(super) fn of(r: &OpRecord) -> Self {
        Self::of_histogram(&r.latency)
    }

    pub(super) fn of_histogram(h: &hdrhistogram::Histogram<u64>) -> Self {
        if h.is_empty() {
            return Latency::default();
        }
        Latency {
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
            mean: h.mean(),
        }
    }
}

fn server_counters(plan: &RunPlan, windows: &[&Window]) -> Option<ServerCounters> {
    let pairs: Vec<_> = windows
        .iter()
        .filter_map(|w| w.counters.map(|c| (c, &w.records)))
        .collect();
    if pairs.is_empty() {
        return None;
    }
    let (mut wal, mut hit, mut read, mut writes) = (0u64, 0u64, 0u64, 0u64);
    let mut per_round = Vec::new();
    for ((a, b), records) in pairs {
        let round_wal = b.wal_bytes.saturating_sub(a.wal_bytes);
        let round_writes = plan
            .mix
            .ops()
            .filter(|&op| plan.scenario.workload.ops[op].kind == OpKind::Write)
            .map(|op| records.ops[op].count())
            .sum::<u64>();
        per_round.push((round_writes > 0).then(|| round_wal as f64 / round_writes as f64));
        wal += round_wal;
        hit += b.blocks_hit.saturating_sub(a.blocks_hit);
        read += b.blocks_read.saturating_sub(a.blocks_read);
        writes += round_writes;
    }
    Some(ServerCounters {
        wal_bytes: wal,
        write_ops: writes,
        wal_bytes_per_write: (writes > 0).then(|| wal as f64 / writes as f64),
        per_round_wal_per_write: per_round,
        buffer_hit_ratio: (hit + read > 0).then(|| hit as f64 / (hit + read) as f64),
    })
}

fn schedule(windows: &[&Window], sharded: bool) -> Option<ScheduleResult> {
    schedule_of(windows.iter().filter_map(|w| w.records.schedule.as_ref()), sharded)
}

/// Open-loop schedules (of several windows) merged; `None` for none.
/// A shard's schedule keeps its lag histogram, for `schemabench merge`.
pub(super) fn schedule_of<'a>(schedules: impl Iterator<Item = &'a Schedule>, sharded: bool) -> Option<ScheduleResult> {
    let mut all: Option<Schedule> = None;
    for s in schedules {
        let a = all.get_or_insert_with(Default::default);
        a.lag.add(&s.lag).expect("histograms share fixed bounds");
        a.scheduled += s.scheduled;
        a.late += s.late;
    }
    all.map(|s| ScheduleResult {
        scheduled: s.scheduled,
        late: s.late,
        late_fraction: s.late as f64 / s.scheduled.max(1) as f64,
        lag_ns: Latency::of_histogram(&s.lag),
        lag_histogram: sharded.then(|| encode_histogram(&s.lag)),
    })
}

/// A variant whose sessions lost their connection in more than this share
/// of its operations makes the run unfit for decisions: the losses come
/// from outside the design (a terminated session, a restart, a proxy), so
/// they neither rule the variant out nor let its numbers stand.
pub const CONNECTIONS_LOST_LIMIT: f64 = 0.0001;

/// Reasons a run is unfit: variants that lost connections beyond
/// [`CONNECTIONS_LOST_LIMIT`].
pub(super) fn connections_lost(backends: &[BackendResult]) -> Vec<String> {
    let mut out = Vec::new();
    for b in backends {
        for v in &b.variants {
            let lost: u64 = v
                .ops
                .iter()
                .filter_map(|o| o.errors.get(&ErrorClass::ConnectionLost))
                .sum();
            let all: u64 = v.ops.iter().map(|o| o.count + o.errors.values().sum::<u64>()).sum();
            if lost > 0 && lost as f64 > CONNECTIONS_LOST_LIMIT * all.max(1) as f64 {
                out.push(format!(
                    "{} `{}` lost its connection in {lost} of {all} operations ({:.2}%, reconnected {} time(s)): \
                     something outside the design closed sessions; rerun",
                    b.backend,
                    v.name,
                    100.0 * lost as f64 / all.max(1) as f64,
                    v.reconnects
                ));
            }
        }
    }
    out
}

/// A machine busier than this over a window is saturated.
const MACHINE_SATURATED: f64 = 0.9;

/// Warnings about a variant's windows: a saturated machine, a slow first second (warmup too
/// short), a saturated client thread (server backends or open loop),
/// notices, an open-loop schedule not kept.
fn warnings(plan: &RunPlan, windows: &[&Window], embedded: bool) -> Vec<Warning> {
    let mut out = Vec::new();
    let busy: Vec<f64> = windows.iter().filter_map(|w| w.machine_busy).collect();
    let saturated = busy.iter().filter(|&&b| b > MACHINE_SATURATED).count();
    if saturated > 0 {
        out.push(Warning::MachineSaturated {
            rounds: saturated,
            of: windows.len(),
            busy: busy.iter().copied().fold(0.0, f64::max),
        });
    }
    for (i, w) in windows.iter().enumerate() {
        let round = i + 1;
        for op in plan.mix.ops() {
            let p99s = w.records.ops[op].timeline.p99s();
            if p99s.len() >= 4 && p99s[0] > 0 {
                let mut rest: Vec<u64> = p99s[1..].iter().copied().filter(|p| *p > 0).collect();
                rest.sort_unstable();
                if let Some(&median) = rest.get(rest.len() / 2)
                    && p99s[0] as f64 > 2.0 * median as f64
                {
                    out.push(Warning::ShortWarmup {
                        round,
                        op: plan.scenario.op_name(op).to_string(),
                        ratio: p99s[0] as f64 / median as f64,
                    });
                }
            }
        }
        // An embedded engine runs inside the client threads: busy threads are
        // the database working, not the load generator.
        if w.client_cpu_max > 0.9 && (!embedded || plan.load.model.is_open()) {
            out.push(Warning::ClientSaturated {
                round,
                cpu: w.client_cpu_max,
            });
        }
        if w.notices > 0 {
            out.push(Warning::Notices {
                round,
                count: w.notices,
            });
        }
        if let Some(s) = &w.records.schedule {
            let late_fraction = s.late as f64 / s.scheduled.max(1) as f64;
            if late_fraction > 0.01 {
                out.push(Warning::LateStarts {
                    round,
                    late_fraction,
                    lag_p99_ns: s.lag.value_at_quantile(0.99),
                });
            }
        }
    }
    out
}

/// The busiest window's machine CPU fraction.
fn busiest(windows: &[&Window]) -> Option<f64> {
    windows.iter().filter_map(|w| w.machine_busy).reduce(f64::max)
}

/// Durability settings that are relaxed, as `name = value`.
fn relaxed_durability(settings: &BTreeMap<String, String>) -> Vec<String> {
    let relaxed = |name: &str, v: &str| match name {
        "fsync" | "full_page_writes" => v == "off",
        "synchronous_commit" => v == "off" || v == "local",
        "synchronous" => v == "off" || v == "0",
        _ => false,
    };
    settings
        .iter()
        .filter(|(k, v)| relaxed(k, v))
        .map(|(k, v)| format!("{k} = {v}"))
        .collect()
}

/// One operation over `windows`; a shard's rounds keep their histograms and
/// window starts, for `schemabench merge`.
fn op_result(name: &str, windows: &[&Window], op: OpId, sharded: bool) -> OpResult {
    let mut all = OpRecord::default();
    let mut seconds = 0.0;
    let mut rounds = Vec::new();
    for w in windows {
        let r = &w.records.ops[op];
        all.merge(r);
        seconds += w.seconds;
        rounds.push(RoundOp {
            count: r.count(),
            throughput_per_s: r.count() as f64 / w.seconds.max(1e-9),
            latency_ns: Latency::of(r),
            service_ns: r.service.as_ref().map(Latency::of_histogram),
            per_second: r.timeline.counts(),
            p99_per_second_ns: r.timeline.p99s(),
            started_at_unix_ns: sharded.then(|| {
                w.started_at
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64)
            }),
            histogram: sharded.then(|| encode_histogram(&r.latency)),
            service_histogram: r.service.as_ref().filter(|_| sharded).map(encode_histogram),
        });
    }
    let errors = ErrorClass::ALL
        .iter()
        .filter(|c| all.errors[c.index()] > 0)
        .map(|c| (*c, all.errors[c.index()]))
        .collect();
    OpResult {
        op: name.to_string(),
        count: all.count(),
        errors,
        first_error: all.first_error.clone(),
        rows: all.rows,
        throughput_per_s: if seconds > 0.0 {
            all.count() as f64 / seconds
        } else {
            0.0
        },
        latency_ns: Latency::of(&all),
        service_ns: all.service.as_ref().map(Latency::of_histogram),
        rounds,
        histogram: encode_histogram(&all.latency),
        recall: None,
    }
}

/// An operation's recall from its per-round, per-query readings.
fn op_recall(plan: &RunPlan, readings: &[Vec<RecallRound>], op: OpId) -> Option<OpRecall> {
    let decl = plan.scenario.workload.ops[op.0].neighbours.as_ref()?;
    let rounds: Vec<&Vec<f64>> = readings
        .iter()
        .filter_map(|r| r.iter().find(|x| x.op == op).map(|x| &x.per_query))
        .filter(|q| !q.is_empty())
        .collect();
    if rounds.is_empty() {
        return None;
    }
    let means: Vec<f64> = rounds.iter().map(|q| q.iter().sum::<f64>() / q.len() as f64).collect();
    let all: Vec<f64> = rounds.iter().flat_map(|q| q.iter().copied()).collect();
    let (_, interval) = crate::util::mean_interval(&means);
    Some(OpRecall {
        k: decl.k,
        queries_per_round: decl.queries,
        mean: all.iter().sum::<f64>() / all.len() as f64,
        interval: interval.map(|(lo, hi)| (lo.max(0.0), hi.min(1.0))),
        worst_query: all.iter().copied().fold(f64::INFINITY, f64::min),
        rounds: means,
    })
}

/// Summarises a run's records. The comparison starts empty; `compare` fills it.
pub fn summarise(plan: &RunPlan, records: &Records, id: &str, environment: Environment) -> RunResult {
    let sc = &plan.scenario;
    let rfc = |t: time::OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
    let mix_ops: Vec<OpId> = plan.mix.ops().collect();
    let sharded = plan.shard.is_some();
    let backends: Vec<BackendResult> = records
        .backends
        .iter()
        .map(|b| {
            let rows: u64 = b.loads.iter().map(|l| l.rows).sum();
            let settings: BTreeMap<String, String> = b.settings.iter().cloned().collect();
            BackendResult {
                backend: b.backend,
                version: b.version.clone(),
                server: b.server.clone(),
                placement: b.placement.clone(),
                relaxed_durability: relaxed_durability(&settings),
                settings,
                load: LoadResult {
                    tables: b.loads.clone(),
                    rows,
                    seconds: b.load_seconds,
                    rows_per_sec: rows as f64 / b.load_seconds.max(1e-9),
                    data_checksum: b.data_checksum.clone(),
                },
                answers: b.answers.clone(),
                round_order: b.round_order.clone(),
                equal_load_rate_per_s: b.equal_load_rate,
                variants: b
                    .variants
                    .iter()
                    .map(|v| {
                        let windows: Vec<&Window> = v.rounds.iter().collect();
                        let embedded = b.backend == BackendKind::Sqlite;
                        let ops = |windows: &[&Window]| -> Vec<OpResult> {
                            mix_ops
                                .iter()
                                .map(|&op| op_result(sc.op_name(op), windows, op, sharded))
                                .collect()
                        };
                        let equal_load = (!v.equal_load_rounds.is_empty()).then(|| {
                            let windows: Vec<&Window> = v.equal_load_rounds.iter().collect();
                            EqualLoadResult {
                                rounds_completed: windows.len(),
                                ops: ops(&windows),
                                schedule: schedule(&windows, sharded),
                                server_counters: server_counters(plan, &windows),
                                machine_busy_max: busiest(&windows),
                                warnings: warnings(plan, &windows, embedded),
                            }
                        });
                        let groups = group_results(plan, &windows);
                        let mut warnings = warnings(plan, &windows, embedded);
                        warnings.extend(groups.iter().filter(|g| g.held == Some(false)).map(|g| {
                            Warning::RateNotHeld {
                                group: g.name.clone(),
                                target_per_s: g.target_per_s.unwrap_or(0.0),
                                worst_per_s: g.worst_per_s(),
                                lag_p99_ns: g.schedule.as_ref().map_or(0, |s| s.lag_ns.p99),
                            }
                        }));
                        VariantResult {
                            name: plan.targets[v.target].name.clone(),
                            setup: v.setup.clone(),
                            setup_rounds: std::iter::once(&v.setup)
                                .chain(&v.round_setups)
                                .take(v.rounds.len())
                                .map(|s| s.setup_seconds)
                                .collect(),
                            sizes: v.sizes.clone(),
                            rounds_completed: v.rounds.len(),
                            ops: ops(&windows)
                                .into_iter()
                                .zip(&mix_ops)
                                .map(|(mut o, &op)| {
                                    o.recall = op_recall(plan, &v.recall_rounds, op);
                                    o
                                })
                                .collect(),
                            plans: v.plans.clone(),
                            added_indexes: v.added_indexes.clone(),
                            unused_indexes: v.unused_indexes.clone(),
                            server_counters: server_counters(plan, &windows),
                            schedule: schedule(&windows, sharded),
                            client_cpu_max: windows.iter().map(|w| w.client_cpu_max).fold(0.0, f64::max),
                            machine_busy_max: busiest(&windows),
                            notices: windows.iter().map(|w| w.notices).sum(),
                            reconnects: windows.iter().map(|w| w.reconnects).sum(),
                            warnings,
                            slo: v.slo.clone(),
                            equal_load,
                            evidence: sc
                                .evidence
                                .iter()
                                .enumerate()
                                .map(|(i, q)| {
                                    let nth = |readings: &[Vec<Option<f64>>]| -> Vec<Option<f64>> {
                                        readings.iter().map(|r| r.get(i).copied().flatten()).collect()
                                    };
                                    EvidenceResult {
                                        name: q.name.clone(),
                                        // The copies the completed rounds measured.
                                        after_setup: nth(&v.evidence_after_setup
                                            [..v.evidence_after_setup.len().min(v.rounds.len().max(1))]),
                                        after_run: nth(&v.evidence_after_run),
                                    }
                                })
                                .collect(),
                            groups,
                            own_load: v.own_load.as_ref().map(|l| {
                                let rows = l.loads.iter().map(|t| t.rows).sum::<u64>();
                                OwnLoad {
                                    rows,
                                    seconds: l.seconds,
                                    rows_per_sec: rows as f64 / l.seconds.max(1e-9),
                                }
                            }),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    let target_label = |op: Option<OpId>, metric: Metric| match op {
        Some(op) => format!("{} {}", sc.op_name(op), metric.name_in(&sc.evidence)),
        None => metric.name_in(&sc.evidence),
    };
    let mut unfit_because = connections_lost(&backends);
    if let Some(run) = &plan.shard {
        unfit_because.push(format!(
            "shard {} of a sharded run (key `{}`): its share of the load only; merge all {} shards' run folders with \
             `schemabench merge`",
            run.shard, run.key, run.shard.count
        ));
    }
    RunResult {
        schema_version: SCHEMA_VERSION,
        run: RunInfo {
            id: id.to_string(),
            started_at: rfc(records.started_at),
            finished_at: rfc(records.finished_at),
            complete: records.complete(),
            interrupted: records.interrupted,
            failure: records.failure.clone(),
            quick: plan.quick,
            fit_for_decisions: records.complete() && !plan.quick && unfit_because.is_empty(),
            unfit_because,
            load_model: plan.load.describe(),
            peak_rss_bytes: crate::environment::peak_rss_bytes(),
            shard: plan.shard.as_ref().map(|run| ShardInfo {
                key: run.key.clone(),
                index: Some(run.shard.index),
                count: run.shard.count,
                parts: Vec::new(),
            }),
        },
        scenario: ScenarioSummary {
            name: sc.name.clone(),
            question: sc.question.clone(),
            rule: sc.rule.clone(),
            description: sc.description.clone(),
            path: sc.path.display().to_string(),
            workload: sc.workload.name.clone(),
            workload_path: sc.workload.path.display().to_string(),
            backends: sc.backends.clone(),
            params: plan.params.clone(),
            load: plan.load.clone(),
            mix: sc
                .mix
                .iter()
                .filter(|(_, w)| *w > 0)
                .map(|&(op, weight)| MixEntry {
                    op: sc.op_name(op).to_string(),
                    weight,
                    kind: sc.workload.ops[op].kind,
                    sql: sc.workload.ops[op]
                        .steps
                        .iter()
                        // The text of a backend this run used (a PostgreSQL-only
                        // run shows its PostgreSQL SQL, not the SQLite one).
                        .map(|s| {
                            sc.backends
                                .iter()
                                .find_map(|&b| s.sql.get(b))
                                .or_else(|| s.sql.entries().map(|(_, q)| q).next())
                                .cloned()
                                .unwrap_or_default()
                        })
                        .collect(),
                })
                .collect(),
            variants: sc
                .variants
                .iter()
                .map(|v| VariantSummary {
                    name: v.name.clone(),
                    description: v.description.clone(),
                    backends: v.backends.clone(),
                    setup: v.setup.clone(),
                    session: v.session.clone(),
                    overridden_ops: v.overrides.keys().map(|&op| sc.op_name(op).to_string()).collect(),
                    sweep: v.sweep.clone(),
                })
                .collect(),
            verdict_rule: VerdictRuleSummary {
                baseline: sc.variants[sc.verdict.baseline].name.clone(),
                goal: target_label(sc.verdict.goal.op, sc.verdict.goal.metric),
                guards: sc
                    .verdict
                    .guards
                    .iter()
                    .map(|g| {
                        let target = target_label(g.op, g.metric);
                        match g.limit {
                            GuardLimit::Regression(r) => format!("{target} <= +{:.0}%", r * 100.0),
                            GuardLimit::AtMost(b) => format!("{target} <= {b}"),
                            GuardLimit::AtLeast(b) => format!("{target} >= {b}"),
                        }
                    })
                    .collect(),
                noise: sc.verdict.noise,
            },
            evidence: sc.evidence.clone(),
        },
        seed: plan.seed,
        order_seed: plan.order_seed,
        environment,
        backends,
        comparison: Comparison::default(),
    }
}
