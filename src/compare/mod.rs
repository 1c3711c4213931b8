//! Comparison against the baseline variant: every effect carries a
//! bootstrap confidence interval across rounds and a classification against
//! the noise band (see [`stats`]); a variant wins only when its goal effect is
//! classified "better", and an effect the evidence cannot settle is reported
//! as inconclusive, never as a win. Returns data ([`Comparison`]); the
//! sentences are written in `report`.

pub mod across;
pub mod stats;
pub mod sweep;

use crate::backend::ErrorClass;
use crate::result::{
    AbsoluteLimit, AcrossEngines, BackendResult, CONFOUNDING_LOAD, Candidate, Class, Comparison, DropReason,
    DroppedRound, Effect, EffectEntry, GuardOutcome, OpResult, Outcome, RoundOp, RuledOut, RunResult, VariantResult,
    Verdict,
};
use crate::scenario::{EvidenceRef, GuardLimit, Metric, VerdictRule};
use crate::util::shown_ratio;

/// Every metric an effect is computed for: per operation, then per variant.
pub const OP_METRICS: [Metric; 7] = [
    Metric::P50,
    Metric::P90,
    Metric::P99,
    Metric::P999,
    Metric::Max,
    Metric::Mean,
    Metric::Throughput,
];
pub const VARIANT_METRICS: [Metric; 3] = [Metric::Storage, Metric::SetupTime, Metric::WalPerWrite];

/// A variant's own value of a metric: of operation `op` for per-operation
/// metrics (recall), else of the whole variant (evidence).
fn own_value(variant: &VariantResult, op: Option<&str>, metric: Metric) -> Option<f64> {
    match op.filter(|_| metric.is_per_op()) {
        Some(op) => variant.op(op)?.metric(metric),
        None => variant.metric(metric),
    }
}

/// Whether a lower or higher ratio is an improvement for `metric`.
pub fn improves(metric: Metric, ratio: f64) -> bool {
    if metric.lower_is_better() {
        ratio < 1.0
    } else {
        ratio > 1.0
    }
}

/// The effect of `variant` against `baseline` on `metric` (of operation `op`
/// for per-operation metrics), classified against the noise band `noise`.
pub fn effect(
    variant: &VariantResult,
    baseline: &VariantResult,
    op: Option<&str>,
    metric: Metric,
    noise: f64,
) -> Option<Effect> {
    let searches = variant.ops.iter().filter(|o| o.recall.is_some()).count();
    let family = variant.ops.len() * OP_METRICS.len() + searches + VARIANT_METRICS.len() + variant.evidence.len();
    let level = stats::class_level(family);
    // Fewest operations in any round on either side: a tail percentile of a
    // few hundred operations is one or two of them.
    let fewest_ops = fewest_round_ops([variant, baseline], op, metric);
    let (value, baseline_value, v_rounds, b_rounds) = match op.filter(|_| metric.is_per_op()) {
        Some(op) => {
            let (v, b) = (variant.op(op)?, baseline.op(op)?);
            (
                v.metric(metric)?,
                b.metric(metric)?,
                v.round_metric(metric),
                b.round_metric(metric),
            )
        }
        None => (
            variant.metric(metric)?,
            baseline.metric(metric)?,
            variant.round_metric(metric),
            baseline.round_metric(metric),
        ),
    };
    let mut ratios = Vec::new();
    let mut dropped_rounds: Vec<DroppedRound> = Vec::new();
    for (i, (x, y)) in v_rounds.into_iter().zip(b_rounds).enumerate() {
        let reason = match (x, y) {
            (None, _) => DropReason::VariantIdle,
            (_, None) => DropReason::BaselineIdle,
            (Some(x), Some(y)) if (x / y).is_finite() && x > 0.0 => {
                ratios.push(x / y);
                continue;
            }
            _ => DropReason::Zero,
        };
        dropped_rounds.push(DroppedRound { round: i + 1, reason });
    }
    let merged = value / baseline_value;
    // A zero baseline (no setup statements, no writes) has no ratio.
    if !merged.is_finite() {
        return None;
    }
    let estimate = stats::round_estimate(&ratios);
    let interval = estimate.and_then(|e| e.interval);
    let ratio = estimate.map_or(merged, |e| e.ratio);
    let fold = |f: fn(f64, f64) -> f64| ratios.iter().copied().reduce(f);
    // Metrics without per-round values (storage) are single measurements;
    // per-round metrics need their rounds. A whole-variant
    // metric without usable rounds (a variant with no setup statements) is
    // judged by its single value.
    let rounds_for_class = if ratios.is_empty() && !metric.is_per_op() {
        dropped_rounds.clear();
        0
    } else {
        ratios.len().max(1)
    };
    let class_interval = stats::round_estimate_at(&ratios, level).and_then(|e| e.interval);
    let too_few_ops = fewest_ops.is_some_and(|n| n < min_ops(metric));
    let class = if too_few_ops {
        Class::Inconclusive
    } else {
        stats::classify(ratio, class_interval, rounds_for_class, noise, metric.lower_is_better())
    };
    Some(Effect {
        value,
        baseline_value,
        ratio,
        round_min: fold(f64::min),
        round_max: fold(f64::max),
        rounds: ratios.len(),
        ci_low: interval.map(|i| i.0),
        ci_high: interval.map(|i| i.1),
        class,
        outlier_rounds: stats::outliers(&ratios),
        rounds_needed: estimate
            .filter(|_| class == Class::Inconclusive && !too_few_ops)
            .and_then(|e| stats::rounds_needed(&e, noise, level)),
        dropped_rounds,
        class_level: level,
        too_few_ops: fewest_ops.filter(|_| too_few_ops),
    })
}

