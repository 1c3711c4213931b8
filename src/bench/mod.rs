//! `cargo bench` in a user's own crate. A bench target with `harness =
//! false` whose `main` calls [`main`] runs every scenario in the crate's
//! `scenarios/` (workloads from its `workloads/`), writes each run under
//! `target/schemabench/runs/`, and exits non-zero when a run fails, answers
//! differ, operations fail, or a comparison with a saved baseline finds a
//! regression — so CI notices. `schemabench new` writes such a crate's
//! files; docs/cargo-bench.md explains them.
//!
//! `benches/schemabench.rs` is one line in `main`:
//! `schemabench::bench::main()`.

mod args;

pub use args::{BenchArgs, Layout};

use crate::backend::BackendKind;
use crate::compare::across::{Thresholds, compare_runs};
use crate::provision::{self, Request};
use crate::report::across::{Sides, terminal};
use crate::report::baseline::{self, BaselineError};
use crate::report::progress::Progress;
use crate::report::verdict::{Style, sentence};
use crate::run::{Observer, RunOptions, Silent};
use crate::scenario::{Document, Scenario, load_any, toml_files};
use crate::{Exit, Finished};
use clap::Parser;
use std::io::Write;
use std::num::NonZeroU32;

use std::time::{Duration, Instant};

/// Exit status of a bench that found nothing wrong.
pub const PASSED: i32 = 0;
/// A run failed or was interrupted, answers differed, operations failed, or
/// a baseline comparison found a regression.
pub const FAILED: i32 = 1;
/// Bad command line, or a scenario or workload file that does not load.
pub const BAD_INPUT: i32 = 2;

/// The bench's `main`: parses the command line cargo passes, runs, and
/// exits with [`PASSED`], [`FAILED`] or [`BAD_INPUT`].
pub fn main() -> ! {
    let args = BenchArgs::try_parse().unwrap_or_else(|e| e.exit());
    let code = run(&args, &Layout::discover(), &mut std::io::stdout());
    std::process::exit(code)
}

/// Runs the bench and returns its exit status; what it finds is written to
/// `out`.
pub fn run(args: &BenchArgs, layout: &Layout, out: &mut dyn Write) -> i32 {
    let scenarios = match scenarios(layout, &args.filters) {
        Ok(s) => s,
        Err(message) => {
            let _ = writeln!(out, "error: {message}");
            return BAD_INPUT;
        }
    };
    if args.list {
        for s in &scenarios {
            let _ = writeln!(out, "{}: bench", s.name);
        }
        return PASSED;
    }
    let smoke = args.smoke();
    let (runs, _tmp) = if smoke {
        match tempfile::Builder::new().prefix("schemabench-smoke-").tempdir() {
            Ok(t) => (t.path().to_path_buf(), Some(t)),
            Err(e) => {
                let _ = writeln!(out, "error: cannot create a temp folder for the smoke runs: {e}");
                return FAILED;
            }
        }
    } else {
        (layout.runs(), None)
    };
    let cancel = crate::app::cancel_on_signals();
    let postgres = Request {
        url: args.postgres_url.clone(),
        ..Request::default()
    };
    let postgres_missing = provision::unavailable(&postgres);
    let progress = Progress::new();
    let observer: &dyn Observer = if smoke { &Silent } else { &progress };
    let started = Instant::now();
    let mut tally = Tally::default();
    for s in &scenarios {
        if s.backends.contains(&BackendKind::Postgres)
            && let Some(reason) = &postgres_missing
        {
            let _ = writeln!(
                out,
                "skipped {}: needs PostgreSQL, which is not available here ({reason})",
                s.name
            );
            tally.skipped += 1;
            continue;
        }
        if cancel.is_cancelled() {
            let _ = writeln!(out, "skipped {}: interrupted", s.name);
            tally.failed += 1;
            continue;
        }
        let mut options = RunOptions {
            quick: args.quick || smoke,
            postgres: Request {
                settings: s.postgres_settings.clone(),
                ..postgres.clone()
            },
            cancel: cancel.clone(),
            ..RunOptions::default()
        };
        if smoke {
            options.warmup = Some(Duration::from_millis(100));
            options.duration = Some(Duration::from_millis(300));
            options.rounds = NonZeroU32::new(1);
        }
        let mode = if smoke {
            " (smoke)"
        } else if args.quick {
            " (--quick)"
        } else {
            ""
        };
        let _ = writeln!(out, "running {}{mode}", s.name);
        let passed = match crate::run_scenario(s, &options, &runs, observer) {
            Ok(f) => judge(&f, s, args, layout, out),
            Err(e) => {
                let _ = writeln!(out, "  FAILED: {:#}", anyhow::Error::from(e));
                false
            }
        };
        tally.ran += 1;
        if !passed {
            tally.failed += 1;
        }
    }
    let _ = writeln!(
        out,
        "scenarios: {} run, {} skipped, {} failed, in {:.0} s",
        tally.ran,
        tally.skipped,
        tally.failed,
        started.elapsed().as_secs_f64()
    );
    if tally.failed > 0 { FAILED } else { PASSED }
}

