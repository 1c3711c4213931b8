//! Validated domain types for workloads and scenarios: what `resolve`
//! produces and everything downstream consumes.

use super::BackendKind;
use super::diag::{ConfigError, SourceRef};
use super::load::{LoadModel, LoadShape};
use super::per_backend::PerBackend;
use crate::expr::{Expr, ExprError, Params};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// An operation of the workload: its position in `Workload::ops`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct OpId(pub usize);

/// A variant of the scenario: its position in `Scenario::variants`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct VariantId(pub usize);

/// Anything kept per operation (definitions, plans, records) is indexed by
/// [`OpId`], and per variant by [`VariantId`].
impl<T> std::ops::Index<OpId> for Vec<T> {
    type Output = T;
    fn index(&self, id: OpId) -> &T {
        &self[id.0]
    }
}

impl<T> std::ops::IndexMut<OpId> for Vec<T> {
    fn index_mut(&mut self, id: OpId) -> &mut T {
        &mut self[id.0]
    }
}

impl<T> std::ops::Index<VariantId> for Vec<T> {
    type Output = T;
    fn index(&self, id: VariantId) -> &T {
        &self[id.0]
    }
}

impl OpId {
    /// Every operation of a list, in order.
    pub fn all<T>(items: &[T]) -> impl Iterator<Item = OpId> + use<T> {
        (0..items.len()).map(OpId)
    }
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OpKind {
    Read,
    Write,
}

/// How answers are compared across variants before timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// `[op.neighbours]`: a similarity search, judged by recall.
    pub neighbours: Option<super::neighbours::NeighbourDecl>,
    /// `batch`: generated rows of a table inserted in one statement.
    pub batch: Option<super::batch::BatchDecl>,
}

#[derive(Debug, Clone)]
pub struct VarDef {
    pub name: String,
    pub expr: ExprAt,
}

/// One statement of an operation: its SQL per backend and which of the
/// operation's variables bind to `$1..$n`.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Step {
    pub sql: PerBackend<String>,
    pub args: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub question: String,
    /// `rule`: the rule of thumb the scenario tests, in one sentence.
    pub rule: Option<String>,
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
    /// Operation and weight.
    pub mix: Vec<(OpId, u32)>,
    pub variants: Vec<Variant>,
    pub verdict: VerdictRule,
    /// `[postgres] settings`: server settings for clusters schemabench starts.
    pub postgres_settings: Vec<(String, String)>,
    /// `[slo]`: search each variant's maximum throughput at a p99 target.
    pub slo: Option<SloSearch>,
    /// `[[evidence]]`: scalar queries recorded per variant.
    pub evidence: Vec<EvidenceQuery>,
    /// `[sweep]`: the whole scenario run at each value of a scale
    /// parameter or mix weight.
    pub sweep: Option<super::ScaleSweep>,
}

impl Scenario {
    /// The sweep of the profile in use (`--quick` or not).
    pub fn sweep_for(&self, quick: bool) -> Option<&super::ScaleSweep> {
        if quick {
            self.quick.sweep.as_ref()
        } else {
            self.sweep.as_ref()
        }
    }
}

/// A maximum-throughput-at-SLO search (see `run::slo`).
#[derive(Debug, Clone)]
pub struct SloSearch {
    /// The operation whose p99 is the SLO.
    pub op: OpId,
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

#[derive(Debug, Clone)]
pub struct QuickProfile {
    pub params: Params,
    pub load: LoadShape,
    /// `[quick.sweep]`, else the scenario's `[sweep]`.
    pub sweep: Option<super::ScaleSweep>,
}

#[derive(Debug, Clone)]
pub struct Variant {
    pub name: String,
    pub description: Option<String>,
    pub setup: PerBackend<Vec<String>>,
    /// Statements run on every new connection (e.g. `PRAGMA synchronous`).
    pub session: PerBackend<Vec<String>>,
    pub backends: Vec<BackendKind>,
    /// Replacement steps per operation.
    pub overrides: BTreeMap<OpId, Vec<Step>>,
    /// Its similarity searches may miss neighbours: judged by recall.
    pub approximate: bool,
    /// The sweep value this variant measures, if it came from a sweep.
    pub sweep: Option<super::sweep::SweepPoint>,
    /// Its own schema (and partitions): the variant loads its own copy of
    /// the same generated data instead of cloning the workload's base.
    pub base: Option<VariantBase>,
}

/// A variant's replacement for the workload's schema.
#[derive(Debug, Clone)]
pub struct VariantBase {
    /// Per backend; a backend without statements uses the workload's.
    pub schema: PerBackend<Vec<String>>,
    /// `None`: the workload's `after_load`.
    pub after_load: Option<PerBackend<Vec<String>>>,
    pub partitions: Option<PartitionDecl>,
}

/// `partitions = { table, column, every }`: range partitions of `every`
/// covering the column's generated range, made before the load.
#[derive(Debug, Clone, PartialEq)]
pub struct PartitionDecl {
    pub table: String,
    pub column: String,
    pub every: Duration,
}

impl Variant {
    pub fn runs_on(&self, backend: BackendKind) -> bool {
        self.backends.contains(&backend)
    }
}

/// What is compared: latency percentiles and throughput of one operation, or
/// a property of the whole variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
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
    /// A scenario's `[[evidence]]` query (`evidence.NAME`): its number after
    /// each measured window.
    Evidence(EvidenceRef),
    /// Recall@k of a similarity search (`[op.neighbours]`), per round.
    Recall,
}

