//! Comparison against the baseline variant and the verdict paragraph. Every
//! effect carries a bootstrap confidence interval across rounds and a
//! classification against the noise band (see [`stats`]); a variant wins only
//! when its goal effect is classified "better", and an effect the evidence
//! cannot settle is reported as inconclusive, never as a win.

pub mod stats;

use crate::backend::BackendKind;
use crate::result::{BackendResult, RunResult, VariantResult};
use crate::scenario::{Metric, VerdictRule};
use crate::util::{format_bytes, format_ns, format_ratio};
use serde::Serialize;
use stats::Class;
use std::fmt::Write as _;

/// A variant's value of a metric relative to the baseline's.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Effect {
    pub value: f64,
    pub baseline_value: f64,
    /// `value / baseline_value`, all rounds merged.
    pub ratio: f64,
    /// Smallest and largest per-round ratio (rounds paired by number);
    /// `None` for whole-variant metrics and when no round pairs exist.
    pub round_min: Option<f64>,
    pub round_max: Option<f64>,
    /// Paired rounds behind the interval (0 for single measurements).
    pub rounds: usize,
    /// 95% bootstrap interval of the ratio across rounds.
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    /// Against the noise band.
    pub class: Class,
    /// Rounds (0-based) whose ratio is an outlier; flagged, not dropped.
    pub outlier_rounds: Vec<usize>,
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
    let pairs: Vec<(f64, f64)> = v_rounds
        .into_iter()
        .zip(b_rounds)
        .filter_map(|(x, y)| Some((x?, y?)))
        .filter(|(x, y)| (x / y).is_finite())
        .collect();
    let ratios: Vec<f64> = pairs.iter().map(|(x, y)| x / y).collect();
    let (vs, bs): (Vec<f64>, Vec<f64>) = pairs.iter().copied().unzip();
    let interval = stats::bootstrap_ratio(&vs, &bs);
    let ratio = value / baseline_value;
    let fold = |f: fn(f64, f64) -> f64| ratios.iter().copied().reduce(f);
    // Metrics without per-round values (storage, setup time) are single
    // measurements; per-round metrics need their rounds.
    let rounds_for_class = if pairs.is_empty() && !metric.is_per_op() {
        0
    } else {
        ratios.len().max(1)
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
        class: stats::classify(ratio, interval, rounds_for_class, noise, metric.lower_is_better()),
        outlier_rounds: stats::outliers(&ratios),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A variant is significantly better than the baseline on the goal and
    /// passes every guard.
    Winner,
    /// No qualified variant is better than the baseline on the goal.
    BaselineHolds,
    /// The best-looking variant's effect is not settled by the evidence: run
    /// more rounds or longer.
    Inconclusive,
    /// Nothing was measured.
    NoData,
}

#[derive(Debug, Clone, Serialize)]
pub struct GuardOutcome {
    /// e.g. `place_order p99`.
    pub guard: String,
    pub metric: Metric,
    pub effect: Option<Effect>,
    /// Worst accepted ratio (1.25 for a 25% regression of a latency; 0.75 for
    /// throughput).
    pub limit_ratio: f64,
    pub pass: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub variant: String,
    pub goal: Option<Effect>,
    pub guards: Vec<GuardOutcome>,
    /// False when the answer check found different rows than the baseline's.
    pub answers_match: bool,
    /// Failed operations in the measured windows.
    pub errors: u64,
    /// Answers match, no errors, all guards pass.
    pub qualified: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub backend: BackendKind,
    pub outcome: Outcome,
    pub winner: Option<String>,
    pub baseline: String,
    /// e.g. `recent_orders p99`.
    pub goal: String,
    pub candidates: Vec<Candidate>,
    /// The verdict as a Markdown paragraph.
    pub text: String,
}

fn label(op: Option<&str>, metric: Metric) -> String {
    match op {
        Some(op) if metric.is_per_op() => format!("{op} {}", metric.label()),
        _ => metric.label().to_string(),
    }
}