#[derive(Default)]
struct Tally {
    ran: usize,
    skipped: usize,
    failed: usize,
}

/// The crate's scenarios that match the filters; every file must load.
fn scenarios(layout: &Layout, filters: &[String]) -> Result<Vec<Scenario>, String> {
    let dir = layout.scenarios();
    let files = toml_files(&dir).map_err(|e| {
        format!(
            "cannot read `{}` ({e}); a bench runs the scenarios of the crate it is in \
             (`schemabench new` writes a first one)",
            dir.display()
        )
    })?;
    let mut scenarios = Vec::new();
    let mut invalid = Vec::new();
    for path in files {
        match load_any(&path) {
            Ok(Document::Scenario(s)) => scenarios.push(*s),
            Ok(Document::Workload(_)) => {}
            Err(e) => invalid.push(format!("{}:\n{e}", path.display())),
        }
    }
    if !invalid.is_empty() {
        return Err(invalid.join("\n"));
    }
    let all: Vec<String> = scenarios.iter().map(|s| s.name.clone()).collect();
    scenarios.retain(|s| filters.is_empty() || filters.iter().any(|f| s.name.contains(f.as_str())));
    if scenarios.is_empty() {
        return Err(if all.is_empty() {
            format!("no scenarios in `{}`", dir.display())
        } else {
            format!(
                "no scenario matches {} (there are: {})",
                filters.join(", "),
                all.join(", ")
            )
        });
    }
    Ok(scenarios)
}

/// Prints a finished run's verdicts, compares it with a baseline and saves
/// one as asked; whether the bench passes on it.
fn judge(f: &Finished, s: &Scenario, args: &BenchArgs, layout: &Layout, out: &mut dyn Write) -> bool {
    for v in &f.result.comparison.verdicts {
        let _ = writeln!(out, "  {}", sentence(v, Style::Plain));
    }
    if args.smoke() {
        let _ = writeln!(out, "  report: none kept (smoke run)");
    } else {
        let shown = f.folder.strip_prefix(&layout.root).unwrap_or(&f.folder);
        let _ = writeln!(out, "  report: {}", shown.join("report.md").display());
    }
    let mut passed = match f.outcome() {
        Ok(Exit::Success) => true,
        Ok(Exit::Findings) => {
            let _ = writeln!(out, "  FAILED: answers differ or operations failed (see the report)");
            false
        }
        Err(e) => {
            let _ = writeln!(out, "  FAILED: {e}");
            false
        }
    };
    if let Some(name) = &args.baseline {
        passed &= compare_with(name, f, s, args, layout, out);
    }
    if let Some(name) = &args.save_baseline {
        if passed {
            match baseline::save(&layout.baselines(&s.name), name, std::slice::from_ref(&f.folder)) {
                Ok(at) => {
                    let shown = at.strip_prefix(&layout.root).unwrap_or(&at);
                    let _ = writeln!(out, "  saved baseline `{name}` in {}", shown.display());
                }
                Err(e) => {
                    let _ = writeln!(out, "  FAILED: saving baseline `{name}`: {:#}", anyhow::Error::from(e));
                    passed = false;
                }
            }
        } else {
            let _ = writeln!(out, "  baseline `{name}` not saved: a failed run is no baseline");
        }
    }
    passed
}

/// Compares a run with the scenario's saved baseline `name`; false on a
/// regression, a missing baseline or runs that cannot be compared.
fn compare_with(
    name: &str,
    f: &Finished,
    s: &Scenario,
    args: &BenchArgs,
    layout: &Layout,
    out: &mut dyn Write,
) -> bool {
    let earlier = match baseline::load(&layout.baselines(&s.name), name) {
        Ok(e) => e,
        Err(BaselineError::NotFound { .. }) => {
            let _ = writeln!(
                out,
                "  FAILED: no baseline `{name}` for {}; save one with `cargo bench -- --save-baseline {name}`",
                s.name
            );
            return false;
        }
        Err(e) => {
            let _ = writeln!(out, "  FAILED: baseline `{name}`: {:#}", anyhow::Error::from(e));
            return false;
        }
    };
    let thresholds = Thresholds(args.thresholds.iter().copied().collect());
    let c = match compare_runs(&f.result, &earlier, &thresholds, false) {
        Ok(c) => c,
        Err(differ) => {
            let _ = writeln!(
                out,
                "  FAILED: this run cannot be compared with baseline `{name}` ({}); run it as the baseline was \
                 run, or save a new one",
                differ.join("; ")
            );
            return false;
        }
    };
    let sides = Sides {
        now: &f.result,
        earlier: &earlier[0],
        earlier_label: format!("baseline `{name}`"),
    };
    for line in terminal(&c, &sides).lines() {
        let _ = writeln!(out, "  {line}");
    }
    if c.fails() {
        let _ = writeln!(out, "  FAILED: regression against baseline `{name}`");
    }
    !c.fails()
}
