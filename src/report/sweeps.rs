//! Sweeps in reports: each swept variant's values in order, with the goal
//! against the baseline and the recall of its similarity searches, and the
//! cheapest value that passes every guard ("hnsw.ef_search = 64 reaches
//! recall@10 0.96 at 0.31× exact's nearest p99").

use crate::result::{BackendResult, RunResult};
use crate::scenario::SweepPoint;
use crate::util::format_ratio;

/// One line per sweep on `b`.
pub fn lines(r: &RunResult, b: &BackendResult) -> Vec<String> {
    let Some(verdict) = r.comparison.verdicts.iter().find(|v| v.backend == b.backend) else {
        return Vec::new();
    };
    let mut families: Vec<(&str, &str)> = Vec::new();
    for v in &r.scenario.variants {
        if let Some(s) = &v.sweep
            && !families.contains(&(s.of.as_str(), s.setting.as_str()))
        {
            families.push((&s.of, &s.setting));
        }
    }
    let mut out = Vec::new();
    for (of, setting) in families {
        let members: Vec<(&str, &SweepPoint)> = r
            .scenario
            .variants
            .iter()
            .filter_map(|v| v.sweep.as_ref().map(|s| (v.name.as_str(), s)))
            .filter(|(_, s)| s.of == of && s.setting == setting)
            .filter(|(name, _)| b.variant(name).is_some())
            .collect();
        let recall_of = |name: &str| b.variant(name)?.ops.iter().find_map(|o| o.recall.as_ref());
        let candidate = |name: &str| verdict.candidates.iter().find(|c| c.variant == name);
        let ratio_of = |name: &str| candidate(name)?.goal.as_ref().map(|e| e.ratio);
        let qualified = |name: &str| candidate(name).is_some_and(|c| c.qualified);
        let shown: Vec<String> = members
            .iter()
            .map(|(name, s)| {
                let mut parts = vec![ratio_of(name).map_or_else(|| "—".into(), format_ratio)];
                if let Some(rc) = recall_of(name) {
                    parts.push(format!("recall@{} {:.2}", rc.k, rc.mean));
                }
                let ruled_out = if qualified(name) { "" } else { " (ruled out)" };
                format!("{} → {}{ruled_out}", s.value, parts.join(", "))
            })
            .collect();
        let mut line = format!(
            "sweep of {of} over {setting} ({} against {}): {}",
            verdict.goal,
            verdict.baseline,
            shown.join("; ")
        );
        let cheapest = members
            .iter()
            .filter(|(name, _)| qualified(name))
            .filter_map(|(name, s)| ratio_of(name).map(|x| (name, s, x)))
            .min_by(|a, b| {
                let (x, y) = (a.2, b.2);
                if verdict.goal_metric.lower_is_better() {
                    x.total_cmp(&y)
                } else {
                    y.total_cmp(&x)
                }
            });
        match cheapest {
            Some((name, s, ratio)) => {
                let recall = recall_of(name)
                    .map(|rc| format!(" reaches recall@{} {:.2} and", rc.k, rc.mean))
                    .unwrap_or_default();
                line.push_str(&format!(
                    " — the best value that passes every guard: {setting} = {}{recall} has {} at {} {}'s",
                    s.value,
                    verdict.goal,
                    format_ratio(ratio),
                    verdict.baseline
                ));
            }
            None => line.push_str(" — no value passes every guard"),
        }
        out.push(line);
    }
    out
}
