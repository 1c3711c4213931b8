//! The result document (`result.json`): the resolved scenario, seed and
//! environment, per-variant evidence, per-operation statistics with their
//! HDR histograms, and the comparison, so every number a report shows is in
//! it. Built from the run's records by [`summarise`]; `compare` adds the
//! comparison; reporters only read it, and [`RunResult::from_json`] reads it
//! back so an old run can be rendered again.

mod comparison;
mod groups;
pub mod merge;
pub mod schema;
mod summarise;
mod warning;

pub use comparison::*;
pub use groups::{GroupResult, HELD_LAG_NS, HELD_SHARE, group_results};
pub use summarise::summarise;
pub use warning::Warning;

use crate::backend::{ErrorClass, Placement, Sizes, TableLoad, VariantSetup};
use crate::environment::Environment;
use crate::run::AnswerReport;
use crate::run::explain::OpQueryPlan;
use crate::run::slo::SloResult;
use crate::scenario::{BackendKind, EvidenceQuery, LoadShape, Metric, OpId, OpKind, PerBackend};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Version of the `result.json` layout; bumped on incompatible changes.
/// 2: the comparison as data, load models, warnings as data.
pub const SCHEMA_VERSION: u32 = 2;

/// Why a `result.json` cannot be read back.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("is not a schemabench result")]
    NotAResult(#[source] serde_json::Error),
    #[error(
        "was written with result schema version {found}; this schemabench reads version {SCHEMA_VERSION} \
         (re-run the scenario, or render it with the schemabench version that wrote it)"
    )]
    Version { found: u64 },
    #[error("does not match result schema version {SCHEMA_VERSION}")]
    Invalid(#[source] serde_json::Error),
}

impl RunResult {
    /// Reads a `result.json` document, checking its schema version first so
    /// an old layout gets a clear message instead of a missing-field error.
    pub fn from_json(text: &str) -> Result<RunResult, ReadError> {
        #[derive(Deserialize)]
        struct Versioned {
            schema_version: Option<u64>,
        }
        let v: Versioned = serde_json::from_str(text).map_err(ReadError::NotAResult)?;
        match v.schema_version {
            Some(found) if found == SCHEMA_VERSION as u64 => serde_json::from_str(text).map_err(ReadError::Invalid),
            Some(found) => Err(ReadError::Version { found }),
            None => Err(ReadError::NotAResult(serde::de::Error::missing_field("schema_version"))),
        }
    }

    /// `result.json`: pretty-printed, newline-terminated.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("results serialise");
        s.push('\n');
        s
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunResult {
    pub schema_version: u32,
    pub run: RunInfo,
    pub scenario: ScenarioSummary,
    /// Seed of all data and parameter streams.
    pub seed: u64,
    /// Seed of the variants' order in each round (`--order-seed` repeats it).
    #[serde(default)]
    pub order_seed: u64,
    pub environment: Environment,
    pub backends: Vec<BackendResult>,
    /// Every effect against the baseline and one verdict per backend.
    pub comparison: Comparison,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// False for smoke runs, incomplete runs, and runs with a reason in
    /// `unfit_because`.
    pub fit_for_decisions: bool,
    /// Why a complete full run is still not fit for decisions (sessions
    /// the server closed beyond [`CONNECTIONS_LOST_LIMIT`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unfit_because: Vec<String>,
    /// "closed loop, 4 clients" (each client issues its next operation when
    /// the last one ends) or "open loop, 2000/s poisson arrivals over 4
    /// clients"; the model itself is `scenario.load.model`.
    pub load_model: String,
    /// Peak resident memory of the harness process, bytes.
    pub peak_rss_bytes: Option<u64>,
    /// Shard K of N of a sharded run (`--shard`), or the N merged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardInfo>,
}

/// Which part of a sharded run a result is.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ShardInfo {
    /// `--run-key`, shared by every shard.
    pub key: String,
    /// This shard (1-based); `None` for a merged result.
    pub index: Option<u32>,
    pub count: u32,
    /// A merged result: each shard's run, in shard order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<ShardPart>,
}

