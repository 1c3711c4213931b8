//! Loading a time series into a TimescaleDB hypertable, side by side on one
//! throwaway cluster: schemabench generating `workloads/metrics.toml`'s
//! readings (1,000,000 points: 1,000 sensors every 36 s for 10 hours) and
//! loading them through binary COPY, rows routed to ten one-hour chunks, against
//! a plain binary COPY of the very same rows into the same empty hypertable
//! (`common::copy_pair`; the target is ≥ 0.8× the plain COPY's rate, i.e.
//! at most 1.25× its time). Five alternating pairs (docs/performance.md).
//! `cargo bench --bench timeseries_load`; `cargo test --benches`: 10,000 points, one pair.

mod common;

fn main() {
    if !common::should_run("timeseries_load/hypertable") {
        return;
    }
    let bench = std::env::args().any(|a| a == "--bench");
    // sensors * hours * 3600 / every points.
    let (sensors, pairs) = if bench { (1_000.0, 5) } else { (10.0, 1) };
    let schema = vec![
        "CREATE TABLE metrics (time timestamptz NOT NULL, sensor_id int NOT NULL, value double precision NOT NULL)"
            .to_string(),
        "SELECT create_hypertable('metrics', by_range('time', INTERVAL '1 hour'))".to_string(),
    ];
    let load = common::copy_pair::Load {
        label: "timeseries_load",
        workload: "metrics.toml",
        params: &[("sensors", sensors), ("hours", 10.0), ("every", 36.0)],
        table: "metrics",
        schema: Some(schema),
        pairs,
    };
    let Some(t) = common::copy_pair::run(&load) else {
        return;
    };
    t.print(&load, "into a hypertable with one-hour chunks (10 chunks)");
    let rate = |ratio: f64| 1.0 / ratio;
    println!(
        "timeseries_load/ratio    schemabench's rate / psql \\copy's: {:.2}× (target ≥ 0.80×); / server-side COPY's: {:.2}× (median of {pairs} paired runs)",
        rate(t.median_ratio(&t.psql)),
        rate(t.median_ratio(&t.server))
    );
}
