//! `cargo bench --bench scenarios [-- FILTER...]`: runs every scenario in
//! this repository's `scenarios/` through [`schemabench::bench::main`], the
//! entry point a user's own crate uses (docs/cargo-bench.md): `--list`,
//! `--quick`, `--save-baseline NAME`, `--baseline NAME`; reports under
//! `target/schemabench/runs/`. `cargo test --benches` runs a smoke pass.
//! Exits 1 when a run fails, answers differ or a baseline comparison finds
//! a regression, so CI notices.

fn main() {
    schemabench::bench::main()
}
