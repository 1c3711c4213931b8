//! Validated domain types for workloads and scenarios: what `resolve`
//! produces and everything downstream consumes.

use super::diag::{ConfigError, SourceRef};
use super::per_backend::PerBackend;
use crate::backend::BackendKind;
use crate::expr::{Expr, ExprError, Params};
use serde::Serialize;
use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

/// An expression together with where it was written, so that errors found
/// while binding it to parameters still point into the file.
#[derive(Debug, Clone)]
pub struct ExprAt {
    pub text: String,
    pub expr: Expr,
    pub source: SourceRef,
    /// Byte offset of `text` within the file.
    pub offset: usize,
    /// Dotted field path, e.g. `table.orders.columns.user_id`.
    pub field: String,
}

impl ExprAt {
    pub fn error(&self, e: ExprError) -> ConfigError {
        self.source.error(
            self.offset + e.span.start..self.offset + e.span.end.max(e.span.start + 1),
            Some(self.field.clone()),
            e.message,
        )
    }
}

#[derive(Debug, Clone)]
pub struct Workload {
    pub name: String,
    pub description: Option<String>,
    pub path: PathBuf,
    /// Scale parameters with their defaults.
    pub params: Params,
    pub schema: PerBackend<Vec<String>>,
    /// Statements run once after the tables are loaded (e.g. primary keys
    /// added after a bulk load, as `pgbench -i` does).
    pub after_load: PerBackend<Vec<String>>,
    /// PostgreSQL extensions the workload needs (`vector`, `timescaledb`).
    pub extensions: Vec<String>,
    pub tables: Vec<TableDef>,
    pub ops: Vec<OpDef>,
}

#[derive(Debug, Clone)]
pub struct TableDef {
    pub name: String,
    pub rows: ExprAt,
    pub columns: Vec<ColumnDef>,
}

#[derive(Debug, Clone)]
pub struct ColumnDef {
    pub name: String,
    pub expr: ExprAt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OpKind {
    Read,
    Write,
}

/// How answers are compared across variants before timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AnswerCheck {
    /// Same rows in any order (the default: plans may order ties differently).
    Unordered,
    /// Same rows in the same order.
    Ordered,
    /// Not compared (e.g. queries over `random()` or the current time).
    None,
}

#[derive(Debug, Clone)]
pub struct OpDef {
    pub name: String,
    pub description: Option<String>,
    pub kind: OpKind,
    /// Parameter generators. Positional `params` are named `$1`, `$2`, ...
    pub vars: Vec<VarDef>,
    pub steps: Vec<Step>,
    /// Whether the steps run in one transaction.
    pub transaction: bool,
    pub check: AnswerCheck,
}

#[derive(Debug, Clone)]
pub struct VarDef {
    pub name: String,
    pub expr: ExprAt,
}

/// One statement of an operation: its SQL per backend and which of the
/// operation's variables bind to `$1..$n`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub sql: PerBackend<String>,
    pub args: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub question: String,
    pub description: Option<String>,
    pub path: PathBuf,
    pub workload: Workload,
    pub backends: Vec<BackendKind>,
    pub seed: u64,
    /// Workload defaults with the scenario's overrides applied.
    pub params: Params,
    pub load: LoadShape,
    /// The `--quick` smoke profile.
    pub quick: QuickProfile,
    /// Operation index (into `workload.ops`) and weight.
    pub mix: Vec<(usize, u32)>,
    pub variants: Vec<Variant>,
    pub verdict: VerdictRule,
    /// `[postgres] settings`: server settings for clusters schemabench starts.
    pub postgres_settings: Vec<(String, String)>,
    /// `[slo]`: search each variant's maximum throughput at a p99 target.
    pub slo: Option<SloSearch>,
    /// `[load] ramp`: open-loop rates stepped through during the warmup.
    pub ramp: Vec<NonZeroU32>,
}

