//! A design question in code instead of a scenario file:
//! `cargo run --release --example index_question`.
//! Builds the question, runs it on embedded SQLite, and prints the verdict
//! and where the report is — the same result a file would give.

use schemabench::builder::{ScenarioBuilder, VariantBuilder};
use schemabench::report::verdict::{Style, sentence};
use schemabench::run::{RunOptions, Silent};
use std::path::Path;
use std::time::Duration;

fn main() -> anyhow::Result<()> {
    let scenario = ScenarioBuilder::new(
        "index_question_from_code",
        "Which index serves 'pending orders since a moment', and what do inserts pay?",
    )
    .workload("orders")
    .param("users", 5_000.0)
    .param("orders", 50_000.0)
    .clients(2)
    .warmup(Duration::from_millis(500))
    .duration(Duration::from_secs(2))
    .rounds(3)
    .mix("pending_since", 80)
    .mix("place_order", 20)
    .variant(VariantBuilder::new("no_index"))
    .variant(
        VariantBuilder::new("status_created")
            .setup("CREATE INDEX orders_status_created ON orders (status, created_at)"),
    )
    .verdict("no_index", "pending_since", "p99")
    .guard(Some("place_order"), "p50", "25%")
    .build()?;
    let finished = schemabench::run_scenario(&scenario, &RunOptions::default(), Path::new("reports/runs"), &Silent)?;
    for v in &finished.result.comparison.verdicts {
        println!("{}", sentence(v, Style::Plain));
    }
    println!("Report: {}", finished.folder.join("report.md").display());
    Ok(())
}
