//! Running a scenario's `[sweep]`: one complete run per value into a sweep
//! folder (`<stamp>-<scenario>-sweep/<key>-<value>/`), then `sweep.json`,
//! `sweep.md` and `sweep.html` beside them (`compare::sweep`,
//! `report::scale_sweep`). A signal or a failed value stops the sweep; the
//! values measured are kept and the summary says it is incomplete.

use super::{Error, Exit, Finished, run_scenario_as};
use crate::compare::sweep::{Point, SweepSummary, summarise};
use crate::report::{self, RunFolder};
use crate::run::{Observer, RunOptions};
use crate::scenario::{ScaleSweep, Scenario, SweepKey};
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

/// A finished sweep: its summary, folder and every value's run.
pub struct SweptRuns {
    pub summary: SweepSummary,
    pub folder: PathBuf,
    pub runs: Vec<Finished>,
}

impl SweptRuns {
    /// As for one run: incomplete is an error (the folder is kept); any
    /// value's findings are findings.
    pub fn outcome(&self) -> Result<Exit, Error> {
        let mut exit = Exit::Success;
        for run in &self.runs {
            if run.outcome()? == Exit::Findings {
                exit = Exit::Findings;
            }
        }
        if !self.summary.complete {
            return Err(Error::Incomplete {
                reason: "the sweep stopped before its last value".into(),
                report: self.folder.clone(),
            });
        }
        Ok(exit)
    }
}

/// The point's folder name: `orders-10000`, `mix.place_order-50`.
fn point_id(sweep: &ScaleSweep, value: f64) -> String {
    let v = report::scale_sweep::value(value).replace(',', "");
    format!("{}-{v}", sweep.key.label())
}

/// Runs `scenario` at every value of `sweep` into a new folder under `out`.
pub fn run_sweep(
    scenario: &Scenario,
    sweep: &ScaleSweep,
    options: &RunOptions,
    out: &Path,
    observer: &dyn Observer,
) -> Result<SweptRuns, Error> {
    let id = report::run_id(OffsetDateTime::now_utc(), &format!("{}-sweep", scenario.name));
    let folder = RunFolder::create(out, &id).map_err(|source| Error::Output {
        path: out.to_path_buf(),
        source,
    })?;
    let mut runs: Vec<(f64, Finished)> = Vec::new();
    let mut complete = true;
    for &value in &sweep.values {
        if options.cancel.is_cancelled() {
            complete = false;
            break;
        }
        let mut point = scenario.clone();
        point.mix = sweep.mix_at(&scenario.mix, value);
        let mut point_options = options.clone();
        match &sweep.key {
            SweepKey::Param(name) => {
                point_options.params.retain(|(n, _)| n != name);
                point_options.params.push((name.clone(), value));
            }
            SweepKey::Clients => point_options.clients = std::num::NonZeroU32::new(value as u32),
            SweepKey::Weight { .. } => {}
        }
        let finished = match run_scenario_as(
            &point,
            &point_options,
            folder.partial_path(),
            &point_id(sweep, value),
            observer,
        ) {
            Ok(f) => f,
            // Nothing measured yet: no sweep folder is left behind.
            Err(e) if runs.is_empty() => {
                let _ = std::fs::remove_dir_all(folder.partial_path());
                return Err(e);
            }
            Err(e) => {
                eprintln!(
                    "error: the sweep stopped at {} = {value}: {:#}",
                    sweep.key.label(),
                    anyhow::Error::from(e)
                );
                complete = false;
                break;
            }
        };
        let stop = !finished.result.run.complete;
        runs.push((value, finished));
        if stop {
            complete = false;
            break;
        }
    }
    let points: Vec<Point<'_>> = runs
        .iter()
        .map(|(value, f)| Point {
            value: *value,
            run: f.folder.file_name().unwrap_or_default().to_string_lossy().into_owned(),
            result: &f.result,
        })
        .collect();
    let summary = summarise(&sweep.key.label(), options.quick, complete, &points);
    let files = [
        (
            "sweep.json",
            serde_json::to_string_pretty(&summary).expect("summaries serialise") + "\n",
        ),
        ("sweep.md", report::scale_sweep::markdown(&summary)),
        ("sweep.html", report::scale_sweep::html(&summary)),
    ];
    for (name, text) in files {
        folder.write(name, text.as_bytes())?;
    }
    let folder = folder.finish()?;
    // Each value's folder moved with the sweep's.
    let runs = runs
        .into_iter()
        .map(|(_, f)| Finished {
            folder: folder.join(f.folder.file_name().unwrap_or_default()),
            result: f.result,
        })
        .collect();
    Ok(SweptRuns { summary, folder, runs })
}
