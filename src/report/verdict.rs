//! The verdict as a sentence, written once for plain text and Markdown, and
//! the banners that say a run is not fit for decisions.

use crate::compare::stats::{MAX_SUGGESTED_ROUNDS, MIN_ROUNDS};
use crate::result::{Effect, GuardOutcome, Outcome, RuledOut, RunInfo, Verdict};
use crate::scenario::Metric;
use crate::util::{format_bytes, format_ns, format_ratio};
use std::fmt::Write as _;

/// Plain text (terminal) or Markdown (report.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Markdown,
}

impl Style {
    /// `text` in bold.
    fn strong(self, text: &str) -> String {
        match self {
            Style::Plain => text.to_string(),
            Style::Markdown => format!("**{text}**"),
        }
    }

    /// `text` as code.
    fn code(self, text: &str) -> String {
        match self {
            Style::Plain => text.to_string(),
            Style::Markdown => format!("`{text}`"),
        }
    }
}

/// "recall@10 0.962 (95% CI 0.951–0.973 over 3 rounds of 100 queries;
/// worst query 0.600)".
pub fn recall_text(r: &crate::result::OpRecall) -> String {
    let rounds = r.rounds.len();
    let spread = match r.interval {
        Some((lo, hi)) => format!("95% CI {lo:.3}–{hi:.3} over {rounds} rounds"),
        None => format!("{rounds} round"),
    };
    format!(
        "recall@{} {:.3} ({spread} of {} queries; worst query {:.3})",
        r.k, r.mean, r.queries_per_round, r.worst_query
    )
}

/// Formats a metric value with its unit.
pub fn format_metric(metric: Metric, v: f64) -> String {
    match metric {
        Metric::Throughput => format!("{} ops/s", crate::util::sig3(v)),
        Metric::Storage | Metric::WalPerWrite => format_bytes(v as u64),
        Metric::SetupTime => format_ns(v * 1e9),
        Metric::Evidence(_) => crate::util::format_number(v),
        Metric::Recall => format!("{v:.2}"),
        _ => format_ns(v),
    }
}

/// "; 95% CI 0.62×–0.74× over 3 rounds, better" and outlier rounds.
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
    if let Some(n) = e.too_few_ops {
        s.push_str(&format!(
            "; a round had only {n} operations, too few to classify this percentile"
        ));
    } else if e.class == crate::result::Class::Inconclusive
        && let (Some(lo), Some(hi)) = (e.ci_low, e.ci_high)
        && (hi < 1.0 || lo > 1.0)
        && e.rounds >= MIN_ROUNDS
    {
        s.push_str(&format!(
            "; not settled at the {:.2}% level each of the variant's comparisons needs",
            e.class_level * 100.0
        ));
    }
    for d in &e.dropped_rounds {
        s.push_str(&format!("; round {} left out: {}", d.round, d.reason.describe()));
    }
    s
}

/// What would settle an inconclusive effect.
fn settle(e: &Effect) -> String {
    match e.rounds_needed {
        _ if e.rounds < MIN_ROUNDS => format!("run at least {MIN_ROUNDS} rounds"),
        _ if e.too_few_ops.is_some() => "run longer windows: too few operations per round for this percentile".into(),
        Some(n) => format!("about {n} rounds would settle it at the observed noise"),
        None => format!(
            "the effect sits at the edge of the noise band; even {MAX_SUGGESTED_ROUNDS} rounds would not settle it"
        ),
    }
}

