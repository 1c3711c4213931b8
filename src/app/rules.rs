//! `schemabench rules-table DIR`: the table of docs/rules.md, generated
//! from the committed evidence of the rules library (one folder per rule
//! under `DIR`: a run folder with `result.json`, or a sweep folder with
//! `sweep.json`), never typed by hand. With `--reproduction DIR2` (each
//! rule's `result.json` or `sweep.json` from a second run, named
//! `<rule>.json`) a column says whether every verdict came out the same.

use super::{Error, Exit};
use crate::compare::sweep::{PointVerdict, SweepSummary};
use crate::result::{Outcome, RunResult};
use crate::scenario::Metric;
use crate::util::format_ratio;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Markers around the table `--update` replaces.
pub const BEGIN: &str = "<!-- rules-table:begin -->";
pub const END: &str = "<!-- rules-table:end -->";

/// One rule's evidence.
enum Evidence {
    Run(Box<RunResult>),
    Sweep(SweepSummary, Vec<RunResult>),
}

struct Rule {
    /// The folder's name (the scenario file's stem).
    name: String,
    folder: PathBuf,
    evidence: Evidence,
}

impl Evidence {
    fn first(&self) -> Option<&RunResult> {
        match self {
            Evidence::Run(r) => Some(r),
            Evidence::Sweep(_, runs) => runs.first(),
        }
    }

    fn runs(&self) -> Vec<&RunResult> {
        match self {
            Evidence::Run(r) => vec![r.as_ref()],
            Evidence::Sweep(_, runs) => runs.iter().collect(),
        }
    }

    /// Every verdict, with the swept value it belongs to.
    fn verdicts(&self) -> Vec<(Option<f64>, PointVerdict)> {
        match self {
            Evidence::Run(r) => r
                .comparison
                .verdicts
                .iter()
                .map(|v| (None, PointVerdict::of(v)))
                .collect(),
            Evidence::Sweep(s, _) => s
                .points
                .iter()
                .flat_map(|p| p.verdicts.iter().map(|v| (Some(p.value), v.clone())))
                .collect(),
        }
    }
}

fn unreadable(path: &Path, why: impl std::fmt::Display) -> Error {
    Error::Usage(format!("{}: {why}", path.display()))
}

/// Reads a run's `result.json` or a sweep's `sweep.json` (with the
/// result of every value when `with_points`).
fn read_evidence(path: &Path, with_points: bool) -> Result<Evidence, Error> {
    let (file, folder) = if path.is_dir() {
        let sweep = path.join("sweep.json");
        let file = if sweep.exists() {
            sweep
        } else {
            path.join("result.json")
        };
        (file, path.to_path_buf())
    } else {
        (
            path.to_path_buf(),
            path.parent().map(Path::to_path_buf).unwrap_or_default(),
        )
    };
    let text = std::fs::read_to_string(&file).map_err(|e| unreadable(&file, e))?;
    if text.contains("\"schema_version\"") {
        let r = RunResult::from_json(&text).map_err(|e| unreadable(&file, e))?;
        return Ok(Evidence::Run(Box::new(r)));
    }
    let s: SweepSummary = serde_json::from_str(&text).map_err(|e| unreadable(&file, e))?;
    let mut runs = Vec::new();
    if with_points {
        for p in &s.points {
            let (r, _) = super::read_result(&folder.join(&p.run))?;
            runs.push(r);
        }
    }
    Ok(Evidence::Sweep(s, runs))
}

fn read_rules(dir: &Path) -> Result<Vec<Rule>, Error> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Folder {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut folders: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir() && (p.join("result.json").exists() || p.join("sweep.json").exists()))
        .collect();
    folders.sort();
    if folders.is_empty() {
        return Err(Error::Usage(format!(
            "{}: no rule folders (each holds a run's result.json or a sweep's sweep.json)",
            dir.display()
        )));
    }
    folders
        .into_iter()
        .map(|folder| {
            Ok(Rule {
                name: folder.file_name().unwrap_or_default().to_string_lossy().into_owned(),
                evidence: read_evidence(&folder, true)?,
                folder,
            })
        })
        .collect()
}

/// "sqlite: fk_index wins" — a verdict in a few words.
fn verdict_text(value: Option<f64>, key: Option<&str>, v: &PointVerdict) -> String {
    let at = match (value, key) {
        (Some(x), Some(k)) => format!("{k} = {}, ", crate::report::scale_sweep::value(x)),
        _ => String::new(),
    };
    format!("{at}{}: {}", v.backend, crate::report::scale_sweep::outcome(v))
}

