//! The load of a measured window: its model (closed, pipelined, open),
//! phases, cache policy and limits.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

/// The load a measured window applies: its model, phases and limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LoadShape {
    pub model: LoadModel,
    #[serde(with = "crate::util::duration_ms", rename = "warmup_ms")]
    #[schemars(with = "u64")]
    pub warmup: Duration,
    #[serde(with = "crate::util::duration_ms", rename = "duration_ms")]
    #[schemars(with = "u64")]
    pub duration: Duration,
    pub rounds: NonZeroU32,
    /// Warm (default) or cold caches before each variant's window.
    pub cache: CachePolicy,
    /// Longest an operation may run before it is cancelled and counted as a
    /// `timeout` error (PostgreSQL). `None`: no limit.
    #[serde(with = "crate::util::option_duration_ms", rename = "op_timeout_ms")]
    #[schemars(with = "Option<u64>")]
    pub op_timeout: Option<Duration>,
    /// `[load.groups]`: operation groups with their own load models (then
    /// `model` is a closed loop over all their clients, for counting).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<LoadGroup>,
}

/// A group of operations with its own load model, running alongside the
/// other groups in every window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LoadGroup {
    pub name: String,
    /// Its operations; weights from the scenario's `[mix]`.
    pub ops: Vec<String>,
    /// A closed or open loop over the group's own clients.
    pub model: LoadModel,
    /// Rows each operation inserts, when every operation of the group is a
    /// batch of that size (rates are then also reported in rows/s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_per_op: Option<u32>,
}

/// How clients issue operations. Resolved once from `[load]` and the command
/// line by [`LoadModel::resolve`]; everything downstream matches on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LoadModel {
    /// Each client issues its next operation when the last one ends.
    Closed { clients: NonZeroU32 },
    /// A closed loop with `depth` requests in flight per connection
    /// (PostgreSQL, single-statement reads outside transactions).
    Pipelined { clients: NonZeroU32, depth: NonZeroU32 },
    /// Operations arrive on a schedule at `rate_per_s` over all clients and
    /// latency counts from each intended start; `ramp` rates are stepped
    /// through during the warmup.
    Open {
        clients: NonZeroU32,
        rate_per_s: NonZeroU32,
        arrivals: Arrivals,
        ramp: Vec<NonZeroU32>,
    },
}

/// What a [`LoadModel`] is resolved from: `[load]` fields, each of which the
/// command line may override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadModelParts {
    pub clients: NonZeroU32,
    /// Open-loop arrivals per second; `None` for a closed loop.
    pub rate: Option<NonZeroU32>,
    /// Requests in flight per connection; 1 is the usual closed loop.
    pub pipeline: NonZeroU32,
    pub arrivals: Arrivals,
    pub ramp: Vec<NonZeroU32>,
}

/// Most requests in flight on one connection.
pub const MAX_PIPELINE: u32 = 1024;

/// Why `[load]` fields do not make a load model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LoadModelError {
    #[error("pipelined mode is a closed loop; leave out `rate` or `pipeline`")]
    PipelineWithRate,
    #[error("at most {MAX_PIPELINE} requests in flight per connection")]
    PipelineTooDeep,
    #[error("a ramp steps open-loop rates; set `rate` (the measured rate) too")]
    RampWithoutRate,
}

impl LoadModel {
    /// The one place valid combinations are decided.
    pub fn resolve(parts: LoadModelParts) -> Result<LoadModel, LoadModelError> {
        let LoadModelParts {
            clients,
            rate,
            pipeline,
            arrivals,
            ramp,
        } = parts;
        if pipeline.get() > MAX_PIPELINE {
            return Err(LoadModelError::PipelineTooDeep);
        }
        match (rate, pipeline.get()) {
            (Some(_), 2..) => Err(LoadModelError::PipelineWithRate),
            (Some(rate_per_s), _) => Ok(LoadModel::Open {
                clients,
                rate_per_s,
                arrivals,
                ramp,
            }),
            (None, _) if !ramp.is_empty() => Err(LoadModelError::RampWithoutRate),
            (None, 1) => Ok(LoadModel::Closed { clients }),
            (None, _) => Ok(LoadModel::Pipelined {
                clients,
                depth: pipeline,
            }),
        }
    }