/// The fewest operations `op` completed in any round of any of `variants`
/// (`None` for whole-variant metrics): a tail percentile of a few hundred
/// operations is one or two of them.
pub(crate) fn fewest_round_ops<'a>(
    variants: impl IntoIterator<Item = &'a VariantResult>,
    op: Option<&str>,
    metric: Metric,
) -> Option<u64> {
    let op = op.filter(|_| metric.is_per_op())?;
    variants
        .into_iter()
        .filter_map(|v| v.op(op).map(|o| o.rounds.iter().map(|r| r.count).min().unwrap_or(0)))
        .min()
}

/// Operations a round needs before a metric's ratio is classified: two
/// beyond the percentile (200 for p99), so it is never the slowest
/// operation alone; ten for p99.9 (10,000), whose ratios of a few thousand
/// operations called identical designs different in the A/A check; the
/// maximum is one operation and is never classified.
pub fn min_ops(metric: Metric) -> u64 {
    match metric {
        Metric::P50 | Metric::Mean => 10,
        Metric::P90 => 20,
        Metric::P99 => 200,
        Metric::P999 => 10_000,
        Metric::Max => u64::MAX,
        _ => 0,
    }
}

fn label(result: &RunResult, op: Option<&str>, metric: Metric) -> String {
    let name = metric.name_in(&result.scenario.evidence);
    match op {
        Some(op) if metric.is_per_op() => format!("{op} {name}"),
        _ => name,
    }
}

/// Compares every variant with the baseline on every backend: all effects,
/// the verdicts, and the engines against each other.
pub fn compare(result: &RunResult, rule: &VerdictRule, op_names: &[String]) -> Comparison {
    Comparison {
        noise: rule.noise,
        effects: result
            .backends
            .iter()
            .flat_map(|b| effects(result, b, rule.noise))
            .collect(),
        verdicts: verdicts(result, rule, op_names),
        across_engines: across_engines(result),
    }
}