/// What a second run must repeat: per backend and value, the outcome and
/// the winner.
fn signature(e: &Evidence) -> Vec<(String, Outcome, Option<String>)> {
    let key = match e {
        Evidence::Sweep(s, _) => Some(s.key.clone()),
        Evidence::Run(_) => None,
    };
    e.verdicts()
        .into_iter()
        .map(|(value, v)| (verdict_text(value, key.as_deref(), &v), v.outcome, v.winner))
        .collect()
}

fn reproduced(first: &Evidence, second: &Evidence) -> String {
    let (a, b) = (signature(first), signature(second));
    let flips: Vec<String> = a
        .iter()
        .filter_map(|x| {
            let y = b.iter().find(|y| y.0.split(':').next() == x.0.split(':').next());
            match y {
                Some(y) if y.1 == x.1 && y.2 == x.2 => None,
                Some(y) => Some(format!("{} → {}", x.0, y.0.rsplit(": ").next().unwrap_or_default())),
                None => Some(format!("{}: not in the second run", x.0)),
            }
        })
        .collect();
    if flips.is_empty() {
        "same".into()
    } else {
        format!("**flipped**: {}", flips.join("; "))
    }
}

/// The storage ratio of each candidate of a run, against the baseline.
fn storage(r: &RunResult, v: &PointVerdict) -> Vec<String> {
    v.goals
        .iter()
        .filter_map(|g| {
            let e = r.comparison.effect(v.backend, &g.variant, None, Metric::Storage)?;
            Some(format!("{} storage {}", g.variant, format_ratio(e.ratio)))
        })
        .collect()
}

fn key_numbers(rule: &Rule) -> String {
    let mut lines = Vec::new();
    match &rule.evidence {
        Evidence::Run(r) => {
            for v in r.comparison.verdicts.iter().map(PointVerdict::of) {
                let goals: Vec<String> = v
                    .goals
                    .iter()
                    .map(|g| {
                        format!(
                            "{} {}",
                            g.variant,
                            crate::report::scale_sweep::goal_cell(&v, &g.variant)
                        )
                    })
                    .collect();
                let sizes = storage(r, &v);
                let mut line = format!("{} {} vs {}: {}", v.backend, v.goal, v.baseline, goals.join("; "));
                if v.goal.as_str() != "storage" && !sizes.is_empty() {
                    let _ = write!(line, "; {}", sizes.join(", "));
                }
                lines.push(line);
            }
        }
        Evidence::Sweep(s, _) => {
            for p in &s.points {
                for v in &p.verdicts {
                    let goals: Vec<String> = v
                        .goals
                        .iter()
                        .map(|g| format!("{} {}", g.variant, crate::report::scale_sweep::goal_cell(v, &g.variant)))
                        .collect();
                    lines.push(format!(
                        "{} = {}, {} {}: {}",
                        s.key,
                        crate::report::scale_sweep::value(p.value),
                        v.backend,
                        v.goal,
                        goals.join("; ")
                    ));
                }
            }
            for c in &s.changes {
                lines.push(format!("*{}*", crate::report::scale_sweep::change_sentence(s, c)));
            }
            for c in &s.engine_changes {
                lines.push(format!(
                    "*{} {} on {} against {}: throughput ratio crosses 1 near {} = {}*",
                    c.variant,
                    c.op,
                    c.second,
                    c.first,
                    s.key,
                    crate::report::scale_sweep::value(c.crosses_at.round())
                ));
            }
            // Across engines: the goal's operation on the baseline variant.
            for p in &s.points {
                let Some(v) = p.verdicts.first() else { continue };
                let op = v.goal.split(' ').next().unwrap_or_default();
                for e in p
                    .across_engines
                    .iter()
                    .filter(|e| e.op == op && e.variant == v.baseline)
                {
                    if let Some(t) = e.throughput_ratio {
                        lines.push(format!(
                            "{} = {}: {} {} throughput on {} {} {}'s",
                            s.key,
                            crate::report::scale_sweep::value(p.value),
                            e.variant,
                            e.op,
                            e.second,
                            format_ratio(t),
                            e.first
                        ));
                    }
                }
            }
        }
    }
    lines.join("<br>")
}

