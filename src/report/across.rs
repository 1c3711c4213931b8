//! A run against an earlier one, written three ways: terminal text, a
//! Markdown summary fit for a CI job page, and JUnit XML (one test case per
//! compared metric and per finding) for CI systems that show test results.

use super::html::escape;
use crate::compare::across::{AcrossEffect, RunComparison};
use crate::result::{Class, RunResult};
use crate::util::format_ratio;
use std::fmt::Write;

/// What the two runs are, for headings.
pub struct Sides<'a> {
    pub now: &'a RunResult,
    pub earlier: &'a RunResult,
    /// "baseline `nightly`" or "run 2026...-quickstart".
    pub earlier_label: String,
}

fn interval(e: &AcrossEffect, baseline_runs: usize) -> String {
    if baseline_runs >= 2
        && let (Some(lo), Some(hi)) = (e.effect.ci_low, e.effect.ci_high)
    {
        return format!(
            "95% prediction interval {}–{} from {} baseline runs",
            format_ratio(lo),
            format_ratio(hi),
            e.effect.rounds
        );
    }
    match (e.effect.ci_low, e.effect.ci_high) {
        (Some(lo), Some(hi)) => format!(
            "95% CI {}–{}, {} rounds",
            format_ratio(lo),
            format_ratio(hi),
            e.effect.rounds
        ),
        _ if e.effect.rounds <= 1 && e.op.is_none() => "one measurement".to_string(),
        _ => format!("{} round(s), no interval", e.effect.rounds.max(1)),
    }
}

fn line(e: &AcrossEffect, baseline_runs: usize) -> String {
    format!(
        "{}: {} ({}; threshold ±{:.0}%)",
        e.label(),
        format_ratio(e.effect.ratio),
        interval(e, baseline_runs),
        e.threshold * 100.0
    )
}

/// The caveat of a one-run baseline.
const ONE_RUN: &str = "the baseline is one run: run-to-run variation is not measured, so a shift between runs \
                       can pass for a regression; save baselines from 3 runs";

fn counts(c: &RunComparison) -> String {
    let n = |class: Class| c.effects.iter().filter(|e| e.effect.class == class).count();
    format!(
        "{} metrics compared: {} worse, {} better, {} no significant change, {} inconclusive",
        c.effects.len(),
        n(Class::Worse),
        n(Class::Better),
        n(Class::NoSignificantChange),
        n(Class::Inconclusive)
    )
}

/// Plain text for the terminal.
pub fn terminal(c: &RunComparison, s: &Sides<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} (run {}) against {} (run {})",
        s.now.scenario.name, s.now.run.id, s.earlier_label, s.earlier.run.id
    );
    let _ = writeln!(out, "  {}", counts(c));
    if c.baseline_runs < 2 {
        let _ = writeln!(out, "  note: {ONE_RUN}");
    }
    for e in c.regressions() {
        let _ = writeln!(out, "  REGRESSION  {}", line(e, c.baseline_runs));
    }
    for f in &c.findings {
        let _ = writeln!(out, "  FINDING     {f}");
    }
    for e in c.effects.iter().filter(|e| e.effect.class == Class::Better) {
        let _ = writeln!(out, "  improved    {}", line(e, c.baseline_runs));
    }
    let _ = writeln!(
        out,
        "{}",
        if c.fails() {
            "Result: regression or finding (exit 1)"
        } else {
            "Result: no regression (exit 0)"
        }
    );
    out
}

/// A Markdown summary for a CI job page.
pub fn markdown(c: &RunComparison, s: &Sides<'_>) -> String {
    let mut md = String::new();
    let verdict = if c.fails() {
        "❌ regression"
    } else {
        "✅ no regression"
    };
    let _ = writeln!(
        md,
        "## {}: {verdict}\n\nRun `{}` against {} (run `{}`). {}.\n",
        s.now.scenario.name,
        s.now.run.id,
        s.earlier_label,
        s.earlier.run.id,
        counts(c)
    );
    if c.baseline_runs < 2 {
        let _ = writeln!(md, "> Note: {ONE_RUN}.\n");
    }
    let table = |md: &mut String, title: &str, rows: Vec<&AcrossEffect>| {
        if rows.is_empty() {
            return;
        }
        let _ = writeln!(
            md,
            "### {title}\n\n| metric | ratio | interval | threshold |\n|---|---:|---|---:|"
        );
        for e in rows {
            let _ = writeln!(
                md,
                "| {} | {} | {} | ±{:.0}% |",
                e.label(),
                format_ratio(e.effect.ratio),
                interval(e, c.baseline_runs),
                e.threshold * 100.0
            );
        }
        md.push('\n');
    };
    table(&mut md, "Regressions", c.regressions().collect());
    if !c.findings.is_empty() {
        let _ = writeln!(md, "### Findings\n");
        for f in &c.findings {
            let _ = writeln!(md, "- {f}");
        }
        md.push('\n');
    }
    table(
        &mut md,
        "Improvements",
        c.effects.iter().filter(|e| e.effect.class == Class::Better).collect(),
    );
    md
}

/// JUnit XML: a test case per compared metric (failed when it regressed)
/// and per finding (always failed).
pub fn junit(c: &RunComparison, s: &Sides<'_>) -> String {
    let failures = c.regressions().count() + c.findings.len();
    let tests = c.effects.len() + c.findings.len();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let suite = format!("schemabench compare {}", s.now.scenario.name);
    let _ = writeln!(
        x,
        "<testsuites name=\"{0}\" tests=\"{tests}\" failures=\"{failures}\">\n  \
         <testsuite name=\"{0}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">",
        escape(&suite)
    );
    for e in &c.effects {
        let class = match &e.op {
            Some(op) => format!("{}.{}.{op}", e.backend, e.variant),
            None => format!("{}.{}", e.backend, e.variant),
        };
        let name = e.metric.name_in(&[]);
        if e.regressed() {
            let _ = writeln!(
                x,
                "    <testcase classname=\"{}\" name=\"{}\"><failure message=\"{}\"/></testcase>",
                escape(&class),
                escape(&name),
                escape(&format!("regression: {}", line(e, c.baseline_runs)))
            );
        } else {
            let _ = writeln!(
                x,
                "    <testcase classname=\"{}\" name=\"{}\"/>",
                escape(&class),
                escape(&name)
            );
        }
    }
    for (i, f) in c.findings.iter().enumerate() {
        let _ = writeln!(
            x,
            "    <testcase classname=\"findings\" name=\"finding {}\"><failure message=\"{}\"/></testcase>",
            i + 1,
            escape(&f.to_string())
        );
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}