/// A maximum-throughput-at-SLO search (see `run::slo`).
#[derive(Debug, Clone)]
pub struct SloSearch {
    /// Operation index whose p99 is the SLO.
    pub op: usize,
    pub p99: Duration,
    /// First probed rate, arrivals per second.
    pub start_rate: u32,
    /// Highest rate probed.
    pub max_rate: u32,
    /// Measured time per probe (plus a quarter of it as warmup).
    pub step: Duration,
    /// Bisection probes after the knee is bracketed.
    pub refine: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LoadShape {
    pub clients: NonZeroU32,
    #[serde(with = "crate::util::duration_ms")]
    pub warmup: Duration,
    #[serde(with = "crate::util::duration_ms")]
    pub duration: Duration,
    pub rounds: NonZeroU32,
    /// Open loop: target arrivals per second over all clients. `None` is a
    /// closed loop (each client issues its next operation when the last ends).
    pub rate_per_s: Option<NonZeroU32>,
    /// How open-loop arrivals are spaced.
    pub arrivals: Arrivals,
    /// Warm (default) or cold caches before each variant's window.
    pub cache: CachePolicy,
    /// Pipelined mode: requests in flight per connection (PostgreSQL,
    /// single-statement reads). `None`: one at a time, the usual model.
    pub pipeline: Option<NonZeroU32>,
    /// Longest an operation may run before it is cancelled and counted as a
    /// `timeout` error (PostgreSQL). `None`: no limit.
    #[serde(with = "crate::util::option_duration_ms", rename = "op_timeout_ms")]
    pub op_timeout: Option<Duration>,
}

/// Cache state at the start of each measured window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CachePolicy {
    /// Caches as the previous work left them, then the warmup.
    #[default]
    Warm,
    /// PostgreSQL restarted before every window (empty shared buffers).
    Cold,
}

/// Spacing of open-loop arrivals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Arrivals {
    /// Evenly spaced, clients staggered.
    #[default]
    Uniform,
    /// Exponentially distributed gaps (a Poisson process per client).
    Poisson,
}

impl LoadShape {
    /// "closed loop, 4 clients" or "open loop, 2000/s poisson over 4 clients".
    pub fn model(&self) -> String {
        let cold = if self.cache == CachePolicy::Cold {
            ", cold caches"
        } else {
            ""
        };
        let model = match (self.rate_per_s, self.pipeline) {
            (None, Some(depth)) => format!(
                "pipelined closed loop, {} clients with {depth} requests in flight each",
                self.clients
            ),
            (None, None) => format!("closed loop, {} clients", self.clients),
            (Some(r), _) => format!(
                "open loop, {r}/s {} arrivals over {} clients",
                match self.arrivals {
                    Arrivals::Uniform => "uniform",
                    Arrivals::Poisson => "poisson",
                },
                self.clients
            ),
        };
        format!("{model}{cold}")
    }
}

#[derive(Debug, Clone)]
pub struct QuickProfile {
    pub params: Params,
    pub load: LoadShape,
}

#[derive(Debug, Clone)]
pub struct Variant {
    pub name: String,
    pub description: Option<String>,
    pub setup: PerBackend<Vec<String>>,
    /// Statements run on every new connection (e.g. `PRAGMA synchronous`).
    pub session: PerBackend<Vec<String>>,
    pub backends: Vec<BackendKind>,
    /// Replacement steps per operation index.
    pub overrides: BTreeMap<usize, Vec<Step>>,
}

impl Variant {
    pub fn runs_on(&self, backend: BackendKind) -> bool {
        self.backends.contains(&backend)
    }
}

/// What is compared: latency percentiles and throughput of one operation, or
/// a property of the whole variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    P50,
    P90,
    P99,
    P999,
    Max,
    Mean,
    Throughput,
    Storage,
    SetupTime,
    /// WAL bytes per write operation (PostgreSQL).
    WalPerWrite,
}

impl Metric {
    pub fn lower_is_better(self) -> bool {
        !matches!(self, Metric::Throughput)
    }

    /// Whether the metric belongs to one operation (as opposed to the variant).
    pub fn is_per_op(self) -> bool {
        !matches!(self, Metric::Storage | Metric::SetupTime | Metric::WalPerWrite)
    }

    pub fn label(self) -> &'static str {
        match self {
            Metric::P50 => "p50",
            Metric::P90 => "p90",
            Metric::P99 => "p99",
            Metric::P999 => "p99.9",
            Metric::Max => "max",
            Metric::Mean => "mean",
            Metric::Throughput => "throughput",
            Metric::Storage => "storage",
            Metric::SetupTime => "setup time",
            Metric::WalPerWrite => "WAL per write",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub op: Option<usize>,
    pub metric: Metric,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Guard {
    pub op: Option<usize>,
    pub metric: Metric,
    /// Largest accepted worsening as a fraction (0.25 for "25%").
    pub max_regression: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VerdictRule {
    /// Index into `Scenario::variants`.
    pub baseline: usize,
    pub goal: Target,
    pub guards: Vec<Guard>,
    /// Ratios within `1 ± noise` are "no significant change" (0.05 for 5%).
    pub noise: f64,
}

impl Scenario {
    pub fn op_name(&self, op: usize) -> &str {
        &self.workload.ops[op].name
    }

    /// The steps variant `v` runs for operation `op`.
    pub fn steps_for(&self, v: usize, op: usize) -> &[Step] {
        self.variants[v]
            .overrides
            .get(&op)
            .map(Vec::as_slice)
            .unwrap_or(&self.workload.ops[op].steps)
    }
}
