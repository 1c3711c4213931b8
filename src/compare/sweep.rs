//! A scenario sweep as data: at each value, every backend's verdict and
//! each variant's goal ratio against the baseline with its interval; and
//! where that changes between neighbouring values — the class of the
//! effect (better, no significant change, worse) or the side of 1 the
//! ratio is on. Where the ratio crosses 1 the crossing is interpolated
//! (log ratio against the value, on a log axis when the values are
//! positive): "UUID v7 closes the gap near orders = 300,000". Computed
//! from each point's `result.json`; `report::scale_sweep` renders it.

use crate::result::{AcrossEngines, Class, Outcome, RunResult};
use crate::scenario::BackendKind;
use serde::{Deserialize, Serialize};

/// `sweep.json` of a sweep folder.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SweepSummary {
    pub scenario: String,
    pub question: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// What was swept, as written: `orders` or `mix.place_order`.
    pub key: String,
    /// The `--quick` profile was used.
    pub quick: bool,
    /// Every value was run to the end (false after a signal or a failure:
    /// the values measured are kept).
    pub complete: bool,
    pub points: Vec<SweepPointSummary>,
    pub changes: Vec<SweepChange>,
    /// Where the second engine's throughput against the first's crosses 1
    /// (scenarios on two engines).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub engine_changes: Vec<EngineChange>,
}

/// The same variant and operation on two engines: the second's throughput
/// against the first's crossing 1 between neighbouring values.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EngineChange {
    pub first: BackendKind,
    pub second: BackendKind,
    pub variant: String,
    pub op: String,
    pub from: f64,
    pub to: f64,
    pub ratio_before: f64,
    pub ratio_after: f64,
    pub crosses_at: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SweepPointSummary {
    pub value: f64,
    /// The point's run folder, relative to the sweep folder.
    pub run: String,
    pub complete: bool,
    pub fit_for_decisions: bool,
    /// The swept operation's share of the mix at this value, percent
    /// (mix sweeps only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix_share: Option<f64>,
    pub verdicts: Vec<PointVerdict>,
    /// The same variant and operation on the two engines (second against
    /// first; no interval).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub across_engines: Vec<AcrossEngines>,
}

#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PointVerdict {
    pub backend: BackendKind,
    pub outcome: Outcome,
    pub winner: Option<String>,
    pub baseline: String,
    /// The goal, e.g. "recent_orders p99".
    pub goal: String,
    pub goals: Vec<GoalAt>,
}

impl PointVerdict {
    /// A verdict with each candidate's goal effect, the rest left out.
    pub fn of(v: &crate::result::Verdict) -> PointVerdict {
        PointVerdict {
            backend: v.backend,
            outcome: v.outcome,
            winner: v.winner.clone(),
            baseline: v.baseline.clone(),
            goal: v.goal.clone(),
            goals: v
                .candidates
                .iter()
                .filter_map(|c| {
                    let e = c.goal.as_ref()?;
                    Some(GoalAt {
                        variant: c.variant.clone(),
                        ratio: e.ratio,
                        ci_low: e.ci_low,
                        ci_high: e.ci_high,
                        class: e.class,
                        qualified: c.qualified,
                    })
                })
                .collect(),
        }
    }
}

/// One variant's goal effect at one value.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GoalAt {
    pub variant: String,
    pub ratio: f64,
    pub ci_low: Option<f64>,
    pub ci_high: Option<f64>,
    pub class: Class,
    /// Passed every guard, answered alike and without errors.
    pub qualified: bool,
}

/// A variant's goal effect changing between two neighbouring values.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SweepChange {
    pub backend: BackendKind,
    pub variant: String,
    pub baseline: String,
    pub from: f64,
    pub to: f64,
    pub before: Class,
    pub after: Class,
    pub ratio_before: f64,
    pub ratio_after: f64,
    /// Where the ratio is 1, interpolated, when it crosses 1 here.
    pub crosses_at: Option<f64>,
}

impl SweepChange {
    /// Both sides classified, one better and one worse: the design's
    /// advantage turns into a cost within this interval of values.
    pub fn reverses(&self) -> bool {
        matches!(
            (self.before, self.after),
            (Class::Better, Class::Worse) | (Class::Worse, Class::Better)
        )
    }
}

/// One measured value of a sweep: its value, run folder name and result.
pub struct Point<'a> {
    pub value: f64,
    pub run: String,
    pub result: &'a RunResult,
}

