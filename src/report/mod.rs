//! Reports: pure functions from a [`RunResult`](crate::result::RunResult) to
//! bytes (JSON, Markdown, terminal text), the one place that writes run
//! folders, and the progress display.

pub mod folder;
pub mod markdown;
pub mod progress;
pub mod terminal;

pub use folder::{RunFolder, run_id};

/// `result.json`: pretty-printed, newline-terminated.
pub fn json(result: &crate::result::RunResult) -> String {
    let mut s = serde_json::to_string_pretty(result).expect("results serialise");
    s.push('\n');
    s
}
