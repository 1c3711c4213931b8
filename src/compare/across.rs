//! One run against earlier ones (a saved baseline of one or more runs, or
//! another run folder), for every backend, variant, operation and metric
//! both measured, classified against a per-metric threshold (the noise band
//! by default) with the same rule as variant comparisons. A regression is an
//! effect classified worse beyond its threshold. Plan changes, differing
//! answers and guards that newly fail are findings of their own, whether or
//! not timings moved.
//!
//! The interval depends on what the baseline can tell:
//! - **Several baseline runs** (3 or more settle an effect): each run is one
//!   value (the geometric mean of its rounds), and the interval is a
//!   prediction interval for a new run from the baseline runs' spread, so
//!   the run-to-run variation a shared machine has (CPU state, caches,
//!   neighbours) is inside it.
//! - **One baseline run**: rounds are paired by number as between variants
//!   ([`super::effect`]); the interval knows only round-to-round noise
//!   within each run, so a shift between runs can pass for a regression.
//!   The outputs say so.

use super::stats::{self, LEVEL};
use super::{OP_METRICS, VARIANT_METRICS, effect, fewest_round_ops, min_ops};
use crate::backend::BackendKind;
use crate::result::{Class, Effect, RunResult, VariantResult};
use crate::scenario::Metric;
use std::collections::HashMap;

/// Per-metric thresholds (fractions, e.g. 0.10 for 10%); metrics without
/// one use the scenario's noise band.
#[derive(Debug, Clone, Default)]
pub struct Thresholds(pub HashMap<Metric, f64>);

impl Thresholds {
    fn for_metric(&self, metric: Metric, noise: f64) -> f64 {
        self.0.get(&metric).copied().unwrap_or(noise)
    }
}

/// One metric of one variant (of one operation) against the earlier run.
#[derive(Debug, Clone)]
pub struct AcrossEffect {
    pub backend: BackendKind,
    pub variant: String,
    pub op: Option<String>,
    pub metric: Metric,
    /// The band this metric was classified against.
    pub threshold: f64,
    pub effect: Effect,
}

impl AcrossEffect {
    pub fn regressed(&self) -> bool {
        self.effect.class == Class::Worse
    }

    /// `sqlite user_id recent_orders p99`.
    pub fn label(&self) -> String {
        match &self.op {
            Some(op) => format!("{} {} {op} {}", self.backend, self.variant, self.metric.name_in(&[])),
            None => format!("{} {} {}", self.backend, self.variant, self.metric.name_in(&[])),
        }
    }
}

/// Something that changed besides timings.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// The plan of an operation's statement differs from the earlier run's.
    PlanChanged {
        backend: BackendKind,
        variant: String,
        op: String,
        before: String,
        after: String,
    },
    /// This run's answer check found different rows.
    AnswersDiffer {
        backend: BackendKind,
        variant: String,
        op: String,
    },
    /// A guard that passed in the earlier run fails in this one.
    GuardNewlyFails {
        backend: BackendKind,
        variant: String,
        guard: String,
    },
    /// A variant or operation the earlier run measured is missing.
    Missing { what: String },
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::PlanChanged {
                backend,
                variant,
                op,
                before,
                after,
            } => write!(f, "{backend} {variant} {op}: plan changed: {before} → {after}"),
            Finding::AnswersDiffer { backend, variant, op } => {
                write!(
                    f,
                    "{backend} {variant} {op}: answers differ from the baseline variant's"
                )
            }
            Finding::GuardNewlyFails {
                backend,
                variant,
                guard,
            } => {
                write!(
                    f,
                    "{backend} {variant}: guard {guard} now fails (it passed in the earlier run)"
                )
            }
            Finding::Missing { what } => write!(f, "{what}: measured in the earlier run, missing now"),
        }
    }
}

/// The whole comparison of a run with earlier ones.
#[derive(Debug, Clone)]
pub struct RunComparison {
    pub effects: Vec<AcrossEffect>,
    pub findings: Vec<Finding>,
    /// Runs in the baseline (1: run-to-run variation not measured).
    pub baseline_runs: usize,
}

