//! The result document (`result.json`, schema version 1): the resolved
//! scenario, seed and environment, per-variant evidence and per-operation
//! statistics with their HDR histograms, so every number can be recomputed.
//! Built from [`Records`] by a pure function; the comparison is added by
//! `compare`, and reporters only read it.

use crate::backend::{BackendKind, ErrorClass, Sizes, TableLoad, VariantSetup};
use crate::compare::Verdict;
use crate::evidence::Environment;
use crate::record::{OpRecord, encode_histogram};
use crate::run::evidence::OpPlanEvidence;
use crate::run::{AnswerReport, Records, RunPlan, Window};
use crate::scenario::{LoadShape, Metric, OpKind, PerBackend};
use serde::Serialize;
use std::collections::BTreeMap;
use time::format_description::well_known::Rfc3339;

/// Version of the `result.json` layout; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    pub schema_version: u32,
    pub run: RunInfo,
    pub scenario: ScenarioSummary,
    /// Seed of all data and parameter streams.
    pub seed: u64,
    pub environment: Environment,
    pub backends: Vec<BackendResult>,
    /// One verdict per backend, from the scenario's `[verdict]` rule.
    pub verdicts: Vec<Verdict>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    /// The run folder's name.
    pub id: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub finished_at: String,
    /// False when the run failed or was interrupted: what was measured is kept.
    pub complete: bool,
    pub interrupted: bool,
    pub failure: Option<String>,
    /// A `--quick` smoke run: small scale, short phases, one round.
    pub quick: bool,
    /// False for smoke runs and incomplete runs.
    pub fit_for_decisions: bool,
    /// "closed loop, 4 clients" (each client issues its next operation when
    /// the last one ends) or "open loop, 2000/s poisson arrivals over 4 clients".
    pub load_model: String,
    /// Peak resident memory of the harness process, bytes.
    pub peak_rss_bytes: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScenarioSummary {
    pub name: String,
    pub question: String,
    pub description: Option<String>,
    pub path: String,
    pub workload: String,
    pub workload_path: String,
    pub backends: Vec<BackendKind>,
    /// Scale parameters as used (workload defaults, scenario, then CLI).
    pub params: BTreeMap<String, f64>,
    /// Load shape as used; durations in milliseconds.
    pub load: LoadShape,
    pub mix: Vec<MixEntry>,
    pub variants: Vec<VariantSummary>,
    pub verdict_rule: VerdictRuleSummary,
}

