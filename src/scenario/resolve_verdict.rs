//! `[verdict]` and `[slo]`: the rule that turns measurements into a verdict,
//! and the SLO search, checked against the mix and the variants.

use super::BackendKind;
use super::model::Variant;
use super::model::{
    DEFAULT_NOISE, EvidenceQuery, EvidenceRef, Guard, GuardLimit, Metric, Objective, OpId, SloSearch, VariantId,
    VerdictRule,
};
use super::raw::{RawBetter, RawEvidence, RawSlo, RawVerdict, S};
use super::resolve_load::parse_duration;
use super::resolve_workload::Problems;
use crate::suggest::did_you_mean;
use std::time::Duration;
/// Built-in metric names as scenarios write them.
const METRICS: [(&str, Metric); 12] = [
    ("p50", Metric::P50),
    ("p90", Metric::P90),
    ("p99", Metric::P99),
    ("p999", Metric::P999),
    ("p99.9", Metric::P999),
    ("max", Metric::Max),
    ("mean", Metric::Mean),
    ("throughput", Metric::Throughput),
    ("storage", Metric::Storage),
    ("setup_time", Metric::SetupTime),
    ("wal_per_write", Metric::WalPerWrite),
    ("recall", Metric::Recall),
];

/// Parses a metric name: a built-in one, or `evidence.NAME` for one of the
/// scenario's `[[evidence]]` queries.
pub fn parse_metric(text: &str, evidence: &[EvidenceQuery]) -> Result<Metric, String> {
    if let Some((_, m)) = METRICS.iter().find(|(name, _)| *name == text) {
        return Ok(*m);
    }
    if let Some(name) = text.strip_prefix("evidence.") {
        return match evidence.iter().position(|q| q.name == name) {
            Some(index) => Ok(Metric::Evidence(EvidenceRef {
                index,
                higher_is_better: evidence[index].higher_is_better,
            })),
            None if evidence.is_empty() => Err(format!(
                "`{text}` names an evidence query, but the scenario has no `[[evidence]]`"
            )),
            None => {
                let names: Vec<&str> = evidence.iter().map(|q| q.name.as_str()).collect();
                let hint = did_you_mean(name, names.iter().copied())
                    .map(|s| format!("; did you mean `evidence.{s}`?"))
                    .unwrap_or_default();
                Err(format!(
                    "no `[[evidence]]` query named `{name}` (evidence: {}){hint}",
                    names.join(", ")
                ))
            }
        };
    }
    let hint = did_you_mean(text, METRICS.iter().map(|(n, _)| *n))
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default();
    Err(format!(
        "`{text}` is not a metric; accepted: {}, or evidence.NAME for a `[[evidence]]` query{hint}",
        METRICS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
    ))
}

/// `[[evidence]]`: names unique and plain, SQL for at least one of the
/// scenario's backends.
pub(super) fn resolve_evidence(p: &mut Problems, raw: &[RawEvidence], backends: &[BackendKind]) -> Vec<EvidenceQuery> {
    let mut out: Vec<EvidenceQuery> = Vec::new();
    for (i, e) in raw.iter().enumerate() {
        let field = format!("evidence[{i}]");
        super::resolve_workload::check_name(p, &e.name, &format!("{field}.name"), "evidence");
        if out.iter().any(|q| q.name == *e.name.get_ref()) {
            p.at(
                &e.name,
                format!("{field}.name"),
                format!("evidence `{}` is defined twice", e.name.get_ref()),
            );
            continue;
        }
        if !backends.iter().any(|b| e.sql.get_ref().get(*b).is_some()) {
            let names: Vec<String> = backends.iter().map(|b| b.to_string()).collect();
            p.at(
                &e.sql,
                format!("{field}.sql"),
                format!("no SQL for any of the scenario's backends ({})", names.join(", ")),
            );
        }
        out.push(EvidenceQuery {
            name: e.name.get_ref().clone(),
            sql: e.sql.get_ref().clone(),
            higher_is_better: e.better.as_ref().is_some_and(|b| *b.get_ref() == RawBetter::Higher),
        });
    }
    out
}

