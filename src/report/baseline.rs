//! Saved baselines: `<dir>/<name>/result.json` (a copy of a run's result)
//! and `baseline.json` saying which run it came from and when. Saving
//! under an existing name replaces it — refreshing a baseline is a
//! deliberate act (docs/nightly.md).

use crate::result::RunResult;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The default folder of saved baselines.
pub const DEFAULT_DIR: &str = "reports/baselines";

/// Where a baseline came from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BaselineInfo {
    pub name: String,
    pub run_id: String,
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

/// Saves the result of `run` as baseline `name` under `dir`; returns the
/// baseline's folder.
pub fn save(dir: &Path, name: &str, run: &Path) -> Result<PathBuf, BaselineError> {
    check_name(name)?;
    let result = read_run(run)?;
    let folder = dir.join(name);
    let write = |file: &str, bytes: &[u8]| {
        let path = folder.join(file);
        let tmp = folder.join(format!(".{file}.tmp"));
        std::fs::create_dir_all(&folder)
            .and_then(|()| std::fs::write(&tmp, bytes))
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|source| BaselineError::Write { path, source })
    };
    let info = BaselineInfo {
        name: name.to_string(),
        run_id: result.run.id.clone(),
        scenario: result.scenario.name.clone(),
        from: run.display().to_string(),
        saved_at: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    };
    write("result.json", result.to_json().as_bytes())?;
    write(
        "baseline.json",
        serde_json::to_string_pretty(&info).expect("serialises").as_bytes(),
    )?;
    Ok(folder)
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

/// Loads baseline `name` from `dir`.
pub fn load(dir: &Path, name: &str) -> Result<RunResult, BaselineError> {
    check_name(name)?;
    let file = dir.join(name).join("result.json");
    if !file.exists() {
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
    read_run(&file)
}