/// A variant as its equal-load phase measured it (`None` without one):
/// per-operation latency is the service time from each operation's actual
/// start, so an operation is not charged for waiting behind the variant's
/// slower operations on the same client; WAL per write is the phase's.
/// Storage and setup time are the variant's own.
pub fn at_equal_load(v: &VariantResult) -> Option<VariantResult> {
    let phase = v.equal_load.as_ref()?;
    let service = |o: &OpResult| OpResult {
        latency_ns: o.service_ns.unwrap_or(o.latency_ns),
        rounds: o
            .rounds
            .iter()
            .map(|r| RoundOp {
                latency_ns: r.service_ns.unwrap_or(r.latency_ns),
                ..r.clone()
            })
            .collect(),
        ..o.clone()
    };
    Some(VariantResult {
        ops: phase.ops.iter().map(service).collect(),
        rounds_completed: phase.rounds_completed,
        server_counters: phase.server_counters.clone(),
        equal_load: None,
        ..v.clone()
    })
}

fn effects(result: &RunResult, b: &BackendResult, noise: f64) -> Vec<EffectEntry> {
    let Some(baseline) = b.variant(&result.scenario.verdict_rule.baseline) else {
        return Vec::new();
    };
    let baseline_equal = at_equal_load(baseline);
    let mut out = Vec::new();
    for v in b.variants.iter().filter(|v| v.name != baseline.name) {
        let equal = at_equal_load(v);
        let phases = [
            Some((v, baseline, false)),
            equal.as_ref().zip(baseline_equal.as_ref()).map(|(v, b)| (v, b, true)),
        ];
        for (v, baseline, equal_load) in phases.into_iter().flatten() {
            let mut push = |op: Option<&str>, metric: Metric| {
                if let Some(effect) = effect(v, baseline, op, metric, noise) {
                    out.push(EffectEntry {
                        backend: b.backend,
                        variant: v.name.clone(),
                        op: op.map(str::to_string),
                        metric,
                        equal_load,
                        effect,
                    });
                }
            };
            for o in &v.ops {
                for metric in OP_METRICS {
                    push(Some(&o.op), metric);
                }
                if o.recall.is_some() {
                    push(Some(&o.op), Metric::Recall);
                }
            }
            let whole = if equal_load {
                &[Metric::WalPerWrite][..]
            } else {
                &VARIANT_METRICS[..]
            };
            for &metric in whole {
                push(None, metric);
            }
            if !equal_load {
                for (index, q) in result.scenario.evidence.iter().enumerate() {
                    let higher_is_better = q.higher_is_better;
                    push(
                        None,
                        Metric::Evidence(EvidenceRef {
                            index,
                            higher_is_better,
                        }),
                    );
                }
            }
        }
    }
    out
}

/// The same variant and operation on the first two engines.
fn across_engines(result: &RunResult) -> Vec<AcrossEngines> {
    let [a, b] = match result.backends.as_slice() {
        [a, b] => [a, b],
        _ => return Vec::new(),
    };
    let ratio = |x: f64, y: f64| (x > 0.0).then(|| y / x);
    let mut out = Vec::new();
    for va in &a.variants {
        let Some(vb) = b.variant(&va.name) else { continue };
        for oa in &va.ops {
            let Some(ob) = vb.op(&oa.op) else { continue };
            out.push(AcrossEngines {
                first: a.backend,
                second: b.backend,
                variant: va.name.clone(),
                op: oa.op.clone(),
                p50_ratio: ratio(oa.latency_ns.p50 as f64, ob.latency_ns.p50 as f64),
                p99_ratio: ratio(oa.latency_ns.p99 as f64, ob.latency_ns.p99 as f64),
                throughput_ratio: ratio(oa.throughput_per_s, ob.throughput_per_s),
            });
        }
    }
    out
}

/// Applies the verdict rule to every backend of a result.
fn verdicts(result: &RunResult, rule: &VerdictRule, op_names: &[String]) -> Vec<Verdict> {
    result
        .backends
        .iter()
        .map(|b| verdict(result, b, rule, op_names))
        .collect()
}

