//! Any text as a workload file: parsing and resolving it (generators,
//! expressions, operations) must return a located error or a workload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use schemabench::scenario::{Source, resolve_workload};
use std::path::PathBuf;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let path = PathBuf::from("workloads/fuzz.toml");
    let source = Source::from_text(&path, text.to_string());
    if let Err(errors) = resolve_workload(&source) {
        let _ = errors.to_string();
    }
});
