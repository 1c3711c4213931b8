//! The open-loop scheduler against a no-op backend: can it hold 20,000
//! operations per second over 2 clients on this machine, with under 1% of
//! operations late (started > 1 ms after their intended time) and a p99
//! start lag under 1 ms? `cargo bench --bench open_loop`.

use schemabench::backend::Engine;
use schemabench::backend::mock::{MockConfig, MockEngine};
use schemabench::run::{RunOptions, plan, workers};
use std::sync::atomic::AtomicBool;

mod common;

fn main() {
    if !common::should_run("open_loop/20000_per_s") {
        return;
    }
    let bench = std::env::args().any(|a| a == "--bench");
    let duration = if bench { "5s" } else { "1s" };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("w.toml"),
        "name = \"w\"\nschema = [\"CREATE TABLE t (id INTEGER)\"]\n[[op]]\nname = \"noop\"\nsql = \"SELECT 1\"\n",
    )
    .unwrap();
    for arrivals in ["uniform", "poisson"] {
        std::fs::write(
            dir.path().join("s.toml"),
            format!(
                "name = \"s\"\nquestion = \"q\"\nworkload = \"w.toml\"\n[load]\nclients = 2\nwarmup = \"500ms\"\n\
                 duration = \"{duration}\"\nrate = 20000\narrivals = \"{arrivals}\"\n[mix]\nnoop = 1\n[[variant]]\nname = \"a\"\n"
            ),
        )
        .unwrap();
        let scenario = schemabench::scenario::load_scenario(&dir.path().join("s.toml")).unwrap();
        let plan = plan(&scenario, &RunOptions::default()).unwrap();
        let mut engine = MockEngine::new(MockConfig::default());
        engine.create_variant("a", &[]).unwrap();
        let w = workers::measure(
            &engine,
            &plan.targets[0],
            &plan,
            0,
            &AtomicBool::new(false),
            &|_| {},
            &mut workers::at_once,
        )
        .unwrap();
        let s = w.records.schedule.as_ref().unwrap();
        let late = s.late as f64 / s.scheduled as f64;
        let lag_p99_us = s.lag.value_at_quantile(0.99) as f64 / 1e3;
        println!(
            "open_loop/{arrivals:7} target 20000/s: achieved {:.0}/s, {:.3}% late (target < 1%), start lag p50 {:.1} µs, p99 {:.1} µs (target < 1000 µs), max {:.1} ms",
            w.records.ops[0].count() as f64 / w.seconds,
            late * 100.0,
            s.lag.value_at_quantile(0.5) as f64 / 1e3,
            lag_p99_us,
            s.lag.max() as f64 / 1e6
        );
    }
}