/// Parses "25%" (or "0.25") into 0.25.
pub fn parse_fraction(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let v = match t.strip_suffix('%') {
        Some(pct) => pct.trim().parse::<f64>().map(|v| v / 100.0),
        None => t.parse::<f64>(),
    };
    match v {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("`{text}` is not a percentage; write e.g. \"25%\"")),
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn resolve_verdict(
    p: &mut Problems,
    raw: Option<&RawVerdict>,
    variants: &[Variant],
    backends: &[BackendKind],
    mix: &[(OpId, u32)],
    mix_complete: bool,
    op_index: &dyn Fn(&str) -> Option<OpId>,
    unknown_op: &dyn Fn(&str) -> String,
    evidence: &[EvidenceQuery],
    searches: &[OpId],
) -> VerdictRule {
    // Default goal: p99 of the most heavily weighted operation.
    let heaviest = mix.iter().max_by_key(|(_, w)| *w).map(|(i, _)| *i);
    let mut rule = VerdictRule {
        baseline: VariantId(0),
        goal: Objective {
            op: heaviest,
            metric: Metric::P99,
        },
        guards: Vec::new(),
        noise: DEFAULT_NOISE,
        equal_load: None,
    };
    let Some(raw) = raw else { return rule };
    rule.equal_load = raw.equal_load.as_ref().map(|e| *e.get_ref());
    if let Some(n) = &raw.noise {
        match parse_fraction(n.get_ref()) {
            Ok(f) if f > 0.0 && f < 1.0 => rule.noise = f,
            Ok(_) => p.at(
                n,
                "verdict.noise",
                format!("`{}` must be between 0% and 100%, e.g. \"5%\"", n.get_ref()),
            ),
            Err(e) => p.at(n, "verdict.noise", e),
        }
    }
    if let Some(b) = &raw.baseline {
        match variants.iter().position(|v| &v.name == b.get_ref()) {
            Some(i) => {
                rule.baseline = VariantId(i);
                let missing: Vec<String> = backends
                    .iter()
                    .filter(|k| !variants[i].runs_on(**k))
                    .map(|k| k.to_string())
                    .collect();
                if !missing.is_empty() {
                    p.at(
                        b,
                        "verdict.baseline",
                        format!(
                            "the baseline must run on every backend of the scenario, but `{}` skips {}",
                            b.get_ref(),
                            missing.join(", ")
                        ),
                    );
                }
            }
            None => {
                let names: Vec<&str> = variants.iter().map(|v| v.name.as_str()).collect();
                let hint = did_you_mean(b.get_ref(), names.iter().copied())
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                p.at(
                    b,
                    "verdict.baseline",
                    format!(
                        "no variant named `{}` (variants: {}){hint}",
                        b.get_ref(),
                        names.join(", ")
                    ),
                );
            }
        }
    }
    let target_op =
        |p: &mut Problems, op: &Option<S<String>>, m: &S<String>, field: &str| -> Option<(Option<OpId>, Metric)> {
            let metric = match parse_metric(m.get_ref(), evidence) {
                Ok(metric) => metric,
                Err(e) => {
                    p.at(m, format!("{field}.metric"), e);
                    return None;
                }
            };
            match (op, metric.is_per_op()) {
                (Some(o), true) => match op_index(o.get_ref()) {
                    Some(i) if metric == Metric::Recall && !searches.contains(&i) => {
                        p.at(
                            o,
                            format!("{field}.op"),
                            format!(
                                "recall is measured for similarity searches; `{}` has no `[op.neighbours]` \
                                 (docs/vectors.md)",
                                o.get_ref()
                            ),
                        );
                        None
                    }
                    Some(i) if mix.iter().any(|(k, w)| *k == i && *w > 0) => Some((Some(i), metric)),
                    Some(_) => {
                        if mix_complete {
                            p.at(
                                o,
                                format!("{field}.op"),
                                format!("operation `{}` is not in the mix, so it is never measured", o.get_ref()),
                            );
                        }
                        None
                    }
                    None => {
                        p.at(o, format!("{field}.op"), unknown_op(o.get_ref()));
                        None
                    }
                },
                (None, true) => {
                    p.at(
                        m,
                        format!("{field}.metric"),
                        format!("`{}` is measured per operation; add `op = \"...\"`", metric.label()),
                    );
                    None
                }
                (Some(o), false) => {
                    p.at(
                        o,
                        format!("{field}.op"),
                        format!(
                            "`{}` belongs to the whole variant; remove `op`",
                            metric.name_in(evidence)
                        ),
                    );
                    None
                }
                (None, false) if metric == Metric::WalPerWrite && !backends.contains(&BackendKind::Postgres) => {
                    p.at(
                        m,
                        format!("{field}.metric"),
                        "`wal_per_write` is measured on PostgreSQL only; add \"postgres\" to `backends`",
                    );
                    None
                }
                (None, false) => Some((None, metric)),
            }
        };
    if let Some(goal) = &raw.goal
        && let Some((op, metric)) = target_op(p, &goal.get_ref().op, &goal.get_ref().metric, "verdict.goal")
    {
        rule.goal = Objective { op, metric };
    }
    for (i, guard) in raw.guards.iter().enumerate() {
        let field = format!("verdict.guards[{i}]");
        let g = guard.get_ref();
        // Both the target and the limit are checked, so one message does
        // not hide the other.
        let target = target_op(p, &g.op, &g.metric, &field);
        if let Some(r) = &g.max_regression
            && let Err(m) = parse_fraction(r.get_ref())
        {
            p.at(r, format!("{field}.max_regression"), m);
            continue;
        }
        let Some((op, metric)) = target else {
            continue;
        };
        let limit = match (&g.max_regression, &g.max, &g.min) {
            (Some(r), None, None) => match parse_fraction(r.get_ref()) {
                Ok(v) => GuardLimit::Regression(v),
                Err(m) => {
                    p.at(r, format!("{field}.max_regression"), m);
                    continue;
                }
            },
            (None, Some(b), None) | (None, None, Some(b)) if matches!(metric, Metric::Evidence(_) | Metric::Recall) => {
                if g.max.is_some() {
                    GuardLimit::AtMost(*b.get_ref())
                } else {
                    GuardLimit::AtLeast(*b.get_ref())
                }
            }
            (None, Some(b), None) | (None, None, Some(b)) => {
                p.at(
                    b,
                    field.clone(),
                    format!(
                        "absolute `max`/`min` limits are for evidence metrics and recall; for `{}` write \
                         max_regression = \"25%\" (relative to the baseline)",
                        metric.name_in(evidence)
                    ),
                );
                continue;
            }
            (None, None, None) => {
                p.at(
                    guard,
                    field.clone(),
                    "a guard needs a limit: max_regression = \"25%\" (relative to the baseline), or for an \
                     evidence metric max = N or min = N",
                );
                continue;
            }
            _ => {
                p.at(
                    guard,
                    field.clone(),
                    "give one limit per guard: max_regression, max or min",
                );
                continue;
            }
        };
        rule.guards.push(Guard { op, metric, limit });
    }
    rule
}

pub(super) fn resolve_slo(
    p: &mut Problems,
    raw: &RawSlo,
    op_index: &dyn Fn(&str) -> Option<OpId>,
    unknown_op: &dyn Fn(&str) -> String,
    mix: &[(OpId, u32)],
) -> Option<SloSearch> {
    let op = match op_index(raw.op.get_ref()) {
        Some(i) if mix.iter().any(|(k, w)| *k == i && *w > 0) => Some(i),
        Some(_) => {
            p.at(
                &raw.op,
                "slo.op",
                format!(
                    "operation `{}` is not in the mix, so it is never measured",
                    raw.op.get_ref()
                ),
            );
            None
        }
        None => {
            p.at(&raw.op, "slo.op", unknown_op(raw.op.get_ref()));
            None
        }
    };
    let p99 = parse_duration(raw.p99.get_ref())
        .map_err(|m| p.at(&raw.p99, "slo.p99", m))
        .ok();
    let step = match &raw.step {
        Some(s) => parse_duration(s.get_ref()).map_err(|m| p.at(s, "slo.step", m)).ok(),
        None => Some(Duration::from_secs(2)),
    };
    let start_rate = raw.start_rate.as_ref().map_or(100, |r| *r.get_ref());
    let max_rate = raw.max_rate.as_ref().map_or(100_000, |r| *r.get_ref());
    if start_rate == 0 || max_rate < start_rate {
        let at = raw
            .max_rate
            .as_ref()
            .or(raw.start_rate.as_ref())
            .map_or(raw.op.span(), |r| r.span());
        let e = p.source.error(
            at,
            Some("slo".into()),
            format!("need 1 <= start_rate <= max_rate, got {start_rate} and {max_rate}"),
        );
        p.errors.push(e);
        return None;
    }
    Some(SloSearch {
        op: op?,
        p99: p99?,
        start_rate,
        max_rate,
        step: step?,
        refine: raw.refine.as_ref().map_or(5, |r| *r.get_ref()),
    })
}