fn guard_list<'a>(guards: impl IntoIterator<Item = &'a GuardOutcome>) -> String {
    guards
        .into_iter()
        .map(|g| match (&g.effect, &g.absolute) {
            (_, Some(a)) => format!(
                "{} {} (limit {} {}) {}",
                g.guard,
                a.value
                    .map_or_else(|| "not measured".to_string(), |v| format_metric(g.metric, v)),
                if a.at_most { "≤" } else { "≥" },
                format_metric(g.metric, a.bound),
                if g.pass { "pass" } else { "FAIL" }
            ),
            (Some(e), None) => format!(
                "{}{} {} (limit {}) {}",
                g.guard,
                if g.at_equal_load.is_some() {
                    " at equal load"
                } else {
                    ""
                },
                format_ratio(e.ratio),
                format_ratio(g.limit_ratio),
                match (g.pass, g.confounded_by_load) {
                    (true, _) => "pass".to_string(),
                    (false, Some(load)) => format!(
                        "not judged: confounded by load ({} the total throughput)",
                        format_ratio(load)
                    ),
                    (false, None) => "FAIL".to_string(),
                }
            ),
            (None, None) => format!("{} has no ratio (not measured, or zero on the baseline) FAIL", g.guard),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The verdict paragraph: the outcome and its effect with interval and
/// guards, then every other candidate's goal effect and why it was ruled out.
pub fn sentence(v: &Verdict, style: Style) -> String {
    let mut text = String::new();
    let metric = v.goal_metric;
    match (v.outcome, v.lead_candidate()) {
        (Outcome::NoData, _) => {
            return format!(
                "No verdict on {}: the baseline `{}` has no measurements.",
                v.backend, v.baseline
            );
        }
        (Outcome::Winner | Outcome::Inconclusive, Some(c)) => {
            let lead = if v.outcome == Outcome::Inconclusive {
                format!(
                    "On {}, inconclusive — {}: {} looks best",
                    v.backend,
                    c.goal.as_ref().map_or_else(|| "run more rounds".to_string(), settle),
                    style.strong(&c.variant)
                )
            } else {
                format!("On {}, {} wins", v.backend, style.strong(&c.variant))
            };
            if let Some(g) = &c.goal {
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
            }
            if !c.guards.is_empty() {
                let _ = write!(text, " Guards: {}.", guard_list(&c.guards));
            }
        }
        (Outcome::BaselineHolds, _) => {
            let _ = write!(
                text,
                "On {}, no variant is significantly better than the baseline {} on {} while passing its guards.",
                v.backend,
                style.strong(&v.baseline),
                v.goal
            );
        }
        (Outcome::NothingToCompare, _) | (_, None) => {
            let _ = write!(
                text,
                "On {}, nothing to compare: no variant besides the baseline has measurements.",
                v.backend
            );
        }
    }
    for c in v
        .candidates
        .iter()
        .filter(|c| v.lead.as_deref() != Some(c.variant.as_str()))
    {
        let why: Vec<String> = c
            .ruled_out
            .iter()
            .map(|r| match r {
                RuledOut::DifferentAnswers => style.strong("returned different answers than the baseline"),
                RuledOut::FailedOperations { count } => format!("{count} failed operations"),
                RuledOut::FailedGuards { .. } => format!(
                    "guard failed: {}",
                    guard_list(c.guards.iter().filter(|g| !g.pass && g.confounded_by_load.is_none()))
                ),
                RuledOut::ConfoundedGuards { throughput_ratio, .. } => format!(
                    "{} failed while it ran {} the baseline's operations per second, so the closed loop \
                     loaded them differently; judge it at equal load with {}",
                    guard_list(c.guards.iter().filter(|g| g.confounded_by_load.is_some())),
                    format_ratio(*throughput_ratio),
                    style.code("--equal-load on")
                ),
            })
            .collect();
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
    text
}

/// Why a run's numbers are not fit for decisions: an incomplete run,
/// sessions lost beyond the limit, a smoke run. Empty for a complete full run.
pub fn banners(run: &RunInfo, style: Style) -> Vec<String> {
    let mut out = Vec::new();
    if !run.complete {
        let why = match (&run.failure, run.interrupted) {
            (Some(f), _) => format!("failed: {f}"),
            (None, true) => "interrupted".to_string(),
            (None, false) => "incomplete".to_string(),
        };
        out.push(format!(
            "{} ({why}). Only what was measured before that is shown.",
            style.strong("INCOMPLETE RUN")
        ));
    }
    for why in &run.unfit_because {
        out.push(format!("{}: {why}.", style.strong("Not fit for decisions")));
    }
    if run.quick {
        out.push(format!(
            "{}: small scale and short phases, not fit for decisions.",
            style.strong(&format!("Smoke run ({})", style.code("--quick")))
        ));
    }
    out
}