/// One shard of a merged result: where it ran and when its windows began.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ShardPart {
    pub index: u32,
    /// The shard's run folder name.
    pub run_id: String,
    pub environment: Environment,
    pub placement: Vec<Placement>,
    /// The largest distance, in ms, between this shard's window starts and
    /// shard 1's (same variant and round).
    pub start_skew_ms: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScenarioSummary {
    pub name: String,
    pub question: String,
    /// The rule of thumb the scenario tests (`rule`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
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
    /// `[[evidence]]` queries, in order (`Metric::Evidence` indexes them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<EvidenceQuery>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MixEntry {
    pub op: String,
    pub weight: u32,
    pub kind: OpKind,
    /// SQL per step as written in the workload (before variant overrides).
    pub sql: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// The sweep value this variant measures (`sweep = {...}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<crate::scenario::SweepPoint>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct VerdictRuleSummary {
    pub baseline: String,
    /// e.g. `recent_orders p99`.
    pub goal: String,
    /// e.g. `place_order p99 <= +25%`.
    pub guards: Vec<String>,
    /// Noise band as a fraction: ratios within `1 ± noise` are no significant change.
    pub noise: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BackendResult {
    pub backend: BackendKind,
    pub version: String,
    /// Where the engine ran: provisioner and server for PostgreSQL.
    pub server: String,
    /// Where the client ran relative to the server (CPU count and pinning
    /// are in `environment`).
    pub placement: Placement,
    pub settings: BTreeMap<String, String>,
    /// Durability settings among `settings` that are relaxed, as `name = value`.
    pub relaxed_durability: Vec<String>,
    pub load: LoadResult,
    pub answers: AnswerReport,
    /// Variant names in the order they ran, per round.
    pub round_order: Vec<Vec<String>>,
    /// The open-loop rate every variant ran at in the equal-load phase
    /// (operations per second over all clients), if it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equal_load_rate_per_s: Option<u32>,
    pub variants: Vec<VariantResult>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LoadResult {
    pub tables: Vec<TableLoad>,
    pub rows: u64,
    pub seconds: f64,
    pub rows_per_sec: f64,
    /// Checksum of all generated data; equal across runs and backends for
    /// the same scenario, scale and seed.
    pub data_checksum: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct VariantResult {
    pub name: String,
    /// The setup of the copy checked for answers and measured in round 1.
    pub setup: VariantSetup,
    /// Setup time (statements) of each measured round's fresh copy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub setup_rounds: Vec<f64>,
    pub sizes: Sizes,
    pub rounds_completed: usize,
    /// One entry per operation in the mix, all rounds merged.
    pub ops: Vec<OpResult>,
    /// Each mix operation's plan on a sample parameter.
    pub plans: Vec<OpQueryPlan>,
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
    /// The whole machine's busy CPU fraction in the busiest round's window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_busy_max: Option<f64>,
    /// Notices and warnings the server sent the measured sessions (all
    /// rounds): e.g. a deprecated syntax warning on every statement.
    pub notices: u64,
    /// Sessions reopened after the server closed their connection.
    #[serde(default)]
    pub reconnects: u64,
    /// Things that make these numbers less trustworthy.
    pub warnings: Vec<Warning>,
    /// Maximum throughput at the scenario's SLO, if searched.
    pub slo: Option<SloResult>,
    /// The equal-load phase, if it ran: the guards are judged on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equal_load: Option<EqualLoadResult>,
    /// `[[evidence]]` readings, one per query in the scenario's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<EvidenceResult>,
    /// `[load.groups]`: each group's offered and achieved load.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupResult>,
    /// A variant with its own schema: the load of its own base (the same
    /// generated data) into that schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_load: Option<OwnLoad>,
}

/// The load of a variant's own base.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OwnLoad {
    pub rows: u64,
    pub seconds: f64,
    pub rows_per_sec: f64,
}

/// One evidence query's readings on one variant: on each measured round's
/// copy after its setup and after its window (`None`: NULL, or no SQL for
/// this backend).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EvidenceResult {
    pub name: String,
    pub after_setup: Vec<Option<f64>>,
    pub after_run: Vec<Option<f64>>,
}

impl EvidenceResult {
    /// The mean reading after the windows (after setup when no window ran).
    pub fn value(&self) -> Option<f64> {
        let mean = |v: &[Option<f64>]| {
            let got: Vec<f64> = v.iter().flatten().copied().collect();
            (!got.is_empty()).then(|| got.iter().sum::<f64>() / got.len() as f64)
        };
        mean(&self.after_run).or_else(|| mean(&self.after_setup))
    }
}

/// A variant's equal-load phase: every variant open-loop at the same rate
/// (`BackendResult::equal_load_rate_per_s`), fresh copies, the same rounds.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EqualLoadResult {
    pub rounds_completed: usize,
    /// Per operation: response time from the intended start in
    /// `latency_ns`, service time from the actual start in `service_ns`.
    pub ops: Vec<OpResult>,
    pub schedule: Option<ScheduleResult>,
    pub server_counters: Option<ServerCounters>,
    pub machine_busy_max: Option<f64>,
    pub warnings: Vec<Warning>,
}

/// Open-loop schedule keeping over all rounds of a variant.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScheduleResult {
    pub scheduled: u64,
    /// Operations that started more than 1 ms after their intended time.
    pub late: u64,
    pub late_fraction: f64,
    /// Start lag (actual − intended start).
    pub lag_ns: Latency,
    /// Sharded runs: the start-lag histogram, for exact merges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag_histogram: Option<String>,
}