/// Summarises the points (ascending values) of a sweep over `key`.
pub fn summarise(key: &str, quick: bool, complete: bool, points: &[Point<'_>]) -> SweepSummary {
    let first = points.first().map(|p| p.result);
    let weight_of = key.strip_prefix("mix.");
    let summaries: Vec<SweepPointSummary> = points
        .iter()
        .map(|p| SweepPointSummary {
            value: p.value,
            run: p.run.clone(),
            complete: p.result.run.complete,
            fit_for_decisions: p.result.run.fit_for_decisions,
            mix_share: weight_of.and_then(|op| mix_share(p.result, op)),
            verdicts: p.result.comparison.verdicts.iter().map(PointVerdict::of).collect(),
            across_engines: p.result.comparison.across_engines.clone(),
        })
        .collect();
    let changes = changes(&summaries);
    let engine_changes = engine_changes(&summaries);
    SweepSummary {
        scenario: first.map(|r| r.scenario.name.clone()).unwrap_or_default(),
        question: first.map(|r| r.scenario.question.clone()).unwrap_or_default(),
        rule: first.and_then(|r| r.scenario.rule.clone()),
        key: key.to_string(),
        quick,
        complete,
        points: summaries,
        changes,
        engine_changes,
    }
}

fn mix_share(r: &RunResult, op: &str) -> Option<f64> {
    let total: u64 = r.scenario.mix.iter().map(|m| u64::from(m.weight)).sum();
    let own = r.scenario.mix.iter().find(|m| m.op == op)?.weight;
    (total > 0).then(|| 100.0 * f64::from(own) / total as f64)
}

/// Every change of class or side of 1 between neighbouring values.
fn changes(points: &[SweepPointSummary]) -> Vec<SweepChange> {
    let mut out = Vec::new();
    for pair in points.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        for va in &a.verdicts {
            let Some(vb) = b.verdicts.iter().find(|v| v.backend == va.backend) else {
                continue;
            };
            for ga in &va.goals {
                let Some(gb) = vb.goals.iter().find(|g| g.variant == ga.variant) else {
                    continue;
                };
                let (ya, yb) = (ga.ratio.ln(), gb.ratio.ln());
                // A crossing between two unsettled values is noise, not a
                // change.
                let settled = |c: Class| matches!(c, Class::Better | Class::Worse);
                let crosses = ya.is_finite()
                    && yb.is_finite()
                    && (ya < 0.0) != (yb < 0.0)
                    && ya != yb
                    && (settled(ga.class) || settled(gb.class));
                if ga.class == gb.class && !crosses {
                    continue;
                }
                out.push(SweepChange {
                    backend: va.backend,
                    variant: ga.variant.clone(),
                    baseline: va.baseline.clone(),
                    from: a.value,
                    to: b.value,
                    before: ga.class,
                    after: gb.class,
                    ratio_before: ga.ratio,
                    ratio_after: gb.ratio,
                    crosses_at: crosses.then(|| crossing(a.value, b.value, ya, yb)),
                });
            }
        }
    }
    out
}

/// Every throughput ratio across engines that crosses 1 between
/// neighbouring values.
fn engine_changes(points: &[SweepPointSummary]) -> Vec<EngineChange> {
    let mut out = Vec::new();
    for pair in points.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        for ea in &a.across_engines {
            let eb = b
                .across_engines
                .iter()
                .find(|e| e.variant == ea.variant && e.op == ea.op);
            let (Some(ra), Some(rb)) = (ea.throughput_ratio, eb.and_then(|e| e.throughput_ratio)) else {
                continue;
            };
            let (ya, yb) = (ra.ln(), rb.ln());
            if ya.is_finite() && yb.is_finite() && (ya < 0.0) != (yb < 0.0) && ya != yb {
                out.push(EngineChange {
                    first: ea.first,
                    second: ea.second,
                    variant: ea.variant.clone(),
                    op: ea.op.clone(),
                    from: a.value,
                    to: b.value,
                    ratio_before: ra,
                    ratio_after: rb,
                    crosses_at: crossing(a.value, b.value, ya, yb),
                });
            }
        }
    }
    out
}

/// Where the line through (x0, y0) and (x1, y1) meets y = 0, with x on a
/// log scale when both values are positive.
pub fn crossing(x0: f64, x1: f64, y0: f64, y1: f64) -> f64 {
    let t = y0 / (y0 - y1);
    if x0 > 0.0 && x1 > 0.0 {
        (x0.ln() + t * (x1.ln() - x0.ln())).exp()
    } else {
        x0 + t * (x1 - x0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(value: f64, ratio: f64, class: Class) -> SweepPointSummary {
        SweepPointSummary {
            value,
            run: format!("p{value}"),
            complete: true,
            fit_for_decisions: true,
            mix_share: None,
            verdicts: vec![PointVerdict {
                backend: BackendKind::Postgres,
                outcome: Outcome::Winner,
                winner: None,
                baseline: "base".into(),
                goal: "q p99".into(),
                goals: vec![GoalAt {
                    variant: "v".into(),
                    ratio,
                    ci_low: None,
                    ci_high: None,
                    class,
                    qualified: true,
                }],
            }],
            across_engines: Vec::new(),
        }
    }

    #[test]
    fn a_ratio_crossing_one_is_located_between_the_values_on_a_log_axis() {
        // 0.5× at 1,000 and 2× at 100,000: ln ratios -0.69 and +0.69, so
        // the crossing is halfway on the log axis, at 10,000.
        let points = [
            point(1_000.0, 0.5, Class::Better),
            point(100_000.0, 2.0, Class::Worse),
            point(1_000_000.0, 2.1, Class::Worse),
        ];
        let changes = changes(&points);
        assert_eq!(changes.len(), 1, "{changes:?}");
        let c = &changes[0];
        assert!(c.reverses());
        assert_eq!((c.from, c.to), (1_000.0, 100_000.0));
        assert!((c.crosses_at.unwrap() - 10_000.0).abs() < 1e-6, "{:?}", c.crosses_at);
    }

    #[test]
    fn an_advantage_that_fades_is_a_change_without_a_crossing() {
        let points = [
            point(5.0, 0.4, Class::Better),
            point(50.0, 0.9, Class::NoSignificantChange),
        ];
        let changes = changes(&points);
        assert_eq!(changes.len(), 1);
        assert!(!changes[0].reverses());
        assert_eq!(changes[0].crosses_at, None);
        // Nothing changes: nothing reported.
        let steady = [point(5.0, 0.4, Class::Better), point(50.0, 0.5, Class::Better)];
        assert!(super::changes(&steady).is_empty());
        // Noise on either side of 1, settled at neither value: nothing.
        let noise = [
            point(5.0, 0.97, Class::Inconclusive),
            point(50.0, 1.02, Class::Inconclusive),
        ];
        assert!(super::changes(&noise).is_empty());
        // Zero is a value a weight sweep may start at: linear there.
        assert!((crossing(0.0, 10.0, -1.0, 1.0) - 5.0).abs() < 1e-9);
    }
}
