//! Maximum throughput at an SLO: the highest open-loop arrival rate at which
//! one operation's p99 response time (from the intended start, so lateness
//! counts) stays under a target.
//!
//! The search: probe `start` arrivals/s, doubling while the SLO holds (up to
//! `max`), then bisect between the last rate that held and the first that did
//! not, for `refine` more probes. Each probe is a short warmup plus a measured
//! window on the same variant, with the scenario's mix and clients. Latency
//! grows slowly below a system's capacity and without bound above it, so the
//! search brackets the knee quickly and the bisection narrows it.

use super::plan::{RunPlan, Target};
use super::workers;
use crate::backend::{BackendError, Engine};
use crate::scenario::{LoadModel, SloSearch};
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;
use std::sync::atomic::AtomicBool;

/// One probe of the search.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Probe {
    pub rate_per_s: u32,
    /// The operation's p99 response time, ns.
    pub p99_ns: u64,
    pub late_fraction: f64,
    pub held: bool,
}

/// The search's outcome for one variant.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SloResult {
    pub op: String,
    pub target_p99_ns: u64,
    /// The highest probed rate at which the SLO held; `None` if even the
    /// starting rate failed.
    pub max_rate_per_s: Option<u32>,
    /// Whether the search stopped at `max_rate` with the SLO still holding.
    pub capped: bool,
    pub probes: Vec<Probe>,
}

pub fn search(
    engine: &dyn Engine,
    target: &Target,
    plan: &RunPlan,
    slo: &SloSearch,
    stop: &AtomicBool,
) -> Result<SloResult, BackendError> {
    let mut probes = Vec::new();
    let mut probe = |rate: u32| -> Result<bool, BackendError> {
        let base = plan.load.model.parts();
        let mut p = plan.with_model(LoadModel::Open {
            clients: base.clients,
            rate_per_s: NonZeroU32::new(rate).unwrap_or(NonZeroU32::MIN),
            arrivals: base.arrivals,
            ramp: base.ramp,
        });
        p.load.warmup = slo.step / 4;
        p.load.duration = slo.step;
        let w = workers::measure(engine, target, &p, 0, stop, &|_| {}, &mut workers::at_once)?;
        let p99 = w.records.ops[slo.op].latency.value_at_quantile(0.99);
        let late = w
            .records
            .schedule
            .as_ref()
            .map_or(0.0, |s| s.late as f64 / s.scheduled.max(1) as f64);
        // Response times count from the intended start, so operations that
        // started late already show in the p99: it alone decides.
        let held = w.records.ops[slo.op].count() > 0 && p99 <= slo.p99.as_nanos() as u64;
        probes.push(Probe {
            rate_per_s: rate,
            p99_ns: p99,
            late_fraction: late,
            held,
        });
        Ok(held)
    };
    let (mut good, mut bad): (Option<u32>, Option<u32>) = (None, None);
    let mut rate = slo.start_rate;
    loop {
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            break;
        }
        if probe(rate)? {
            good = Some(rate);
            if rate >= slo.max_rate {
                break;
            }
            rate = rate.saturating_mul(2).min(slo.max_rate);
        } else {
            bad = Some(rate);
            break;
        }
    }
    if let (Some(_), Some(_)) = (good, bad) {
        for _ in 0..slo.refine {
            let (g, b) = (good.unwrap_or(0), bad.unwrap_or(0));
            if b as f64 / g.max(1) as f64 <= 1.02 {
                break;
            }
            let mid = g + (b - g) / 2;
            if probe(mid)? {
                good = Some(mid);
            } else {
                bad = Some(mid);
            }
        }
    }
    Ok(SloResult {
        op: plan.scenario.op_name(slo.op).to_string(),
        target_p99_ns: slo.p99.as_nanos() as u64,
        max_rate_per_s: good,
        capped: bad.is_none() && good == Some(slo.max_rate),
        probes,
    })
}
