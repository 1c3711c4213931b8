//! `manifest.json`: the SHA-256 of every file of a run folder, written last,
//! and `schemabench verify`, which checks the folder against it and checks
//! that the reports are what `result.json` renders to (a report edited by
//! hand, or a result swapped under it, is caught).

use crate::result::RunResult;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The manifest's file name inside a run folder.
pub const MANIFEST: &str = "manifest.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Manifest {
    /// `sha256` (the only algorithm so far).
    pub algorithm: String,
    /// File name within the folder (`plans/x.json`) → lowercase hex digest.
    pub files: BTreeMap<String, String>,
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

impl Manifest {
    /// The manifest of `files` (name, contents).
    pub fn of<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> Self {
        Manifest {
            algorithm: "sha256".into(),
            files: files
                .into_iter()
                .filter(|(name, _)| *name != MANIFEST)
                .map(|(name, bytes)| (name.to_string(), sha256_hex(bytes)))
                .collect(),
        }
    }

    /// The manifest of every file in `folder` (hidden files and the
    /// manifest itself left out).
    pub fn of_folder(folder: &Path) -> std::io::Result<Self> {
        let files = folder_files(folder)?;
        let mut read = Vec::with_capacity(files.len());
        for name in files {
            let bytes = std::fs::read(folder.join(&name))?;
            read.push((name, bytes));
        }
        Ok(Manifest::of(read.iter().map(|(n, b)| (n.as_str(), b.as_slice()))))
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut json = serde_json::to_vec_pretty(self).expect("a manifest serialises");
        json.push(b'\n');
        json
    }
}

/// Names of the files under `folder`, relative, `/`-separated, sorted;
/// hidden entries (temp files) and the manifest left out.
fn folder_files(folder: &Path) -> std::io::Result<Vec<String>> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if entry.file_type()?.is_dir() {
                walk(root, &path, out)?;
            } else {
                let rel = path.strip_prefix(root).unwrap_or(&path);
                let name: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(name.join("/"));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(folder, folder, &mut out)?;
    out.retain(|n| n != MANIFEST);
    out.sort();
    Ok(out)
}

/// One problem `verify` found.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    Missing(String),
    Changed(String),
    Unlisted(String),
    /// A report (report.md, report.html) differs from what result.json
    /// renders to.
    ReportNotRendered(String),
    /// result.json does not parse.
    UnreadableResult(String),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Missing(n) => write!(f, "{n}: listed in the manifest but missing"),
            Problem::Changed(n) => write!(
                f,
                "{n}: changed since the run (its SHA-256 differs from the manifest's)"
            ),
            Problem::Unlisted(n) => write!(f, "{n}: not in the manifest (added after the run)"),
            Problem::ReportNotRendered(n) => write!(
                f,
                "{n}: not what result.json renders to (edited, or from another run); \
                 `schemabench report` renders it again"
            ),
            Problem::UnreadableResult(e) => write!(f, "result.json: does not read as a result: {e}"),
        }
    }
}

/// Why a folder cannot be verified at all.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("cannot read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is not a manifest: {message}", path.display())]
    BadManifest { path: PathBuf, message: String },
}

/// What `verify` found: files checked and problems (none: intact).
#[derive(Debug, Clone)]
pub struct Verification {
    pub checked: usize,
    pub problems: Vec<Problem>,
}

/// Checks `folder` against its manifest and report.md against result.json.
pub fn verify(folder: &Path) -> Result<Verification, VerifyError> {
    let path = folder.join(MANIFEST);
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| VerifyError::Read {
            path: path.to_path_buf(),
            source,
        })
    };
    let manifest: Manifest = serde_json::from_slice(&read(&path)?).map_err(|e| VerifyError::BadManifest {
        path: path.clone(),
        message: e.to_string(),
    })?;
    if manifest.algorithm != "sha256" {
        return Err(VerifyError::BadManifest {
            path,
            message: format!("unknown algorithm `{}` (sha256 is accepted)", manifest.algorithm),
        });
    }
    let mut problems = Vec::new();
    for (name, digest) in &manifest.files {
        match std::fs::read(folder.join(name)) {
            Ok(bytes) if sha256_hex(&bytes) == *digest => {}
            Ok(_) => problems.push(Problem::Changed(name.clone())),
            Err(_) => problems.push(Problem::Missing(name.clone())),
        }
    }
    let present = folder_files(folder).map_err(|source| VerifyError::Read {
        path: folder.to_path_buf(),
        source,
    })?;
    for name in present.iter().filter(|n| !manifest.files.contains_key(*n)) {
        problems.push(Problem::Unlisted(name.clone()));
    }
    if let Ok(json) = std::fs::read_to_string(folder.join("result.json")) {
        match RunResult::from_json(&json) {
            Ok(result) => {
                for (name, bytes) in super::rendered(&result) {
                    let on_disk = std::fs::read(folder.join(&name)).ok();
                    // A folder written before a report existed lacks it.
                    if on_disk.is_some_and(|d| d != bytes) {
                        problems.push(Problem::ReportNotRendered(name));
                    }
                }
            }
            Err(e) => problems.push(Problem::UnreadableResult(e.to_string())),
        }
    }
    Ok(Verification {
        checked: manifest.files.len(),
        problems,
    })
}
