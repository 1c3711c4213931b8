//! A scenario sweep's pages: `sweep.md` and `sweep.html` (with the chart of
//! each variant's goal ratio against the swept value) and the lines the
//! terminal prints. Data from [`SweepSummary`]; every point's own report
//! sits in its folder beside them.

use super::charts::{RatioSeries, ratio_sweep};
use super::html::{escape, head};
use crate::compare::sweep::{PointVerdict, SweepChange, SweepSummary};
use crate::result::{Class, Outcome};
use crate::util::{format_ratio, thousands};
use std::fmt::Write;

/// A swept value as written: whole numbers with thousands separators.
pub fn value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        let s = thousands(v.abs() as u64);
        if v < 0.0 { format!("-{s}") } else { s }
    } else {
        format!("{v}")
    }
}

/// "orders = 10,000" or "mix.place_order = 50 (33% of operations)".
fn at(s: &SweepSummary, i: usize) -> String {
    let p = &s.points[i];
    match p.mix_share {
        Some(share) => format!("{} = {} ({share:.0}% of operations)", s.key, value(p.value)),
        None => format!("{} = {}", s.key, value(p.value)),
    }
}

/// What a point's verdict says, briefly.
pub fn outcome(v: &PointVerdict) -> String {
    match (v.outcome, &v.winner) {
        (Outcome::Winner, Some(w)) => format!("{w} wins"),
        (Outcome::BaselineHolds, _) => format!("{} holds", v.baseline),
        (Outcome::Inconclusive, _) => "inconclusive".into(),
        (Outcome::NothingToCompare, _) => "nothing to compare".into(),
        _ => "no data".into(),
    }
}

pub fn goal_cell(v: &PointVerdict, variant: &str) -> String {
    let Some(g) = v.goals.iter().find(|g| g.variant == variant) else {
        return "–".into();
    };
    let ci = match (g.ci_low, g.ci_high) {
        (Some(a), Some(b)) => format!(" ({}–{})", format_ratio(a), format_ratio(b)),
        _ => String::new(),
    };
    let ruled = if g.qualified { "" } else { ", ruled out" };
    format!("{}{ci} {}{ruled}", format_ratio(g.ratio), g.class.label())
}

/// One sentence per change along the sweep.
pub fn change_sentence(s: &SweepSummary, c: &SweepChange) -> String {
    let side = |class: Class, ratio: f64| format!("{} ({})", class.label(), format_ratio(ratio));
    let mut text = format!(
        "{} {} against {}: {} at {} = {} → {} at {} = {}",
        c.backend,
        c.variant,
        c.baseline,
        side(c.before, c.ratio_before),
        s.key,
        value(c.from),
        side(c.after, c.ratio_after),
        s.key,
        value(c.to)
    );
    if let Some(x) = c.crosses_at {
        let _ = write!(text, "; the ratio crosses 1 near {} = {}", s.key, value(x.round()));
    }
    if c.reverses() {
        text.push_str(" — the effect reverses");
    }
    text
}

/// The variants with a goal ratio anywhere in the sweep, per backend, in
/// first-seen order.
fn columns(s: &SweepSummary) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in &s.points {
        for v in &p.verdicts {
            for g in &v.goals {
                if !out.contains(&g.variant) {
                    out.push(g.variant.clone());
                }
            }
        }
    }
    out
}

fn status_lines(s: &SweepSummary) -> Vec<String> {
    let mut out = Vec::new();
    if !s.complete {
        out.push("INCOMPLETE: not every value was run; the values below are what was measured.".to_string());
    }
    if s.quick {
        out.push("Smoke profile (--quick): small scale, short windows; not for decisions.".to_string());
    }
    let unfit: Vec<String> = s
        .points
        .iter()
        .filter(|p| !p.fit_for_decisions && !s.quick)
        .map(|p| value(p.value))
        .collect();
    if !unfit.is_empty() {
        out.push(format!(
            "Not fit for decisions at {} = {} (see those runs' reports).",
            s.key,
            unfit.join(", ")
        ));
    }
    out
}

fn changes_or_none(s: &SweepSummary) -> Vec<String> {
    let mut out: Vec<String> = s.changes.iter().map(|c| change_sentence(s, c)).collect();
    if out.is_empty() {
        out.push("None: every variant's goal effect keeps its class and its side of 1 at every value swept.".into());
    }
    for c in &s.engine_changes {
        out.push(format!(
            "{} on {} against {} ({}): throughput {} at {} = {} → {} at {} = {}; equal near {} = {}",
            c.op,
            c.second,
            c.first,
            c.variant,
            format_ratio(c.ratio_before),
            s.key,
            value(c.from),
            format_ratio(c.ratio_after),
            s.key,
            value(c.to),
            s.key,
            value(c.crosses_at.round())
        ));
    }
    out
}

/// The across-engine table of `sweep.md`: the second engine against the
/// first per value, variant and operation.
fn engines_markdown(m: &mut String, s: &SweepSummary) {
    let Some(first) = s.points.iter().find_map(|p| p.across_engines.first()) else {
        return;
    };
    let _ = writeln!(
        m,
        "\n## {} against {}\n\nRatios of the same variant and operation (no interval: the engines run in separate \
         windows; each engine's own verdict is above).\n",
        first.second, first.first
    );
    let _ = writeln!(m, "| {} | variant | operation | p99 | throughput |", s.key);
    let _ = writeln!(m, "|---|---|---|---:|---:|");
    let r = |x: Option<f64>| x.map(format_ratio).unwrap_or_else(|| "–".into());
    for (i, p) in s.points.iter().enumerate() {
        for e in &p.across_engines {
            let _ = writeln!(
                m,
                "| {} | {} | {} | {} | {} |",
                at(s, i),
                e.variant,
                e.op,
                r(e.p99_ratio),
                r(e.throughput_ratio)
            );
        }
    }
}