    /// The fields this model was resolved from, for overriding some of them.
    pub fn parts(&self) -> LoadModelParts {
        let mut parts = LoadModelParts {
            clients: self.clients(),
            rate: None,
            pipeline: NonZeroU32::MIN,
            arrivals: Arrivals::default(),
            ramp: Vec::new(),
        };
        match self {
            LoadModel::Closed { .. } => {}
            LoadModel::Pipelined { depth, .. } => parts.pipeline = *depth,
            LoadModel::Open {
                rate_per_s,
                arrivals,
                ramp,
                ..
            } => {
                parts.rate = Some(*rate_per_s);
                parts.arrivals = *arrivals;
                parts.ramp = ramp.clone();
            }
        }
        parts
    }

    pub fn clients(&self) -> NonZeroU32 {
        match self {
            LoadModel::Closed { clients } | LoadModel::Pipelined { clients, .. } | LoadModel::Open { clients, .. } => {
                *clients
            }
        }
    }

    pub fn is_open(&self) -> bool {
        matches!(self, LoadModel::Open { .. })
    }

    /// Open-loop arrival rate at `elapsed` into a window whose warmup is
    /// `warmup`: the ramp steps split the warmup evenly, then the measured
    /// rate. `None` for closed loops.
    pub fn rate_at(&self, warmup: Duration, elapsed: Duration) -> Option<f64> {
        let LoadModel::Open { rate_per_s, ramp, .. } = self else {
            return None;
        };
        if ramp.is_empty() || elapsed >= warmup {
            return Some(rate_per_s.get() as f64);
        }
        let step = warmup.as_secs_f64() / ramp.len() as f64;
        let i = ((elapsed.as_secs_f64() / step) as usize).min(ramp.len() - 1);
        Some(ramp[i].get() as f64)
    }
}

impl fmt::Display for LoadModel {
    /// "closed loop, 4 clients" or "open loop, 2000/s poisson arrivals over 4 clients".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadModel::Closed { clients } => write!(f, "closed loop, {clients} clients"),
            LoadModel::Pipelined { clients, depth } => write!(
                f,
                "pipelined closed loop, {clients} clients with {depth} requests in flight each"
            ),
            LoadModel::Open {
                clients,
                rate_per_s,
                arrivals,
                ..
            } => write!(
                f,
                "open loop, {rate_per_s}/s {} arrivals over {clients} clients",
                match arrivals {
                    Arrivals::Uniform => "uniform",
                    Arrivals::Poisson => "poisson",
                }
            ),
        }
    }
}

/// Cache state at the start of each measured window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CachePolicy {
    /// Caches as the previous work left them, then the warmup.
    #[default]
    Warm,
    /// PostgreSQL restarted before every window (empty shared buffers).
    Cold,
}

/// Spacing of open-loop arrivals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Arrivals {
    /// Evenly spaced, clients staggered.
    #[default]
    Uniform,
    /// Exponentially distributed gaps (a Poisson process per client).
    Poisson,
}

impl LoadShape {
    pub fn clients(&self) -> NonZeroU32 {
        self.model.clients()
    }

    /// The load model in words, with the cache policy when caches are cold.
    pub fn describe(&self) -> String {
        let model = if self.groups.is_empty() {
            self.model.to_string()
        } else {
            let groups: Vec<String> = self.groups.iter().map(LoadGroup::describe).collect();
            groups.join("; ")
        };
        match self.cache {
            CachePolicy::Cold => format!("{model}, cold caches"),
            CachePolicy::Warm => model,
        }
    }
}

impl LoadGroup {
    /// "ingest: open loop, 40/s (20000 rows/s) uniform arrivals over 1 clients".
    pub fn describe(&self) -> String {
        match (&self.model, self.rows_per_op) {
            (LoadModel::Open { rate_per_s, .. }, Some(rows)) => format!(
                "{}: {} ({} rows/s)",
                self.name,
                self.model,
                rate_per_s.get() as u64 * rows as u64
            ),
            _ => format!("{}: {}", self.name, self.model),
        }
    }
}
