//! Per operation group (`[load.groups]`): what load each group offered and
//! whether an open-loop group held its rate while the others ran.

use super::ScheduleResult;
use crate::run::{RunPlan, Window};
use serde::{Deserialize, Serialize};

/// A group holds its rate when it completes at least this share of the
/// operations due in every round's window (less one per client: arrivals
/// are staggered)...
pub const HELD_SHARE: f64 = 0.99;

/// ...and its operations start at most this late at the 99th percentile.
pub const HELD_LAG_NS: u64 = 1_000_000_000;

/// One operation group of one variant, over its measured rounds.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GroupResult {
    pub name: String,
    /// The group's load model in words.
    pub load: String,
    pub ops: Vec<String>,
    /// Open loop: operations per second offered (`None`: closed loop).
    pub target_per_s: Option<f64>,
    /// Successful operations per second, each round.
    pub achieved_per_s: Vec<f64>,
    /// Rows each operation inserts (batch groups), for rows per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_per_op: Option<u32>,
    /// Open loop: how far starts lagged the schedule, all rounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleResult>,
    /// Open loop: whether the rate was held in every round
    /// ([`HELD_SHARE`] of the offered rate, start lag p99 within
    /// [`HELD_LAG_NS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<bool>,
}

impl GroupResult {
    /// The lowest per-round rate achieved.
    pub fn worst_per_s(&self) -> f64 {
        self.achieved_per_s.iter().copied().fold(f64::INFINITY, f64::min)
    }

    /// `x` operations per second in rows per second, for batch groups.
    pub fn rows(&self, per_s: f64) -> Option<f64> {
        self.rows_per_op.map(|r| per_s * r as f64)
    }
}

/// Each declared group's result over `windows` (nothing without groups).
pub fn group_results(plan: &RunPlan, windows: &[&Window]) -> Vec<GroupResult> {
    if plan.load.groups.is_empty() {
        return Vec::new();
    }
    plan.groups
        .iter()
        .zip(&plan.load.groups)
        .enumerate()
        .map(|(g, (run, declared))| {
            // An open loop runs every operation due in the window, however
            // late: a group behind its schedule runs on past the window's end,
            // so its rate is over the time its own clients took (not the
            // other groups': a slow reader ending late is no ingest
            // shortfall). A last operation's overhang of a few milliseconds
            // is within the rounding below.
            let duration = plan.load.duration.as_secs_f64().max(1e-9);
            let achieved_per_s: Vec<f64> = windows
                .iter()
                .map(|w| {
                    let seconds = w.groups.get(g).map_or(w.seconds, |gw| gw.seconds);
                    let mix = run.mix.as_ref().unwrap_or(&plan.mix);
                    mix.ops().map(|op| w.records.ops[op].count()).sum::<u64>() as f64 / seconds.max(duration)
                })
                .collect();
            let schedule = super::summarise::schedule_of(
                windows
                    .iter()
                    .filter_map(|w| w.groups.get(g).and_then(|gw| gw.schedule.as_ref())),
                plan.shard.is_some(),
            );
            let target_per_s = match &run.model {
                crate::scenario::LoadModel::Open { rate_per_s, .. } => Some(rate_per_s.get() as f64),
                _ => None,
            };
            let held = target_per_s.filter(|_| !windows.is_empty()).map(|target| {
                // Arrivals are staggered over the group's clients: each may
                // have one operation fewer due in the window.
                let rounding = run.clients.len() as f64 / duration;
                let rate_kept = achieved_per_s.iter().all(|&a| a >= HELD_SHARE * target - rounding);
                rate_kept && schedule.as_ref().is_none_or(|s| s.lag_ns.p99 <= HELD_LAG_NS)
            });
            GroupResult {
                name: run.name.clone(),
                load: declared.describe(),
                ops: declared.ops.clone(),
                target_per_s,
                achieved_per_s,
                rows_per_op: run.rows_per_op,
                schedule,
                held,
            }
        })
        .collect()
}