impl RunComparison {
    pub fn regressions(&self) -> impl Iterator<Item = &AcrossEffect> {
        self.effects.iter().filter(|e| e.regressed())
    }

    /// Whether a gate should fail: a regression or any finding.
    pub fn fails(&self) -> bool {
        self.regressions().next().is_some() || !self.findings.is_empty()
    }
}

/// [`across_runs`] after checking the runs may be compared: the ways `now`
/// differs from any of `earlier` (scenario, seed, scale, load model) are the
/// error, unless `allow_different`.
pub fn compare_runs(
    now: &RunResult,
    earlier: &[RunResult],
    thresholds: &Thresholds,
    allow_different: bool,
) -> Result<RunComparison, Vec<String>> {
    let differ: Vec<String> = earlier
        .iter()
        .flat_map(|e| crate::result::differences(now, e))
        .collect();
    if differ.is_empty() || allow_different {
        Ok(across_runs(now, earlier, thresholds))
    } else {
        Err(differ)
    }
}

/// Compares `now` with the baseline runs `earlier` (at least one), variant
/// by variant (matched by name). Plans, guards and missing parts are
/// compared with the first baseline run.
pub fn across_runs(now: &RunResult, earlier: &[RunResult], thresholds: &Thresholds) -> RunComparison {
    let noise = now.comparison.noise;
    let mut effects = Vec::new();
    let mut findings = Vec::new();
    let first = &earlier[0];
    for before in &first.backends {
        let Some(after) = now.backends.iter().find(|b| b.backend == before.backend) else {
            findings.push(Finding::Missing {
                what: before.backend.to_string(),
            });
            continue;
        };
        for bv in &before.variants {
            let Some(v) = after.variants.iter().find(|v| v.name == bv.name) else {
                findings.push(Finding::Missing {
                    what: format!("{} {}", before.backend, bv.name),
                });
                continue;
            };
            // The same variant in every baseline run.
            let others: Vec<&VariantResult> = earlier
                .iter()
                .filter_map(|r| r.backend(before.backend)?.variant(&bv.name))
                .collect();
            let family = v.ops.len() * OP_METRICS.len() + VARIANT_METRICS.len();
            let mut judge = |op: Option<&str>, metric: Metric| {
                let threshold = thresholds.for_metric(metric, noise);
                let e = if others.len() >= 2 {
                    against_runs(v, &others, op, metric, threshold, family)
                } else {
                    effect(v, bv, op, metric, threshold)
                };
                if let Some(e) = e {
                    effects.push(AcrossEffect {
                        backend: after.backend,
                        variant: v.name.clone(),
                        op: op.map(str::to_string),
                        metric,
                        threshold,
                        effect: e,
                    });
                }
            };
            for o in &bv.ops {
                if v.op(&o.op).is_none() {
                    findings.push(Finding::Missing {
                        what: format!("{} {} {}", before.backend, bv.name, o.op),
                    });
                    continue;
                }
                for metric in OP_METRICS {
                    judge(Some(&o.op), metric);
                }
            }
            for metric in VARIANT_METRICS {
                judge(None, metric);
            }
            findings.extend(plan_changes(after.backend, v, bv));
        }
        for m in &after.answers.mismatches {
            findings.push(Finding::AnswersDiffer {
                backend: after.backend,
                variant: m.variant.clone(),
                op: m.op.clone(),
            });
        }
    }
    findings.extend(new_guard_failures(now, first));
    RunComparison {
        effects,
        findings,
        baseline_runs: earlier.len(),
    }
}

/// A run's value of a metric: the geometric mean of its rounds' values, or
/// its single value (storage).
fn run_value(v: &VariantResult, op: Option<&str>, metric: Metric) -> Option<f64> {
    let (rounds, single) = match op {
        Some(op) => {
            let o = v.op(op)?;
            (o.round_metric(metric), o.metric(metric))
        }
        None => (v.round_metric(metric), v.metric(metric)),
    };
    let logs: Vec<f64> = rounds
        .into_iter()
        .flatten()
        .filter(|x| x.is_finite() && *x > 0.0)
        .map(f64::ln)
        .collect();
    if logs.is_empty() {
        return single.filter(|x| x.is_finite() && *x > 0.0);
    }
    Some((logs.iter().sum::<f64>() / logs.len() as f64).exp())
}

