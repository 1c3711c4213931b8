//! Reports: pure functions from a [`RunResult`] to bytes (JSON, Markdown,
//! terminal text), the list of files a run folder gets, the one place that
//! writes run folders, and the progress display.

pub mod across;
pub mod baseline;
mod charts;
pub mod exports;
pub mod folder;
pub mod groups;
pub mod html;
pub mod manifest;
pub mod markdown;
mod phases;
pub mod progress;
pub mod scale_sweep;
pub mod sweeps;
pub mod terminal;
pub mod verdict;

pub use folder::{RunFolder, WriteError, run_id, write_file};

use crate::result::RunResult;

/// Every file of a run folder, by name within it: `result.json`, the
/// reports rendered from it, each query plan as JSON, and last
/// `manifest.json` with the SHA-256 of each. The reports are
/// rendered from `result.json` read back, so `schemabench report` renders
/// the same bytes from the folder later.
pub fn files(result: &RunResult) -> Vec<(String, Vec<u8>)> {
    let json = result.to_json();
    // A result that did not read back would be a bug (tests check it); the
    // run's files are still written from the result in memory.
    let stored = RunResult::from_json(&json).unwrap_or_else(|e| {
        tracing::warn!(
            "result.json does not read back ({}); reports are rendered from memory",
            crate::util::error_chain(&e)
        );
        result.clone()
    });
    // result.json first: when the disk fills while the folder is written,
    // the data is what must land (the reports render from it later).
    let mut out = vec![
        ("result.json".to_string(), json.into_bytes()),
        ("report.md".to_string(), markdown::render(&stored).into_bytes()),
        ("report.html".to_string(), html::render(&stored).into_bytes()),
    ];
    for b in &stored.backends {
        for v in &b.variants {
            for p in &v.plans {
                let name = format!("plans/{}-{}-{}.json", b.backend, v.name, p.op);
                let json = serde_json::to_string_pretty(p).expect("plans serialise");
                out.push((name, json.into_bytes()));
            }
        }
    }
    out.push((
        "operations.csv".to_string(),
        exports::operations_csv(&stored).into_bytes(),
    ));
    out.extend(exports::hlogs(&stored));
    // Last: the digest of every file above.
    let manifest = manifest::Manifest::of(out.iter().map(|(n, b)| (n.as_str(), b.as_slice())));
    out.push((manifest::MANIFEST.to_string(), manifest.to_json()));
    out
}

/// What `schemabench report` renders again from `result.json`: the
/// reports, the CSV and the HdrHistogram logs.
pub fn rendered(result: &RunResult) -> Vec<(String, Vec<u8>)> {
    files(result)
        .into_iter()
        .filter(|(name, _)| name.starts_with("report.") || name == "operations.csv" || name.starts_with("hlog/"))
        .collect()
}