/// Formats a metric value with its unit.
pub fn format_metric(metric: Metric, v: f64) -> String {
    match metric {
        Metric::Throughput => format!("{} ops/s", crate::util::sig3(v)),
        Metric::Storage => format_bytes(v as u64),
        Metric::SetupTime => format_ns(v * 1e9),
        Metric::WalPerWrite => format_bytes(v as u64),
        _ => format_ns(v),
    }
}

fn spread(e: &Effect) -> String {
    let mut s = match (e.ci_low, e.ci_high) {
        (Some(lo), Some(hi)) => format!(
            "; 95% CI {}–{} over {} rounds, {}",
            format_ratio(lo),
            format_ratio(hi),
            e.rounds,
            e.class.label()
        ),
        _ if e.rounds > 0 => format!("; {} round, {}", e.rounds, e.class.label()),
        _ => String::new(),
    };
    if !e.outlier_rounds.is_empty() {
        let rounds: Vec<String> = e.outlier_rounds.iter().map(|r| (r + 1).to_string()).collect();
        s.push_str(&format!("; outlier round {}", rounds.join(", ")));
    }
    s
}

/// Applies the verdict rule to every backend of a result.
pub fn verdicts(result: &RunResult, rule: &VerdictRule, op_names: &[String]) -> Vec<Verdict> {
    result
        .backends
        .iter()
        .map(|b| verdict(result, b, rule, op_names))
        .collect()
}

fn verdict(result: &RunResult, b: &BackendResult, rule: &VerdictRule, op_names: &[String]) -> Verdict {
    let baseline_name = &result.scenario.verdict_rule.baseline;
    let goal_op = rule.goal.op.map(|i| op_names[i].as_str());
    let goal = label(goal_op, rule.goal.metric);
    let mut v = Verdict {
        backend: b.backend,
        outcome: Outcome::NoData,
        winner: None,
        baseline: baseline_name.clone(),
        goal: goal.clone(),
        candidates: Vec::new(),
        text: String::new(),
    };
    let Some(baseline) = b.variant(baseline_name).filter(|x| x.rounds_completed > 0) else {
        v.text = format!(
            "No verdict on {}: the baseline `{baseline_name}` has no measurements.",
            b.backend
        );
        return v;
    };
    for variant in b
        .variants
        .iter()
        .filter(|x| x.name != *baseline_name && x.rounds_completed > 0)
    {
        let guards: Vec<GuardOutcome> = rule
            .guards
            .iter()
            .map(|g| {
                let op = g.op.map(|i| op_names[i].as_str());
                let e = effect(variant, baseline, op, g.metric, rule.noise);
                let limit_ratio = if g.metric.lower_is_better() {
                    1.0 + g.max_regression
                } else {
                    1.0 - g.max_regression
                };
                let pass = e.as_ref().is_some_and(|e| {
                    if g.metric.lower_is_better() {
                        e.ratio <= limit_ratio
                    } else {
                        e.ratio >= limit_ratio
                    }
                });
                GuardOutcome {
                    guard: label(op, g.metric),
                    metric: g.metric,
                    effect: e,
                    limit_ratio,
                    pass,
                }
            })
            .collect();
        let answers_match = !b.answers.mismatches.iter().any(|m| m.variant == variant.name);
        let errors: u64 = variant.ops.iter().flat_map(|o| o.errors.values()).sum();
        v.candidates.push(Candidate {
            variant: variant.name.clone(),
            goal: effect(variant, baseline, goal_op, rule.goal.metric, rule.noise),
            qualified: answers_match && errors == 0 && guards.iter().all(|g| g.pass),
            guards,
            answers_match,
            errors,
        });
    }
    decide(&mut v, rule.goal.metric, result);
    v
}

