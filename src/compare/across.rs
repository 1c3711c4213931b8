//! One run against an earlier one (a saved baseline, or another run
//! folder): for every backend, variant, operation and metric both measured,
//! the same effect, interval and classification as a variant against its
//! baseline variant ([`super::effect`]), with a per-metric threshold as the
//! noise band. A regression is an effect classified worse beyond its
//! threshold. Plan changes, differing answers and guards that newly fail are
//! findings of their own, whether or not timings moved.

use super::{OP_METRICS, VARIANT_METRICS, effect};
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

/// The whole comparison of a run with an earlier one.
#[derive(Debug, Clone)]
pub struct RunComparison {
    pub effects: Vec<AcrossEffect>,
    pub findings: Vec<Finding>,
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

/// Why two runs should not be compared: a different scenario, seed, scale,
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

/// Compares `now` with `earlier`, variant by variant (matched by name).
pub fn across_runs(now: &RunResult, earlier: &RunResult, thresholds: &Thresholds) -> RunComparison {
    let noise = now.comparison.noise;
    let mut effects = Vec::new();
    let mut findings = Vec::new();
    for before in &earlier.backends {
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
            for o in &bv.ops {
                if v.op(&o.op).is_none() {
                    findings.push(Finding::Missing {
                        what: format!("{} {} {}", before.backend, bv.name, o.op),
                    });
                    continue;
                }
                for metric in OP_METRICS {
                    let threshold = thresholds.for_metric(metric, noise);
                    if let Some(e) = effect(v, bv, Some(&o.op), metric, threshold) {
                        effects.push(AcrossEffect {
                            backend: after.backend,
                            variant: v.name.clone(),
                            op: Some(o.op.clone()),
                            metric,
                            threshold,
                            effect: e,
                        });
                    }
                }
            }
            for metric in VARIANT_METRICS {
                let threshold = thresholds.for_metric(metric, noise);
                if let Some(e) = effect(v, bv, None, metric, threshold) {
                    effects.push(AcrossEffect {
                        backend: after.backend,
                        variant: v.name.clone(),
                        op: None,
                        metric,
                        threshold,
                        effect: e,
                    });
                }
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
    findings.extend(new_guard_failures(now, earlier));
    RunComparison { effects, findings }
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