/// A path from the folder of `from` to `to`, for a Markdown link.
fn relative(from_dir: &Path, to: &Path) -> String {
    let (a, b) = (
        std::path::absolute(from_dir).unwrap_or_else(|_| from_dir.to_path_buf()),
        std::path::absolute(to).unwrap_or_else(|_| to.to_path_buf()),
    );
    let a: Vec<_> = a.components().collect();
    let b: Vec<_> = b.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in common..a.len() {
        out.push("..");
    }
    for c in &b[common..] {
        out.push(c);
    }
    out.to_string_lossy().into_owned()
}

/// Seconds between two RFC 3339 times.
fn seconds(r: &RunResult) -> f64 {
    use time::format_description::well_known::Rfc3339;
    let parse = |s: &str| time::OffsetDateTime::parse(s, &Rfc3339).ok();
    match (parse(&r.run.started_at), parse(&r.run.finished_at)) {
        (Some(a), Some(b)) => (b - a).as_seconds_f64(),
        _ => 0.0,
    }
}

/// The table and the lines above it.
fn render(rules: &[Rule], second: Option<&[(String, Option<Evidence>)]>, link_from: &Path, command: &str) -> String {
    let mut m = String::new();
    let _ = writeln!(
        m,
        "<!-- generated by `{command}`; edit the evidence, not this table -->"
    );
    let runs: Vec<&RunResult> = rules.iter().flat_map(|r| r.evidence.runs()).collect();
    if let Some(first) = runs.first() {
        let e = &first.environment;
        let total: f64 = runs.iter().map(|r| seconds(r)).sum();
        let quick = runs.iter().any(|r| r.run.quick);
        let _ = writeln!(
            m,
            "\nMeasured on {} ({} CPUs, {}), {}; schemabench {} ({}); {} runs{}, {:.1} min of runs in all (from each run's start to its end).\n",
            e.cpu_model,
            e.cpus,
            crate::util::format_bytes(e.memory_bytes),
            e.os,
            e.harness_version,
            e.harness_commit,
            runs.len(),
            if quick {
                " at the --quick profile (not for decisions)"
            } else {
                " at their default profiles"
            },
            total / 60.0
        );
    }
    let repro = second.is_some();
    let _ = write!(
        m,
        "| rule | scenario | verdict | key numbers (goal against the baseline, 95% interval) |"
    );
    if repro {
        m.push_str(" second run |");
    }
    m.push_str(" evidence |\n|---|---|---|---|");
    if repro {
        m.push_str("---|");
    }
    m.push_str("---|\n");
    for rule in rules {
        let first = rule.evidence.first();
        let text = first
            .and_then(|r| r.scenario.rule.clone())
            .unwrap_or_else(|| "(no `rule` given)".into());
        let scenario = first.map(|r| r.scenario.path.clone()).unwrap_or_default();
        let key = match &rule.evidence {
            Evidence::Sweep(s, _) => Some(s.key.as_str()),
            Evidence::Run(_) => None,
        };
        let verdicts: Vec<String> = rule
            .evidence
            .verdicts()
            .iter()
            .map(|(value, v)| verdict_text(*value, key, v))
            .collect();
        let page = match &rule.evidence {
            Evidence::Run(_) => "report.md",
            Evidence::Sweep(..) => "sweep.md",
        };
        let _ = write!(
            m,
            "| {} | `{}` | {} | {} |",
            text.replace('|', "\\|"),
            scenario,
            verdicts.join("<br>"),
            key_numbers(rule).replace('|', "\\|")
        );
        if let Some(second) = second {
            let cell = match second.iter().find(|(n, _)| *n == rule.name) {
                Some((_, Some(e))) => reproduced(&rule.evidence, e),
                _ => "not run".into(),
            };
            let _ = write!(m, " {cell} |");
        }
        let _ = writeln!(m, " [{page}]({}) |", relative(link_from, &rule.folder.join(page)));
    }
    m
}

