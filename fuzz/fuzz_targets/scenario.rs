//! Any text as a scenario file next to the repository's workloads: parsing
//! and resolving it, then planning a run from it, must return a located
//! error or a plan, never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use schemabench::scenario::{Source, resolve_scenario};
use std::path::PathBuf;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // Inside `scenarios/`, so `workload = "orders"` finds workloads/orders.toml.
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/fuzz.toml");
    let source = Source::from_text(&path, text.to_string());
    match resolve_scenario(&source) {
        Ok(scenario) => {
            let _ = schemabench::run::plan(&scenario, &Default::default());
        }
        Err(errors) => {
            // Rendering the error (positions, snippets) must not panic either.
            let _ = errors.to_string();
        }
    }
});