/// Server counters summed over all measured windows of a variant.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
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

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// Recall@k of a similarity search (`[op.neighbours]`), measured by the
    /// harness before each round's window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recall: Option<OpRecall>,
}

/// Recall@k of one operation on one variant (docs/vectors.md).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OpRecall {
    pub k: usize,
    /// Queries per round (the same queries on every variant in a round).
    pub queries_per_round: u32,
    /// Mean recall of each round's queries, in round order.
    pub rounds: Vec<f64>,
    /// Mean over all rounds' queries.
    pub mean: f64,
    /// 95% Student's t interval of the mean across rounds (two or more).
    pub interval: Option<(f64, f64)>,
    /// The lowest recall of any single query.
    pub worst_query: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RoundOp {
    pub count: u64,
    pub throughput_per_s: f64,
    pub latency_ns: Latency,
    /// Open loop only: service time from the actual start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_ns: Option<Latency>,
    /// Operations completed in each second of the measured window.
    pub per_second: Vec<u32>,
    /// 99th percentile latency of each second (coarse: within 19%), ns.
    pub p99_per_second_ns: Vec<u64>,
    /// Sharded runs: when the measured window began (Unix ns), the
    /// round's latency histogram, and its service-time histogram (open
    /// loop) — what `schemabench merge` adds exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at_unix_ns: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_histogram: Option<String>,
}

/// Latency percentiles in integer nanoseconds (HDR, 3 significant digits).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, Default, schemars::JsonSchema)]
pub struct Latency {
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    pub mean: f64,
}

impl OpResult {
    /// The value of a per-operation metric, all rounds merged.
    pub fn metric(&self, metric: Metric) -> Option<f64> {
        if metric == Metric::Recall {
            return self.recall.as_ref().map(|r| r.mean);
        }
        metric_of(&self.latency_ns, self.throughput_per_s, self.count, metric)
    }

    /// The value of a per-operation metric in each round.
    pub fn round_metric(&self, metric: Metric) -> Vec<Option<f64>> {
        if metric == Metric::Recall {
            return self
                .recall
                .as_ref()
                .map_or_else(Vec::new, |r| r.rounds.iter().map(|&x| Some(x)).collect());
        }
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
        Metric::Storage | Metric::SetupTime | Metric::WalPerWrite | Metric::Evidence(_) | Metric::Recall => {
            return None;
        }
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
            Metric::Evidence(e) => self.evidence.get(e.index)?.value(),
            _ => None,
        }
    }

    /// Per-round values of a whole-variant metric, where it varies by round.
    pub fn round_metric(&self, metric: Metric) -> Vec<Option<f64>> {
        match (metric, &self.server_counters) {
            (Metric::WalPerWrite, Some(c)) => c.per_round_wal_per_write.clone(),
            (Metric::SetupTime, _) => self.setup_rounds.iter().map(|&s| Some(s)).collect(),
            (Metric::Evidence(e), _) => self
                .evidence
                .get(e.index)
                .map_or_else(Vec::new, |r| r.after_run.clone()),
            _ => Vec::new(),
        }
    }
}

impl RunResult {
    pub fn backend(&self, kind: BackendKind) -> Option<&BackendResult> {
        self.backends.iter().find(|b| b.backend == kind)
    }
}

impl BackendResult {
    pub fn variant(&self, name: &str) -> Option<&VariantResult> {
        self.variants.iter().find(|v| v.name == name)
    }
}

/// Why two runs should not be compared (or merged as shards of one run): a different scenario, seed, scale,
/// load model, backends or profile, each as "what: earlier → now".
pub fn differences(now: &RunResult, earlier: &RunResult) -> Vec<String> {
    let mut out = Vec::new();
    let mut differ = |what: &str, a: String, b: String| {
        if a != b {
            out.push(format!("{what}: {a} → {b}"));
        }
    };
    differ("scenario", earlier.scenario.name.clone(), now.scenario.name.clone());
    differ("seed", earlier.seed.to_string(), now.seed.to_string());
    differ(
        "scale",
        format!("{:?}", earlier.scenario.params),
        format!("{:?}", now.scenario.params),
    );
    differ("load model", earlier.run.load_model.clone(), now.run.load_model.clone());
    differ("--quick", earlier.run.quick.to_string(), now.run.quick.to_string());
    differ(
        "backends",
        format!("{:?}", earlier.scenario.backends),
        format!("{:?}", now.scenario.backends),
    );
    let mix = |r: &RunResult| {
        r.scenario
            .mix
            .iter()
            .map(|m| format!("{} {}", m.op, m.weight))
            .collect::<Vec<_>>()
            .join(", ")
    };
    differ("mix", mix(earlier), mix(now));
    out
}
