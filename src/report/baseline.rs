//! Saved baselines: `<dir>/<name>/result.json` (a copy of a run's result;
//! `result-2.json`, `result-3.json`, ... for the further runs of a baseline
//! made of several) and `baseline.json` saying which runs it came from and
//! when. Several runs let a comparison measure run-to-run variation. Saving
//! under an existing name replaces it — refreshing a baseline is a
//! deliberate act (docs/nightly.md).

use crate::result::RunResult;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The default folder of saved baselines.
pub const DEFAULT_DIR: &str = "reports/baselines";

/// Where a baseline came from.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BaselineInfo {
    pub name: String,
    /// The first run's id.
    pub run_id: String,
    /// Every run's id, in order.
    #[serde(default)]
    pub runs: Vec<String>,
    pub scenario: String,
    /// The run folder it was saved from.
    pub from: String,
    /// RFC 3339, UTC.
    pub saved_at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("baseline name `{0}` must use only letters, digits, `_`, `-` and `.`")]
    BadName(String),
    #[error("no baseline `{name}` in `{}` (saved: {known}); save one with `schemabench baseline save {name} RUN_DIR`", dir.display())]
    NotFound { name: String, dir: PathBuf, known: String },
    #[error("cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}`", path.display())]
    BadResult {
        path: PathBuf,
        #[source]
        source: crate::result::ReadError,
    },
    #[error("cannot write `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn check_name(name: &str) -> Result<(), BaselineError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !name.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(BaselineError::BadName(name.to_string()))
    }
}

/// Reads a run folder's (or a file's) result.
pub fn read_run(path: &Path) -> Result<RunResult, BaselineError> {
    let file = if path.is_dir() {
        path.join("result.json")
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read_to_string(&file).map_err(|source| BaselineError::Read {
        path: file.clone(),
        source,
    })?;
    RunResult::from_json(&text).map_err(|source| BaselineError::BadResult { path: file, source })
}

/// Saves the results of `runs` (one or more run folders of the same
/// scenario) as baseline `name` under `dir`, replacing what was there;
/// returns the baseline's folder.
pub fn save(dir: &Path, name: &str, runs: &[PathBuf]) -> Result<PathBuf, BaselineError> {
    check_name(name)?;
    let results = runs.iter().map(|r| read_run(r)).collect::<Result<Vec<_>, _>>()?;
    let folder = dir.join(name);
    let write = |file: &str, bytes: &[u8]| {
        super::write_file(&folder.join(file), bytes).map_err(|e| BaselineError::Write {
            path: e.path,
            source: e.source,
        })
    };
    // Runs of an earlier save under this name go first.
    for old in result_files(&folder) {
        let _ = std::fs::remove_file(old);
    }
    for (i, result) in results.iter().enumerate() {
        write(&result_file(i), result.to_json().as_bytes())?;
    }
    let info = BaselineInfo {
        name: name.to_string(),
        run_id: results[0].run.id.clone(),
        runs: results.iter().map(|r| r.run.id.clone()).collect(),
        scenario: results[0].scenario.name.clone(),
        from: runs
            .iter()
            .map(|r| r.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
        saved_at: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    };
    write(
        "baseline.json",
        serde_json::to_string_pretty(&info).expect("serialises").as_bytes(),
    )?;
    Ok(folder)
}

/// `result.json` for the first run, `result-2.json` for the second, ...
fn result_file(i: usize) -> String {
    if i == 0 {
        "result.json".to_string()
    } else {
        format!("result-{}.json", i + 1)
    }
}

/// The result files of a baseline folder, in run order.
fn result_files(folder: &Path) -> Vec<PathBuf> {
    (0..)
        .map(|i| folder.join(result_file(i)))
        .take_while(|p| p.exists())
        .collect()
}

/// The saved baselines under `dir`, by name.
pub fn list(dir: &Path) -> Vec<BaselineInfo> {
    let mut out: Vec<BaselineInfo> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let text = std::fs::read_to_string(e.path().join("baseline.json")).ok()?;
            serde_json::from_str(&text).ok()
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Loads baseline `name` from `dir`: every run it was saved from.
pub fn load(dir: &Path, name: &str) -> Result<Vec<RunResult>, BaselineError> {
    check_name(name)?;
    let files = result_files(&dir.join(name));
    if files.is_empty() {
        let known: Vec<String> = list(dir).into_iter().map(|b| b.name).collect();
        return Err(BaselineError::NotFound {
            name: name.to_string(),
            dir: dir.to_path_buf(),
            known: if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            },
        });
    }
    files.iter().map(|f| read_run(f)).collect()
}