/// `sweep.md`.
pub fn markdown(s: &SweepSummary) -> String {
    let mut m = String::new();
    let _ = writeln!(m, "# {} — swept over {}\n", s.scenario, s.key);
    let _ = writeln!(m, "**{}**\n", s.question);
    if let Some(rule) = &s.rule {
        let _ = writeln!(m, "**Rule tested:** {rule}\n");
    }
    for line in status_lines(s) {
        let _ = writeln!(m, "> **{line}**\n");
    }
    let _ = writeln!(
        m,
        "Each value is a complete run (its own data, rounds and verdict). Cells: each variant's goal \
         against the baseline, 95% interval, and its class.\n"
    );
    let cols = columns(s);
    let _ = writeln!(m, "| {} | backend | verdict | {} |", s.key, cols.join(" | "));
    let _ = writeln!(m, "|---|---|---|{}", "---|".repeat(cols.len()));
    for (i, p) in s.points.iter().enumerate() {
        for v in &p.verdicts {
            let cells: Vec<String> = cols.iter().map(|c| goal_cell(v, c)).collect();
            let _ = writeln!(
                m,
                "| [{}]({}/report.md) | {} | {} ({}) | {} |",
                at(s, i),
                p.run,
                v.backend,
                outcome(v),
                v.goal,
                cells.join(" | ")
            );
        }
    }
    engines_markdown(&mut m, s);
    let _ = writeln!(m, "\n## Where the effect changes\n");
    for line in changes_or_none(s) {
        let _ = writeln!(m, "- {line}");
    }
    let _ = writeln!(
        m,
        "\nThe chart is in [sweep.html](sweep.html); each value's full report is in its folder."
    );
    m
}

/// `sweep.html`: the same table and the chart.
pub fn html(s: &SweepSummary) -> String {
    let mut h = String::new();
    head(&mut h, &format!("{} over {} — schemabench", s.scenario, s.key));
    let _ = writeln!(h, "<h1>{} — swept over {}</h1>", escape(&s.scenario), escape(&s.key));
    let _ = writeln!(h, "<p class=\"question\">{}</p>", escape(&s.question));
    for line in status_lines(s) {
        let _ = writeln!(h, "<p class=\"banner\">{}</p>", escape(&line));
    }
    let _ = writeln!(h, "<div class=\"verdict\">");
    for line in changes_or_none(s) {
        let _ = writeln!(h, "<p>{}</p>", escape(&line));
    }
    let _ = writeln!(h, "</div>");
    let mut backends: Vec<_> = s
        .points
        .iter()
        .flat_map(|p| p.verdicts.iter().map(|v| v.backend))
        .collect();
    backends.dedup();
    backends.sort();
    backends.dedup();
    for b in backends {
        let mut series: Vec<RatioSeries> = Vec::new();
        let mut goal = String::new();
        for p in &s.points {
            let Some(v) = p.verdicts.iter().find(|v| v.backend == b) else {
                continue;
            };
            goal.clone_from(&v.goal);
            for g in &v.goals {
                let point = (p.value, g.ratio, g.ci_low.zip(g.ci_high));
                match series.iter_mut().find(|x| x.name == g.variant) {
                    Some(x) => x.points.push(point),
                    None => series.push(RatioSeries {
                        name: g.variant.clone(),
                        points: vec![point],
                    }),
                }
            }
        }
        let title = format!("{b}: {goal} against the baseline, by {}", s.key);
        let _ = writeln!(h, "<h2>{b}</h2>");
        let _ = writeln!(
            h,
            "<figure class=\"sweep\">{}</figure>",
            ratio_sweep(&title, &s.key, &series, &value)
        );
    }
    let cols = columns(s);
    let _ = writeln!(
        h,
        "<table><tr><th>{}</th><th>backend</th><th>verdict</th>",
        escape(&s.key)
    );
    for c in &cols {
        let _ = write!(h, "<th>{}</th>", escape(c));
    }
    let _ = writeln!(h, "</tr>");
    for (i, p) in s.points.iter().enumerate() {
        for v in &p.verdicts {
            let _ = write!(
                h,
                "<tr><td><a href=\"{}/report.html\">{}</a></td><td class=\"text\">{}</td><td class=\"text\">{} ({})</td>",
                escape(&p.run),
                escape(&at(s, i)),
                v.backend,
                escape(&outcome(v)),
                escape(&v.goal)
            );
            for c in &cols {
                let _ = write!(h, "<td>{}</td>", escape(&goal_cell(v, c)));
            }
            let _ = writeln!(h, "</tr>");
        }
    }
    let _ = writeln!(h, "</table>");
    h.push_str("</body></html>\n");
    h
}

/// What the terminal prints after a sweep.
pub fn terminal(s: &SweepSummary) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "{} swept over {}: {} values", s.scenario, s.key, s.points.len());
    for line in status_lines(s) {
        let _ = writeln!(t, "  {line}");
    }
    for (i, p) in s.points.iter().enumerate() {
        for v in &p.verdicts {
            let _ = writeln!(t, "  {:<34} {:<9} {}", at(s, i), v.backend.to_string(), outcome(v));
        }
    }
    for line in changes_or_none(s) {
        let _ = writeln!(t, "  {line}");
    }
    t
}
