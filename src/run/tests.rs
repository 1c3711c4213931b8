//! The runner's own logic against the mock engine: open-loop scheduling,
//! coordinated-omission correction and the SLO search.

use super::*;
use crate::backend::mock::{MockConfig, MockEngine};
use crate::scenario::load_scenario;
use crate::test_support::exclusive as timing;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// A one-operation scenario in a temp folder.
fn mock_plan(load: &str) -> (tempfile::TempDir, RunPlan) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("w.toml"),
        r#"name = "w"
schema = ["CREATE TABLE t (id INTEGER)"]
[[op]]
name = "ping"
sql = "SELECT 1"
"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("s.toml"),
        format!(
            r#"name = "s"
question = "q"
workload = "w.toml"
[load]
{load}
[mix]
ping = 1
[[variant]]
name = "a"
"#
        ),
    )
    .unwrap();
    let scenario = load_scenario(&dir.path().join("s.toml")).unwrap();
    let plan = plan(&scenario, &RunOptions::default()).unwrap();
    (dir, plan)
}

fn window(engine: &MockEngine, plan: &RunPlan) -> Window {
    workers::measure(
        engine,
        &plan.targets[0],
        plan,
        0,
        &AtomicBool::new(false),
        &|_| {},
        &mut workers::at_once,
    )
    .unwrap()
}

#[test]
fn a_stall_shows_in_open_loop_p99_as_theory_predicts() {
    // 1000 ops/s from one client, 3 s measured after 200 ms of warmup, and
    // one 300 ms stall in the middle. Every operation due during the stall
    // waits for its end: ~300 of ~3000 operations (10%) get response times
    // spread evenly from 300 ms down to 0, so the top 1% (30 operations) are
    // the first tenth of them: p99 ≈ 300 ms × (1 − 0.01 / 0.10) = 270 ms.
    // (A long stall keeps scheduler noise on a busy machine small against it.)
    let _serial = timing();
    let (_dir, plan) = mock_plan("clients = 1\nwarmup = \"200ms\"\nduration = \"3s\"\nrate = 1000");
    let engine = MockEngine::new(MockConfig {
        service: Duration::from_micros(50),
        stalls: vec![(Duration::from_millis(1200), Duration::from_millis(300))],
        ..MockConfig::default()
    });
    let w = window(&engine, &plan);
    let op = &w.records.ops[0];
    let p99 = op.latency.value_at_quantile(0.99) as f64 / 1e6;
    assert!(
        (230.0..=320.0).contains(&p99),
        "corrected p99 {p99:.1} ms, expected about 270 ms"
    );
    let service_p99 = op.service.as_ref().unwrap().value_at_quantile(0.99) as f64 / 1e6;
    assert!(
        service_p99 < 5.0,
        "service time p99 {service_p99:.2} ms should not include the stall"
    );
    let count = op.count();
    assert!((2850..=3150).contains(&count), "{count} operations at 1000/s over 3 s");
    let s = w.records.schedule.as_ref().unwrap();
    assert!(s.late >= 280, "operations due during the stall start late: {}", s.late);

    // The same stall in a closed loop hides: one slow operation among many.
    let (_dir, closed) = mock_plan("clients = 1\nwarmup = \"200ms\"\nduration = \"3s\"");
    let engine = MockEngine::new(MockConfig {
        service: Duration::from_micros(50),
        stalls: vec![(Duration::from_millis(1200), Duration::from_millis(300))],
        ..MockConfig::default()
    });
    let w = window(&engine, &closed);
    let p99 = w.records.ops[0].latency.value_at_quantile(0.99) as f64 / 1e6;
    assert!(
        p99 < 5.0,
        "closed-loop p99 {p99:.2} ms: coordinated omission hides the stall"
    );
}

#[test]
fn poisson_arrivals_average_the_target_rate() {
    let _serial = timing();
    let (_dir, plan) =
        mock_plan("clients = 2\nwarmup = \"100ms\"\nduration = \"2s\"\nrate = 2000\narrivals = \"poisson\"");
    let engine = MockEngine::new(MockConfig::default());
    let w = window(&engine, &plan);
    let count = w.records.ops[0].count() as f64;
    assert!(
        (count - 4000.0).abs() < 4000.0 * 0.08,
        "{count} arrivals, expected about 4000"
    );
    // The scheduler's own precision is a benchmark (benches/open_loop.rs); here,
    // with other tests competing for two cores, only gross failure counts.
    assert!(w.records.schedule.as_ref().unwrap().late as f64 / count < 0.05);
}

#[test]
fn the_slo_search_finds_the_knee_of_a_capacity_limit() {
    // One operation at a time, 1 ms each: capacity 1000/s. Below it the p99
    // stays near 1 ms; above it a queue grows without bound.
    let _serial = timing();
    let (_dir, plan) = mock_plan("clients = 8\nduration = \"1s\"");
    let engine = MockEngine::new(MockConfig {
        service: Duration::from_millis(1),
        serialized: true,
        ..MockConfig::default()
    });
    let search = crate::scenario::SloSearch {
        op: crate::scenario::OpId(0),
        p99: Duration::from_millis(50),
        start_rate: 100,
        max_rate: 100_000,
        step: Duration::from_secs(1),
        refine: 5,
    };
    let r = slo::search(&engine, &plan.targets[0], &plan, &search, &AtomicBool::new(false)).unwrap();
    let max = r
        .max_rate_per_s
        .unwrap_or_else(|| panic!("100/s is well under capacity: {:?}", r.probes));
    assert!(
        (750..=1100).contains(&max),
        "knee at 1000/s, found {max}/s: {:?}",
        r.probes
    );
    assert!(!r.capped);
    assert!(r.probes.iter().any(|p| !p.held), "the search went past the knee");
}

#[test]
fn a_ramp_steps_rates_through_the_warmup_then_holds_the_measured_rate() {
    let (_dir, plan) = mock_plan("clients = 1\nwarmup = \"2s\"\nduration = \"1s\"\nrate = 400\nramp = [100, 200]");
    assert_eq!(plan.rate_at(Duration::from_millis(500)), Some(100.0));
    assert_eq!(plan.rate_at(Duration::from_millis(1500)), Some(200.0));
    assert_eq!(plan.rate_at(Duration::from_millis(2500)), Some(400.0));
    let _serial = timing();
    let engine = MockEngine::new(MockConfig::default());
    let w = window(&engine, &plan);
    let count = w.records.ops[0].count();
    assert!(
        (380..=420).contains(&count),
        "the measured second runs at 400/s: {count}"
    );
}
