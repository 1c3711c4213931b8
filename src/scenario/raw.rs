//! Serde structs that mirror the TOML files one to one. Nothing here is
//! validated beyond types; `resolve` turns these into domain types.

use super::BackendKind;
use super::per_backend::PerBackend;
use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

pub type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    pub name: S<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub params: IndexMap<S<String>, S<f64>>,
    #[serde(default)]
    pub schema: Option<S<PerBackend<Vec<String>>>>,
    #[serde(default)]
    pub after_load: Option<S<PerBackend<Vec<String>>>>,
    #[serde(default)]
    pub extensions: Vec<S<String>>,
    #[serde(default)]
    pub table: Vec<RawTable>,
    #[serde(default)]
    pub op: Vec<RawOp>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTable {
    pub name: S<String>,
    pub rows: S<IntOrExpr>,
    pub columns: IndexMap<S<String>, S<String>>,
}

/// A count written as a number (`1000`) or an expression (`"users * 10"`).
#[derive(Debug, Deserialize)]
#[serde(
    untagged,
    expecting = "a whole number or an expression string such as \"users * 10\""
)]
pub enum IntOrExpr {
    Int(i64),
    Expr(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RawOpKind {
    Read,
    Write,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RawCheck {
    Unordered,
    Ordered,
    None,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOp {
    pub name: S<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub kind: Option<RawOpKind>,
    #[serde(default)]
    pub sql: Option<S<PerBackend<String>>>,
    #[serde(default)]
    pub params: Vec<S<String>>,
    #[serde(default)]
    pub vars: IndexMap<S<String>, S<String>>,
    #[serde(default)]
    pub step: Vec<RawStep>,
    #[serde(default)]
    pub transaction: Option<bool>,
    #[serde(default)]
    pub check: Option<RawCheck>,
    #[serde(default)]
    pub neighbours: Option<RawNeighbours>,
    /// A batch of generated rows of a table, inserted in one statement.
    #[serde(default)]
    pub batch: Option<S<super::batch::RawBatch>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNeighbours {
    pub table: S<String>,
    pub column: S<String>,
    #[serde(default)]
    pub id: Option<S<String>>,
    #[serde(default)]
    pub distance: Option<S<crate::vectors::Distance>>,
    pub k: S<i64>,
    #[serde(default)]
    pub query: Option<S<String>>,
    #[serde(default)]
    pub filter: Option<RawNeighbourFilter>,
    #[serde(default)]
    pub queries: Option<S<i64>>,
    #[serde(default)]
    pub approximate: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNeighbourFilter {
    pub column: S<String>,
    pub param: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    pub sql: S<PerBackend<String>>,
    #[serde(default)]
    pub args: Vec<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: S<String>,
    pub question: String,
    #[serde(default)]
    pub rule: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    pub workload: S<String>,
    #[serde(default)]
    pub backends: Option<S<Vec<S<BackendKind>>>>,
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub params: IndexMap<S<String>, S<f64>>,
    #[serde(default)]
    pub load: RawLoad,
    pub mix: S<IndexMap<S<String>, S<u32>>>,
    #[serde(default)]
    pub variant: Vec<RawVariant>,
    #[serde(default)]
    pub verdict: Option<RawVerdict>,
    #[serde(default)]
    pub quick: Option<RawQuick>,
    #[serde(default)]
    pub postgres: Option<RawPostgres>,
    #[serde(default)]
    pub slo: Option<RawSlo>,
    #[serde(default)]
    pub evidence: Vec<RawEvidence>,
    #[serde(default)]
    pub sweep: Option<S<IndexMap<String, Vec<toml::Value>>>>,
}

/// `[[evidence]]`: a named query returning one number.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvidence {
    pub name: S<String>,
    pub sql: S<PerBackend<String>>,
    #[serde(default)]
    pub better: Option<S<RawBetter>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RawBetter {
    Lower,
    Higher,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSlo {
    pub op: S<String>,
    pub p99: S<String>,
    #[serde(default)]
    pub start_rate: Option<S<u32>>,
    #[serde(default)]
    pub max_rate: Option<S<u32>>,
    #[serde(default)]
    pub step: Option<S<String>>,
    #[serde(default)]
    pub refine: Option<S<u32>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPostgres {
    /// Server settings for clusters schemabench starts.
    #[serde(default)]
    pub settings: IndexMap<S<String>, toml::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLoad {
    #[serde(default)]
    pub clients: Option<S<u32>>,
    #[serde(default)]
    pub warmup: Option<S<String>>,
    #[serde(default)]
    pub duration: Option<S<String>>,
    #[serde(default)]
    pub rounds: Option<S<u32>>,
    /// Open loop: arrivals per second over all clients.
    #[serde(default)]
    pub rate: Option<S<u32>>,
    #[serde(default)]
    pub arrivals: Option<S<RawArrivals>>,
    /// Open loop: stepped rates run during the warmup, in order.
    #[serde(default)]
    pub ramp: Option<S<Vec<u32>>>,
    #[serde(default)]
    pub cache: Option<S<RawCache>>,
    /// Pipelined mode: requests in flight per connection.
    #[serde(default)]
    pub pipeline: Option<S<u32>>,
    /// Longest an operation may run (`30s`; `off` for no limit).
    #[serde(default)]
    pub op_timeout: Option<S<String>>,
    /// Operation groups with load models of their own.
    #[serde(default)]
    pub groups: super::groups::RawGroups,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RawCache {
    Warm,
    Cold,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RawArrivals {
    Uniform,
    Poisson,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuick {
    #[serde(default)]
    pub params: IndexMap<S<String>, S<f64>>,
    #[serde(default)]
    pub load: RawLoad,
    #[serde(default)]
    pub sweep: Option<S<IndexMap<String, Vec<toml::Value>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVariant {
    pub name: S<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub setup: Option<S<PerBackend<Vec<String>>>>,
    #[serde(default)]
    pub session: Option<S<PerBackend<Vec<String>>>>,
    #[serde(default)]
    pub backends: Option<S<Vec<S<BackendKind>>>>,
    #[serde(default)]
    pub ops: IndexMap<S<String>, RawOpOverride>,
    #[serde(default)]
    pub approximate: bool,
    #[serde(default)]
    pub sweep: Option<S<IndexMap<String, Vec<toml::Value>>>>,
    /// Replaces the workload's schema: this variant loads its own copy of
    /// the generated data.
    #[serde(default)]
    pub schema: Option<S<PerBackend<Vec<String>>>>,
    #[serde(default)]
    pub after_load: Option<S<PerBackend<Vec<String>>>>,
    /// Range partitions made for a partitioned table before the load.
    #[serde(default)]
    pub partitions: Option<S<RawPartitions>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPartitions {
    pub table: S<String>,
    pub column: S<String>,
    /// Partition width: `1 day`, `6h`.
    pub every: S<String>,
}

/// A variant's replacement SQL for one operation; the parameters stay the
/// workload's, so every variant is driven by the same parameter sequence.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOpOverride {
    #[serde(default)]
    pub sql: Option<S<PerBackend<String>>>,
    #[serde(default)]
    pub step: Vec<RawStep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVerdict {
    #[serde(default)]
    pub baseline: Option<S<String>>,
    #[serde(default)]
    pub goal: Option<S<RawTarget>>,
    #[serde(default)]
    pub guards: Vec<S<RawGuard>>,
    /// Noise band, e.g. "5%": changes within it are not significant.
    #[serde(default)]
    pub noise: Option<S<String>>,
    /// Judge guards in a second phase at equal offered load (absent: when a
    /// closed-loop scenario guards a write and aims at a read).
    #[serde(default)]
    pub equal_load: Option<S<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    #[serde(default)]
    pub op: Option<S<String>>,
    /// `p99`, `storage`, `evidence.NAME`, ...
    pub metric: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGuard {
    #[serde(default)]
    pub op: Option<S<String>>,
    pub metric: S<String>,
    /// Relative to the baseline: "25%".
    #[serde(default)]
    pub max_regression: Option<S<String>>,
    /// Absolute bounds (evidence metrics).
    #[serde(default)]
    pub max: Option<S<f64>>,
    #[serde(default)]
    pub min: Option<S<f64>>,
}