/// What `--update FILE` writes, or with `check` only compares: exit 1
/// when the file's table is not what the evidence makes.
pub(super) fn rules_table_command(
    dir: &Path,
    reproduction: Option<&Path>,
    update: Option<&Path>,
    check: bool,
) -> Result<Exit, Error> {
    let rules = read_rules(dir)?;
    let second: Option<Vec<(String, Option<Evidence>)>> = match reproduction {
        Some(r) => Some(
            rules
                .iter()
                .map(|rule| {
                    let file = r.join(format!("{}.json", rule.name));
                    let e = if file.exists() {
                        Some(read_evidence(&file, false)?)
                    } else {
                        None
                    };
                    Ok((rule.name.clone(), e))
                })
                .collect::<Result<_, Error>>()?,
        ),
        None => None,
    };
    let link_from = update.and_then(Path::parent).unwrap_or(Path::new("."));
    let mut command = format!("schemabench rules-table {}", dir.display());
    if let Some(r) = reproduction {
        let _ = write!(command, " --reproduction {}", r.display());
    }
    if let Some(u) = update {
        let _ = write!(command, " --update {}", u.display());
    }
    let table = render(&rules, second.as_deref(), link_from, &command);
    match update {
        Some(path) if check => {
            let text = std::fs::read_to_string(path).map_err(|source| Error::Output {
                path: path.to_path_buf(),
                source,
            })?;
            let current = text
                .split_once(BEGIN)
                .and_then(|(_, rest)| rest.split_once(END))
                .map(|(block, _)| block.strip_prefix('\n').unwrap_or(block));
            if current == Some(table.as_str()) {
                println!("{}: the table is what {} makes", path.display(), dir.display());
                Ok(Exit::Success)
            } else {
                eprintln!(
                    "{}: the table differs from what {} makes; run `{command}`",
                    path.display(),
                    dir.display()
                );
                Ok(Exit::Findings)
            }
        }
        Some(path) => {
            super::replace_between(path, BEGIN, END, &table)?;
            Ok(Exit::Success)
        }
        None if check => Err(Error::Usage("--check compares with the file given by --update".into())),
        None => {
            print!("{table}");
            Ok(Exit::Success)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::sweep::SweepPointSummary;
    use crate::scenario::BackendKind;

    fn verdict(backend: BackendKind, outcome: Outcome, winner: Option<&str>) -> PointVerdict {
        PointVerdict {
            backend,
            outcome,
            winner: winner.map(String::from),
            baseline: "plain".into(),
            goal: "recent p99".into(),
            goals: Vec::new(),
        }
    }

    fn sweep(points: &[(f64, Vec<PointVerdict>)]) -> Evidence {
        let summary = SweepSummary {
            scenario: "s".into(),
            question: "q".into(),
            rule: None,
            key: "orders".into(),
            quick: false,
            complete: true,
            points: points
                .iter()
                .map(|(value, verdicts)| SweepPointSummary {
                    value: *value,
                    run: format!("orders-{value}"),
                    complete: true,
                    fit_for_decisions: true,
                    mix_share: None,
                    verdicts: verdicts.clone(),
                    across_engines: Vec::new(),
                })
                .collect(),
            changes: Vec::new(),
            engine_changes: Vec::new(),
        };
        Evidence::Sweep(summary, Vec::new())
    }

    #[test]
    fn a_second_run_is_the_same_only_when_every_outcome_and_winner_repeats() {
        use BackendKind::{Postgres, Sqlite};
        let win = |b| verdict(b, Outcome::Winner, Some("indexed"));
        let first = sweep(&[
            (1000.0, vec![win(Sqlite), win(Postgres)]),
            (
                100_000.0,
                vec![win(Sqlite), verdict(Postgres, Outcome::Inconclusive, None)],
            ),
        ]);
        let same = sweep(&[
            (1000.0, vec![win(Sqlite), win(Postgres)]),
            (
                100_000.0,
                vec![win(Sqlite), verdict(Postgres, Outcome::Inconclusive, None)],
            ),
        ]);
        assert_eq!(reproduced(&first, &same), "same");

        // Another outcome at one value, on one engine.
        let flipped = sweep(&[
            (1000.0, vec![win(Sqlite), win(Postgres)]),
            (100_000.0, vec![win(Sqlite), win(Postgres)]),
        ]);
        let text = reproduced(&first, &flipped);
        assert!(text.starts_with("**flipped**"), "{text}");
        assert!(text.contains("orders = 100,000, postgres"), "{text}");
        assert!(!text.contains("sqlite"), "{text}");

        // The same outcome with another winner is a flip too.
        let other = sweep(&[
            (
                1000.0,
                vec![verdict(Sqlite, Outcome::Winner, Some("covering")), win(Postgres)],
            ),
            (
                100_000.0,
                vec![win(Sqlite), verdict(Postgres, Outcome::Inconclusive, None)],
            ),
        ]);
        let text = reproduced(&first, &other);
        assert!(text.contains("orders = 1,000, sqlite"), "{text}");

        // A value the second run did not reach.
        let short = sweep(&[(1000.0, vec![win(Sqlite), win(Postgres)])]);
        let text = reproduced(&first, &short);
        assert!(text.contains("not in the second run"), "{text}");
    }
}