/// Which `[[evidence]]` query a metric is, and which way is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EvidenceRef {
    /// Index into `Scenario::evidence` (and `ScenarioSummary::evidence`).
    pub index: usize,
    pub higher_is_better: bool,
}

/// `[[evidence]]`: a query returning one number, run on every variant's copy
/// after its setup and after each measured window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EvidenceQuery {
    pub name: String,
    /// SQL per backend; a backend without one records nothing.
    pub sql: PerBackend<String>,
    pub higher_is_better: bool,
}

impl Metric {
    pub fn lower_is_better(self) -> bool {
        match self {
            Metric::Throughput | Metric::Recall => false,
            Metric::Evidence(e) => !e.higher_is_better,
            _ => true,
        }
    }

    /// Whether the metric belongs to one operation (as opposed to the variant).
    pub fn is_per_op(self) -> bool {
        !matches!(
            self,
            Metric::Storage | Metric::SetupTime | Metric::WalPerWrite | Metric::Evidence(_)
        )
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
            Metric::Evidence(_) => "evidence",
            Metric::Recall => "recall",
        }
    }

    /// The label a scenario's reader knows: `evidence.chunks` for evidence
    /// queries (named in `evidence`), else [`Metric::label`].
    pub fn name_in(self, evidence: &[EvidenceQuery]) -> String {
        match self {
            Metric::Evidence(e) => format!("evidence.{}", evidence.get(e.index).map_or("?", |q| q.name.as_str())),
            _ => self.label().to_string(),
        }
    }
}

/// Default noise band of a verdict rule: ratios within ±5% of 1 are "no
/// significant change".
pub const DEFAULT_NOISE: f64 = 0.05;

/// What a verdict's goal is measured on: a metric of one operation, or of
/// the whole variant (`op` is `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct Objective {
    pub op: Option<OpId>,
    pub metric: Metric,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Guard {
    pub op: Option<OpId>,
    pub metric: Metric,
    pub limit: GuardLimit,
}

/// What a guard accepts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GuardLimit {
    /// Largest accepted worsening against the baseline as a fraction (0.25
    /// for "25%").
    Regression(f64),
    /// An absolute bound on the variant's own value (evidence metrics:
    /// `max = 40`, `min = 0.95`).
    AtMost(f64),
    AtLeast(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub struct VerdictRule {
    pub baseline: VariantId,
    pub goal: Objective,
    pub guards: Vec<Guard>,
    /// Ratios within `1 ± noise` are "no significant change" (0.05 for 5%).
    pub noise: f64,
    /// `[verdict] equal_load`: `None` decides by [`Scenario::wants_equal_load`].
    pub equal_load: Option<bool>,
}

impl Scenario {
    /// Whether guards are judged in a second phase where every variant runs
    /// open-loop at one common rate: by default when a closed loop guards a
    /// write operation and aims at a read one, because a faster read path
    /// then makes the closed loop issue more writes (or starve them of CPU)
    /// and the write guard measures load instead of design.
    pub fn wants_equal_load(&self, load: &LoadModel) -> bool {
        if load.is_open() {
            return false; // every variant already runs the same schedule
        }
        let kind = |op: Option<OpId>| op.map(|op| self.workload.ops[op].kind);
        self.verdict.equal_load.unwrap_or_else(|| {
            kind(self.verdict.goal.op) == Some(OpKind::Read)
                && self
                    .verdict
                    .guards
                    .iter()
                    .any(|g| kind(g.op) == Some(OpKind::Write) && g.metric.lower_is_better())
        })
    }

    pub fn op_name(&self, op: OpId) -> &str {
        &self.workload.ops[op].name
    }

    /// The steps variant `v` runs for operation `op`.
    pub fn steps_for(&self, v: VariantId, op: OpId) -> &[Step] {
        self.variants[v]
            .overrides
            .get(&op)
            .map(Vec::as_slice)
            .unwrap_or(&self.workload.ops[op].steps)
    }
}