fn verdict(result: &RunResult, b: &BackendResult, rule: &VerdictRule, op_names: &[String]) -> Verdict {
    let baseline_name = &result.scenario.verdict_rule.baseline;
    let goal_op = rule.goal.op.map(|i| op_names[i.0].as_str());
    let goal = label(result, goal_op, rule.goal.metric);
    let mut v = Verdict {
        backend: b.backend,
        outcome: Outcome::NoData,
        winner: None,
        lead: None,
        baseline: baseline_name.clone(),
        goal,
        goal_metric: rule.goal.metric,
        candidates: Vec::new(),
    };
    let Some(baseline) = b.variant(baseline_name).filter(|x| x.rounds_completed > 0) else {
        return v;
    };
    let baseline_equal = at_equal_load(baseline).filter(|x| x.rounds_completed > 0);
    // In a closed loop a variant that serves one operation faster issues
    // more of all of them: its other operations then run under a different
    // load than the baseline's.
    let total = |x: &VariantResult| x.ops.iter().map(|o| o.throughput_per_s).sum::<f64>();
    let closed = !result.scenario.load.model.is_open();
    // The rate the equal-load phase would offer (the same share of the
    // slowest variant's closed-loop throughput as `run` uses).
    let equal_load_rate = (b
        .variants
        .iter()
        .filter(|x| x.rounds_completed > 0)
        .map(total)
        .fold(f64::INFINITY, f64::min)
        * crate::run::EQUAL_LOAD_FRACTION)
        .floor()
        .max(1.0) as u64;
    for variant in b
        .variants
        .iter()
        .filter(|x| x.name != *baseline_name && x.rounds_completed > 0)
    {
        // Guards are judged at equal load where that phase ran for both.
        let equal = at_equal_load(variant)
            .filter(|x| x.rounds_completed > 0)
            .zip(baseline_equal.as_ref());
        let guards: Vec<GuardOutcome> = rule
            .guards
            .iter()
            .map(|g| {
                let op = g.op.map(|i| op_names[i.0].as_str());
                // Recall does not depend on the load: it is measured once
                // per round, before the window.
                let judged_equal =
                    equal.is_some() && g.metric != Metric::Recall && (op.is_some() || g.metric == Metric::WalPerWrite);
                let e = match &equal {
                    Some((v, b)) if judged_equal => effect(v, b, op, g.metric, rule.noise),
                    _ => effect(variant, baseline, op, g.metric, rule.noise),
                };
                let (limit_ratio, absolute) = match g.limit {
                    GuardLimit::Regression(r) if g.metric.lower_is_better() => (1.0 + r, None),
                    GuardLimit::Regression(r) => (1.0 - r, None),
                    GuardLimit::AtMost(bound) => (1.0, Some((true, bound))),
                    GuardLimit::AtLeast(bound) => (1.0, Some((false, bound))),
                };
                let pass = match absolute {
                    // The variant's own value against the bound.
                    Some((at_most, bound)) => {
                        own_value(variant, op, g.metric).is_some_and(|v| if at_most { v <= bound } else { v >= bound })
                    }
                    // Compared as shown: "1.25× (limit 1.25×)" passes.
                    None => e.as_ref().is_some_and(|e| {
                        let shown = shown_ratio(e.ratio);
                        if g.metric.lower_is_better() {
                            shown <= limit_ratio
                        } else {
                            shown >= limit_ratio
                        }
                    }),
                };
                let load_ratio = total(variant) / total(baseline);
                let confounded = !pass
                    && !judged_equal
                    && closed
                    && op.is_some()
                    && g.metric.lower_is_better()
                    && load_ratio.is_finite()
                    && load_ratio >= CONFOUNDING_LOAD;
                GuardOutcome {
                    guard: label(result, op, g.metric),
                    absolute: absolute.map(|(at_most, bound)| AbsoluteLimit {
                        at_most,
                        bound,
                        value: own_value(variant, op, g.metric),
                    }),
                    metric: g.metric,
                    effect: e,
                    limit_ratio,
                    pass,
                    confounded_by_load: confounded.then_some(load_ratio),
                    at_equal_load: b.equal_load_rate_per_s.filter(|_| judged_equal),
                }
            })
            .collect();
        let answers_match = !b.answers.mismatches.iter().any(|m| m.variant == variant.name);
        // Lost connections say something about the surroundings (a
        // terminated session, a restart), not the design: they make the run
        // unfit past a limit (`RunInfo::unfit_because`) but rule nothing out.
        let errors: u64 = variant
            .ops
            .iter()
            .flat_map(|o| o.errors.iter())
            .filter(|(class, _)| **class != ErrorClass::ConnectionLost)
            .map(|(_, n)| n)
            .sum();
        let mut ruled_out = Vec::new();
        if !answers_match {
            ruled_out.push(RuledOut::DifferentAnswers);
        }
        if errors > 0 {
            ruled_out.push(RuledOut::FailedOperations { count: errors });
        }
        let failed: Vec<String> = guards
            .iter()
            .filter(|g| !g.pass && g.confounded_by_load.is_none())
            .map(|g| g.guard.clone())
            .collect();
        if !failed.is_empty() {
            ruled_out.push(RuledOut::FailedGuards { guards: failed });
        }
        let confounded: Vec<&GuardOutcome> = guards.iter().filter(|g| g.confounded_by_load.is_some()).collect();
        if let Some(first) = confounded.first() {
            ruled_out.push(RuledOut::ConfoundedGuards {
                guards: confounded.iter().map(|g| g.guard.clone()).collect(),
                throughput_ratio: first.confounded_by_load.unwrap_or(1.0),
                equal_load_rate,
            });
        }
        v.candidates.push(Candidate {
            variant: variant.name.clone(),
            goal: effect(variant, baseline, goal_op, rule.goal.metric, rule.noise),
            qualified: ruled_out.is_empty(),
            guards,
            answers_match,
            errors,
            ruled_out,
        });
    }
    decide(&mut v, rule.goal.metric, rule.noise);
    v
}

