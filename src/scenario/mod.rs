//! Workload and scenario files: parse (serde mirrors with
//! `deny_unknown_fields`), then resolve into validated domain types with
//! located, actionable errors.

mod backend_kind;
mod batch;
mod bind;
mod diag;
mod groups;
mod load;
mod model;
mod neighbours;
mod per_backend;
mod pipeline;
mod raw;
mod resolve_load;
mod resolve_scenario;
mod resolve_verdict;
mod resolve_workload;
mod scale_sweep;
mod sweep;

pub use backend_kind::BackendKind;
pub use batch::{BatchDecl, MAX_BATCH_VALUES};
pub use bind::{BoundWorkload, bind};
pub use diag::{ConfigError, ConfigErrors, Source};
pub use load::*;
pub use model::*;
pub use neighbours::{DEFAULT_RECALL_QUERIES, NeighbourDecl};
pub use per_backend::PerBackend;
pub use resolve_load::{DEFAULT_LOAD, DEFAULT_OP_TIMEOUT, QUICK_LOAD, parse_duration};
pub use resolve_scenario::{DEFAULT_SEED, load_scenario, resolve_scenario};
pub use resolve_verdict::{parse_fraction, parse_metric};
pub use resolve_workload::{load_workload, resolve_workload};
pub use scale_sweep::{MAX_SCALE_SWEEP_VALUES, ScaleSweep, SweepKey};
pub use sweep::{MAX_SWEEP_VALUES, SweepPoint};

use std::path::{Path, PathBuf};

/// A configuration file of either kind.
#[derive(Debug, Clone)]
pub enum Document {
    Scenario(Box<Scenario>),
    Workload(Box<Workload>),
}

/// Loads a scenario or a workload, telling them apart by their keys: a
/// scenario names its `workload`; a workload has `[[table]]`/`[[op]]`.
pub fn load_any(path: &Path) -> Result<Document, ConfigErrors> {
    let source = Source::read(path)?;
    let kind = match toml::from_str::<toml::Table>(&source.text) {
        Ok(table) if table.contains_key("workload") => Some(true),
        Ok(table) if table.contains_key("op") || table.contains_key("table") || table.contains_key("schema") => {
            Some(false)
        }
        Ok(_) => None,
        // Syntax errors: guess by folder, then let the parser report them.
        Err(_) => Some(!path.components().any(|c| c.as_os_str() == "workloads")),
    };
    match kind {
        Some(true) => resolve_scenario::resolve_scenario(&source).map(|s| Document::Scenario(Box::new(s))),
        Some(false) => resolve_workload::resolve_workload(&source).map(|w| Document::Workload(Box::new(w))),
        None => Err(source
            .file_error(
                None,
                "cannot tell whether this is a scenario or a workload: a scenario names its `workload = \"...\"`; a workload has `schema`, `[[table]]` and `[[op]]` entries",
            )
            .into()),
    }
}

/// The `.toml` files directly inside `dir`, sorted.
pub fn toml_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests;