/// `now` against several baseline runs: the log of its value against the
/// baseline runs' mean log, with a prediction interval for one new run
/// from their spread (t with n − 1 degrees of freedom, × √(1 + 1/n)),
/// classified at the family-wise level like variant effects.
fn against_runs(
    now: &VariantResult,
    earlier: &[&VariantResult],
    op: Option<&str>,
    metric: Metric,
    threshold: f64,
    family: usize,
) -> Option<Effect> {
    let value = run_value(now, op, metric)?;
    let logs: Vec<f64> = earlier
        .iter()
        .filter_map(|b| run_value(b, op, metric))
        .map(f64::ln)
        .collect();
    let n = logs.len();
    let level = stats::class_level(family);
    let (ratio, lo, hi) = stats::prediction(&logs, value.ln(), LEVEL)?;
    let (_, class_lo, class_hi) = stats::prediction(&logs, value.ln(), level)?;
    // Too few operations in some round for this percentile: never classified.
    let fewest = fewest_round_ops(std::iter::once(now).chain(earlier.iter().copied()), op, metric);
    let too_few = fewest.is_some_and(|f| f < min_ops(metric));
    let ratios: Vec<f64> = logs.iter().map(|l| (value.ln() - l).exp()).collect();
    let class = if too_few {
        Class::Inconclusive
    } else {
        stats::classify(
            ratio,
            Some((class_lo, class_hi)),
            n,
            threshold,
            metric.lower_is_better(),
        )
    };
    Some(Effect {
        value,
        baseline_value: value / ratio,
        ratio,
        round_min: ratios.iter().copied().reduce(f64::min),
        round_max: ratios.iter().copied().reduce(f64::max),
        rounds: n,
        ci_low: Some(lo),
        ci_high: Some(hi),
        class,
        outlier_rounds: Vec::new(),
        rounds_needed: None,
        dropped_rounds: Vec::new(),
        class_level: level,
        too_few_ops: fewest.filter(|_| too_few),
    })
}

/// Operations whose plan summary differs between the runs.
fn plan_changes(backend: BackendKind, now: &VariantResult, earlier: &VariantResult) -> Vec<Finding> {
    let line = |p: &crate::run::explain::OpQueryPlan| {
        p.steps
            .iter()
            .map(|s| s.summary.as_str())
            .collect::<Vec<_>>()
            .join(" | ")
    };
    earlier
        .plans
        .iter()
        .filter_map(|before| {
            let after = now.plans.iter().find(|p| p.op == before.op)?;
            let (b, a) = (line(before), line(after));
            (b != a && before.error.is_none() && after.error.is_none()).then(|| Finding::PlanChanged {
                backend,
                variant: now.name.clone(),
                op: before.op.clone(),
                before: b,
                after: a,
            })
        })
        .collect()
}

/// Guards that passed in the earlier run and fail in this one.
fn new_guard_failures(now: &RunResult, earlier: &RunResult) -> Vec<Finding> {
    let mut out = Vec::new();
    for v in &now.comparison.verdicts {
        let before = earlier.comparison.verdicts.iter().find(|e| e.backend == v.backend);
        for c in &v.candidates {
            for g in c.guards.iter().filter(|g| !g.pass) {
                let passed_before = before
                    .and_then(|b| b.candidates.iter().find(|x| x.variant == c.variant))
                    .and_then(|x| x.guards.iter().find(|x| x.guard == g.guard))
                    .is_some_and(|x| x.pass);
                if passed_before {
                    out.push(Finding::GuardNewlyFails {
                        backend: v.backend,
                        variant: c.variant.clone(),
                        guard: g.guard.clone(),
                    });
                }
            }
        }
    }
    out
}