#[derive(Debug, Clone, Serialize)]
pub struct MixEntry {
    pub op: String,
    pub weight: u32,
    pub kind: OpKind,
    /// SQL per step as written in the workload (before variant overrides).
    pub sql: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VariantSummary {
    pub name: String,
    pub description: Option<String>,
    pub backends: Vec<BackendKind>,
    /// Statements run once after copying the base, per backend.
    pub setup: PerBackend<Vec<String>>,
    /// Statements run on every new connection, per backend.
    pub session: PerBackend<Vec<String>>,
    /// Operations whose SQL this variant replaces.
    pub overridden_ops: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VerdictRuleSummary {
    pub baseline: String,
    /// e.g. `recent_orders p99`.
    pub goal: String,
    /// e.g. `place_order p99 <= +25%`.
    pub guards: Vec<String>,
    /// Noise band as a fraction: ratios within `1 ± noise` are no significant change.
    pub noise: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BackendResult {
    pub backend: BackendKind,
    pub version: String,
    /// Where the engine ran: provisioner and server for PostgreSQL.
    pub server: String,
    /// Where the client ran relative to the server (CPU count and pinning
    /// are in `environment`).
    pub placement: crate::backend::Placement,
    pub settings: BTreeMap<String, String>,
    pub load: LoadResult,
    pub answers: AnswerReport,
    /// Variant names in the order they ran, per round.
    pub round_order: Vec<Vec<String>>,
    pub variants: Vec<VariantResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LoadResult {
    pub tables: Vec<TableLoad>,
    pub rows: u64,
    pub seconds: f64,
    pub rows_per_sec: f64,
    /// Checksum of all generated data; equal across runs and backends for
    /// the same scenario, scale and seed.
    pub data_checksum: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct VariantResult {
    pub name: String,
    pub setup: VariantSetup,
    pub sizes: Sizes,
    pub rounds_completed: usize,
    /// One entry per operation in the mix, all rounds merged.
    pub ops: Vec<OpResult>,
    /// Each mix operation's plan on a sample parameter.
    pub plans: Vec<OpPlanEvidence>,
    /// Indexes this variant added to the base.
    pub added_indexes: Vec<String>,
    /// Added indexes that no operation's plan uses.
    pub unused_indexes: Vec<String>,
    /// Server-side evidence over the measured windows (PostgreSQL).
    pub server_counters: Option<ServerCounters>,
    /// Open loop only: how well the schedule was kept.
    pub schedule: Option<ScheduleResult>,
    /// The busiest client thread's CPU use as a fraction of a core (max over rounds).
    pub client_cpu_max: f64,
    /// Notices and warnings the server sent the measured sessions (all
    /// rounds): e.g. a deprecated syntax warning on every statement.
    pub notices: u64,
    /// Things that make these numbers less trustworthy.
    pub warnings: Vec<String>,
    /// Maximum throughput at the scenario's SLO, if searched.
    pub slo: Option<crate::run::slo::SloResult>,
}

/// Open-loop schedule keeping over all rounds of a variant.
#[derive(Debug, Clone, Serialize)]
pub struct ScheduleResult {
    pub scheduled: u64,
    /// Operations that started more than 1 ms after their intended time.
    pub late: u64,
    pub late_fraction: f64,
    /// Start lag (actual − intended start).
    pub lag_ns: Latency,
}

/// Server counters summed over all measured windows of a variant.
#[derive(Debug, Clone, Serialize)]
pub struct ServerCounters {
    /// WAL written, bytes (cluster-wide insert position delta).
    pub wal_bytes: u64,
    /// Successful write operations in the same windows.
    pub write_ops: u64,
    pub wal_bytes_per_write: Option<f64>,
    /// The same for each round, for confidence intervals.
    pub per_round_wal_per_write: Vec<Option<f64>>,
    /// Shared buffer hits / (hits + reads) in the variant's database.
    /// Approximate: PostgreSQL publishes statistics with a delay of up to a second.
    pub buffer_hit_ratio: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OpResult {
    pub op: String,
    /// Successful executions in all measured windows.
    pub count: u64,
    /// Failed executions by class.
    pub errors: BTreeMap<ErrorClass, u64>,
    pub first_error: Option<String>,
    /// Rows read by successful executions.
    pub rows: u64,
    /// Successful executions per second of measured time.
    pub throughput_per_s: f64,
    /// Closed loop: from the operation's start. Open loop: response time from
    /// its intended start (coordinated omission corrected).
    pub latency_ns: Latency,
    /// Open loop only: service time from the actual start.
    pub service_ns: Option<Latency>,
    /// The same statistics per round, in round order.
    pub rounds: Vec<RoundOp>,
    /// HdrHistogram V2 (deflate) of latency in ns, base64.
    pub histogram: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RoundOp {
    pub count: u64,
    pub throughput_per_s: f64,
    pub latency_ns: Latency,
    /// Operations completed in each second of the measured window.
    pub per_second: Vec<u32>,
    /// 99th percentile latency of each second (coarse: within 19%), ns.
    pub p99_per_second_ns: Vec<u64>,
}

/// Latency percentiles in integer nanoseconds (HDR, 3 significant digits).
#[derive(Debug, Clone, Copy, Serialize, Default)]
pub struct Latency {
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    pub mean: f64,
}

impl Latency {
    fn of(r: &OpRecord) -> Self {
        Self::of_histogram(&r.latency)
    }

    fn of_histogram(h: &hdrhistogram::Histogram<u64>) -> Self {
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

impl OpResult {
    /// The value of a per-operation metric, all rounds merged.
    pub fn metric(&self, metric: Metric) -> Option<f64> {
        metric_of(&self.latency_ns, self.throughput_per_s, self.count, metric)
    }

    /// The value of a per-operation metric in each round.
    pub fn round_metric(&self, metric: Metric) -> Vec<Option<f64>> {
        self.rounds
            .iter()
            .map(|r| metric_of(&r.latency_ns, r.throughput_per_s, r.count, metric))
            .collect()
    }
}

fn metric_of(l: &Latency, throughput: f64, count: u64, metric: Metric) -> Option<f64> {
    if count == 0 {
        return None;
    }
    Some(match metric {
        Metric::P50 => l.p50 as f64,
        Metric::P90 => l.p90 as f64,
        Metric::P99 => l.p99 as f64,
        Metric::P999 => l.p999 as f64,
        Metric::Max => l.max as f64,
        Metric::Mean => l.mean,
        Metric::Throughput => throughput,
        Metric::Storage | Metric::SetupTime | Metric::WalPerWrite => return None,
    })
}

impl VariantResult {
    pub fn op(&self, name: &str) -> Option<&OpResult> {
        self.ops.iter().find(|o| o.op == name)
    }

    /// The value of a whole-variant metric.
    pub fn metric(&self, metric: Metric) -> Option<f64> {
        match metric {
            Metric::Storage => Some(self.sizes.total_bytes as f64),
            Metric::SetupTime => Some(self.setup.setup_seconds),
            Metric::WalPerWrite => self.server_counters.as_ref()?.wal_bytes_per_write,
            _ => None,
        }
    }

    /// Per-round values of a whole-variant metric, where it varies by round.
    pub fn round_metric(&self, metric: Metric) -> Vec<Option<f64>> {
        match (metric, &self.server_counters) {
            (Metric::WalPerWrite, Some(c)) => c.per_round_wal_per_write.clone(),
            _ => Vec::new(),
        }
    }
}

impl BackendResult {
    pub fn variant(&self, name: &str) -> Option<&VariantResult> {
        self.variants.iter().find(|v| v.name == name)
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

fn schedule(windows: &[&Window]) -> Option<ScheduleResult> {
    let mut all: Option<crate::record::Schedule> = None;
    for w in windows {
        if let Some(s) = &w.records.schedule {
            let a = all.get_or_insert_with(Default::default);
            a.lag.add(&s.lag).expect("histograms share fixed bounds");
            a.scheduled += s.scheduled;
            a.late += s.late;
        }
    }
    all.map(|s| ScheduleResult {
        scheduled: s.scheduled,
        late: s.late,
        late_fraction: s.late as f64 / s.scheduled.max(1) as f64,
        lag_ns: Latency::of_histogram(&s.lag),
    })
}

/// Warnings about a variant's windows: a slow first second (warmup too
/// short), a saturated client thread (server backends or open loop), an
/// open-loop schedule not kept.
fn warnings(plan: &RunPlan, windows: &[&Window], embedded: bool) -> Vec<String> {
    let mut out = Vec::new();
    for (round, w) in windows.iter().enumerate() {
        for op in plan.mix.ops() {
            let p99s = w.records.ops[op].timeline.p99s();
            if p99s.len() >= 4 && p99s[0] > 0 {
                let mut rest: Vec<u64> = p99s[1..].iter().copied().filter(|p| *p > 0).collect();
                rest.sort_unstable();
                if let Some(&median) = rest.get(rest.len() / 2)
                    && p99s[0] as f64 > 2.0 * median as f64
                {
                    out.push(format!(
                        "round {}: the first second of {} had a p99 {:.1}× the rest's: the warmup may be too short",
                        round + 1,
                        plan.scenario.op_name(op),
                        p99s[0] as f64 / median as f64
                    ));
                }
            }
        }
        // An embedded engine runs inside the client threads: busy threads are
        // the database working, not the load generator.
        if w.client_cpu_max > 0.9 && (!embedded || plan.load.rate_per_s.is_some()) {
            out.push(format!(
                "round {}: a client thread used {:.0}% of a CPU: the load generator may be what limits throughput",
                round + 1,
                w.client_cpu_max * 100.0
            ));
        }
        if w.notices > 0 {
            out.push(format!(
                "round {}: the server sent the sessions {} notice(s) or warning(s); each costs a message per statement",
                round + 1,
                w.notices
            ));
        }
        if let Some(s) = &w.records.schedule {
            let late = s.late as f64 / s.scheduled.max(1) as f64;
            if late > 0.01 {
                out.push(format!(
                    "round {}: {:.1}% of operations started more than 1 ms late (start lag p99 {}): the target rate is more than the clients and system sustain",
                    round + 1,
                    late * 100.0,
                    crate::util::format_ns(s.lag.value_at_quantile(0.99) as f64)
                ));
            }
        }
    }
    out
}

fn op_result(name: &str, windows: &[&Window], op: usize) -> OpResult {
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
            per_second: r.timeline.counts(),
            p99_per_second_ns: r.timeline.p99s(),
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
    }
}

/// Summarises a run's records. `verdicts` start empty; `compare` fills them.
pub fn summarise(plan: &RunPlan, records: &Records, id: &str, environment: Environment) -> RunResult {
    let sc = &plan.scenario;
    let rfc = |t: time::OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
    let mix_ops: Vec<usize> = plan.mix.ops().collect();
    let backends = records
        .backends
        .iter()
        .map(|b| {
            let rows: u64 = b.loads.iter().map(|l| l.rows).sum();
            BackendResult {
                backend: b.backend,
                version: b.version.clone(),
                server: b.server.clone(),
                placement: b.placement.clone(),
                settings: b.settings.iter().cloned().collect(),
                load: LoadResult {
                    tables: b.loads.clone(),
                    rows,
                    seconds: b.load_seconds,
                    rows_per_sec: rows as f64 / b.load_seconds.max(1e-9),
                    data_checksum: b.data_checksum.clone(),
                },
                answers: b.answers.clone(),
                round_order: b.round_order.clone(),
                variants: b
                    .variants
                    .iter()
                    .map(|v| {
                        let windows: Vec<&Window> = v.rounds.iter().collect();
                        VariantResult {
                            name: plan.targets[v.target].name.clone(),
                            setup: v.setup.clone(),
                            sizes: v.sizes.clone(),
                            rounds_completed: v.rounds.len(),
                            ops: mix_ops
                                .iter()
                                .map(|&op| op_result(sc.op_name(op), &windows, op))
                                .collect(),
                            plans: v.plans.clone(),
                            added_indexes: v.added_indexes.clone(),
                            unused_indexes: v.unused_indexes.clone(),
                            server_counters: server_counters(plan, &windows),
                            schedule: schedule(&windows),
                            client_cpu_max: windows.iter().map(|w| w.client_cpu_max).fold(0.0, f64::max),
                            notices: windows.iter().map(|w| w.notices).sum(),
                            warnings: warnings(plan, &windows, b.backend == BackendKind::Sqlite),
                            slo: v.slo.clone(),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    let target_label = |op: Option<usize>, metric: Metric| match op {
        Some(op) => format!("{} {}", sc.op_name(op), metric.label()),
        None => metric.label().to_string(),
    };
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
            fit_for_decisions: records.complete() && !plan.quick,
            load_model: plan.load.model(),
            peak_rss_bytes: crate::evidence::peak_rss_bytes(),
        },
        scenario: ScenarioSummary {
            name: sc.name.clone(),
            question: sc.question.clone(),
            description: sc.description.clone(),
            path: sc.path.display().to_string(),
            workload: sc.workload.name.clone(),
            workload_path: sc.workload.path.display().to_string(),
            backends: sc.backends.clone(),
            params: plan.params.clone(),
            load: plan.load,
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
                        .map(|s| s.sql.entries().map(|(_, q)| q.clone()).next().unwrap_or_default())
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
                })
                .collect(),
            verdict_rule: VerdictRuleSummary {
                baseline: sc.variants[sc.verdict.baseline].name.clone(),
                goal: target_label(sc.verdict.goal.op, sc.verdict.goal.metric),
                guards: sc
                    .verdict
                    .guards
                    .iter()
                    .map(|g| format!("{} <= +{:.0}%", target_label(g.op, g.metric), g.max_regression * 100.0))
                    .collect(),
                noise: sc.verdict.noise,
            },
        },
        seed: plan.seed,
        environment,
        backends,
        verdicts: Vec::new(),
    }
}