fn decide(v: &mut Verdict, metric: Metric, result: &RunResult) {
    let cost = |e: &Effect| {
        if metric.lower_is_better() {
            e.ratio
        } else {
            1.0 / e.ratio
        }
    };
    let best_of = |class: Class| {
        v.candidates
            .iter()
            .filter(|c| c.qualified)
            .filter_map(|c| c.goal.as_ref().map(|g| (c, g)))
            .filter(|(_, g)| g.class == class && improves(metric, g.ratio))
            .min_by(|a, b| cost(a.1).total_cmp(&cost(b.1)))
    };
    let (best, inconclusive) = match best_of(Class::Better) {
        Some(b) => (Some(b), false),
        None => (best_of(Class::Inconclusive), true),
    };
    let lead_name = best.map(|(c, _)| c.variant.clone());
    let mut text = String::new();
    if !result.run.complete {
        text.push_str("**Incomplete run** — the numbers below cover only what was measured. ");
    }
    if result.run.quick {
        text.push_str("**Smoke run (`--quick`)**: small scale and short phases, not fit for decisions. ");
    }
    match best {
        Some((c, g)) => {
            v.outcome = if inconclusive {
                Outcome::Inconclusive
            } else {
                Outcome::Winner
            };
            v.winner = (!inconclusive).then(|| c.variant.clone());
            let lead = if inconclusive {
                format!(
                    "On {}, inconclusive — run more rounds or longer: **{}** looks best",
                    v.backend, c.variant
                )
            } else {
                format!("On {}, **{}** wins", v.backend, c.variant)
            };
            let _ = write!(
                text,
                "{lead}: {} is {} {}'s ({} vs {}{}).",
                v.goal,
                format_ratio(g.ratio),
                v.baseline,
                format_metric(metric, g.value),
                format_metric(metric, g.baseline_value),
                spread(g)
            );
            if g.rounds < stats::MIN_ROUNDS {
                let _ = write!(
                    text,
                    " With {} round(s) no confidence interval is possible; run at least {}.",
                    g.rounds,
                    stats::MIN_ROUNDS
                );
            }
            if !c.guards.is_empty() {
                text.push_str(" Guards: ");
                text.push_str(&guard_list(&c.guards));
                text.push('.');
            }
        }
        None if v.candidates.iter().any(|c| c.goal.is_some()) => {
            v.outcome = Outcome::BaselineHolds;
            let _ = write!(
                text,
                "On {}, no variant is significantly better than the baseline **{}** on {} while passing its guards.",
                v.backend, v.baseline, v.goal
            );
        }
        None => {
            let _ = write!(
                text,
                "On {}, nothing to compare: no variant besides the baseline has measurements.",
                v.backend
            );
        }
    }
    for c in &v.candidates {
        if lead_name.as_deref() == Some(c.variant.as_str()) {
            continue;
        }
        let mut why = Vec::new();
        if !c.answers_match {
            why.push("**returned different answers than the baseline**".to_string());
        }
        if c.errors > 0 {
            why.push(format!("{} failed operations", c.errors));
        }
        let failed: Vec<&GuardOutcome> = c.guards.iter().filter(|g| !g.pass).collect();
        if !failed.is_empty() {
            why.push(format!("guard failed: {}", guard_list_of(&failed)));
        }
        let goal = c.goal.as_ref().map_or_else(
            || "no data".to_string(),
            |g| format!("{} {}{}", v.goal, format_ratio(g.ratio), spread(g)),
        );
        if why.is_empty() {
            let _ = write!(text, " {}: {goal}.", c.variant);
        } else {
            let _ = write!(text, " {}: {goal}; ruled out — {}.", c.variant, why.join("; "));
        }
    }
    v.text = text;
}

fn guard_list(guards: &[GuardOutcome]) -> String {
    guard_list_of(&guards.iter().collect::<Vec<_>>())
}

fn guard_list_of(guards: &[&GuardOutcome]) -> String {
    guards
        .iter()
        .map(|g| match &g.effect {
            Some(e) => format!(
                "{} {} (limit {}) {}",
                g.guard,
                format_ratio(e.ratio),
                format_ratio(g.limit_ratio),
                if g.pass { "pass" } else { "FAIL" }
            ),
            None => format!("{} not measured FAIL", g.guard),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests;
