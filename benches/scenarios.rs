//! `cargo bench --bench scenarios [-- FILTER...]`: runs every scenario in
//! `scenarios/` (or those whose name contains a filter), prints each verdict
//! and report folder. Backends that cannot be provisioned are skipped with
//! one line each. `-- --quick` uses each scenario's smoke profile;
//! `-- --list` lists the scenarios; `cargo test --benches` runs a fast smoke
//! pass (quick profile, short windows, reports in a temp folder). Exits 1
//! when a run fails or finds something (answers that differ, operations
//! that failed), so CI notices.

use schemabench::backend::BackendKind;
use schemabench::provision::{self, Request};
use schemabench::report::progress::Progress;
use schemabench::report::verdict::{Style, sentence};
use schemabench::run::{Observer, RunOptions, Silent};
use schemabench::scenario::{Document, load_any, toml_files};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bench = args.iter().any(|a| a == "--bench");
    let list = args.iter().any(|a| a == "--list");
    let quick = args.iter().any(|a| a == "--quick") || !bench;
    let filters: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .map(String::as_str)
        .collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut scenarios = Vec::new();
    let mut failures = 0;
    for path in toml_files(&root.join("scenarios")).expect("scenarios/ is readable") {
        match load_any(&path) {
            Ok(Document::Scenario(s)) => scenarios.push(*s),
            Ok(Document::Workload(_)) => {}
            Err(e) => {
                println!("invalid {}:\n{e}", path.display());
                failures += 1;
            }
        }
    }
    scenarios.retain(|s| filters.is_empty() || filters.iter().any(|f| s.name.contains(f)));
    if list {
        for s in &scenarios {
            println!("{}: bench", s.name);
        }
        return;
    }

    let (out, _tmp): (PathBuf, Option<tempfile::TempDir>) = if bench {
        (root.join("reports/runs"), None)
    } else {
        let t = tempfile::tempdir().expect("temp dir");
        (t.path().to_path_buf(), Some(t))
    };
    let postgres_missing = provision::unavailable(&Request::default());
    let progress = Progress::new();
    let observer: &dyn Observer = if bench { &progress } else { &Silent };
    let started = Instant::now();
    let mut skipped = 0;
    for s in &scenarios {
        if s.backends.contains(&BackendKind::Postgres)
            && let Some(reason) = &postgres_missing
        {
            println!(
                "skipped {}: needs PostgreSQL, which is not available here ({reason})",
                s.name
            );
            skipped += 1;
            continue;
        }
        let mut options = RunOptions {
            quick,
            ..RunOptions::default()
        };
        if !bench {
            // Smoke mode: prove every scenario runs end to end, quickly.
            options.warmup = Some(Duration::from_millis(100));
            options.duration = Some(Duration::from_millis(300));
            options.rounds = NonZeroU32::new(1);
        }
        println!("running {}{}", s.name, if quick { " (--quick)" } else { "" });
        match schemabench::run_scenario(s, &options, &out, observer) {
            Ok(f) => {
                for v in &f.result.comparison.verdicts {
                    println!("  {}", sentence(v, Style::Plain));
                }
                let folder = f.folder.strip_prefix(root).unwrap_or(&f.folder);
                println!("  report: {}", folder.join("report.md").display());
                match f.outcome() {
                    Err(e) => {
                        println!("  FAILED: {e}");
                        failures += 1;
                    }
                    Ok(schemabench::Exit::Findings) => {
                        println!("  FAILED: answers differ or operations failed (see the report)");
                        failures += 1;
                    }
                    Ok(_) => {}
                }
            }
            Err(e) => {
                println!("  FAILED: {:#}", anyhow::Error::from(e));
                failures += 1;
            }
        }
    }
    println!(
        "scenarios: {} run, {} skipped, {} failed, in {:.0} s",
        scenarios.len() - skipped,
        skipped,
        failures,
        started.elapsed().as_secs_f64()
    );
    if failures > 0 {
        std::process::exit(1);
    }
}