/// Picks the lead: the best qualified candidate classified better (a
/// winner), else the best qualified one that improves inconclusively.
fn decide(v: &mut Verdict, metric: Metric, noise: f64) {
    let cost = |e: &Effect| {
        if metric.lower_is_better() {
            e.ratio
        } else {
            1.0 / e.ratio
        }
    };
    // A lead must at least look better by more than the noise band: 0.98×
    // inside a ±5% band is no lead, whatever its class.
    let beyond_band = |g: &Effect| {
        if metric.lower_is_better() {
            g.ratio < 1.0 - noise
        } else {
            g.ratio > 1.0 + noise
        }
    };
    let best_of = |class: Class| {
        v.candidates
            .iter()
            .filter(|c| c.qualified)
            .filter_map(|c| c.goal.as_ref().map(|g| (c, g)))
            .filter(|(_, g)| g.class == class && improves(metric, g.ratio) && beyond_band(g))
            .min_by(|a, b| cost(a.1).total_cmp(&cost(b.1)))
            .map(|(c, _)| c.variant.clone())
    };
    let (lead, outcome) = match best_of(Class::Better) {
        Some(winner) => (Some(winner), Outcome::Winner),
        None => match best_of(Class::Inconclusive) {
            Some(lead) => (Some(lead), Outcome::Inconclusive),
            None if v.candidates.iter().any(|c| c.goal.is_some()) => (None, Outcome::BaselineHolds),
            None => (None, Outcome::NothingToCompare),
        },
    };
    v.winner = lead.clone().filter(|_| outcome == Outcome::Winner);
    v.lead = lead;
    v.outcome = outcome;
}

#[cfg(test)]
mod bound_tests;
#[cfg(test)]
mod tests;
