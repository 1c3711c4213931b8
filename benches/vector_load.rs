//! Loading vectors, side by side on one throwaway cluster: schemabench
//! generating and loading `workloads/embeddings.toml` (100,000 documents
//! with a 128-d `vector`, binary COPY) against a plain binary COPY of the
//! very same rows into the same empty table (`common::copy_pair`; the
//! target is ≤ 1.2× `psql \copy`). Five alternating pairs
//! (docs/performance.md).
//! `cargo bench --bench vector_load`; `cargo test --benches`: 2,000 rows, one pair.

mod common;

fn main() {
    if !common::should_run("vector_load/vs_plain_copy") {
        return;
    }
    let bench = std::env::args().any(|a| a == "--bench");
    let (docs, pairs) = if bench { (100_000.0, 5) } else { (2_000.0, 1) };
    let load = common::copy_pair::Load {
        label: "vector_load",
        workload: "embeddings.toml",
        params: &[("docs", docs)],
        table: "docs",
        schema: None,
        pairs,
    };
    let Some(t) = common::copy_pair::run(&load) else {
        return;
    };
    t.print(&load, "with vector(128)");
    println!(
        "vector_load/ratio        schemabench / psql \\copy: {:.2}× (target ≤ 1.20×); / server-side COPY: {:.2}× (median of {pairs} paired runs)",
        t.median_ratio(&t.psql),
        t.median_ratio(&t.server)
    );
}
