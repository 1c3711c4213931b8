//! PostgreSQL provisioning and loading, side by side with pgbench on one
//! throwaway cluster: `pgbench -i -s 10` against schemabench loading the same
//! four pgbench tables (1M accounts) with parallel binary COPY and the same
//! primary keys built after the load, alternating A B A B. Also reports how
//! fast a local cluster is ready and how long a TEMPLATE clone of the loaded
//! 1M-row base takes. `cargo bench --bench postgres_load`.

use schemabench::backend::postgres::PostgresEngine;
use schemabench::backend::{BackendKind, BaseSpec, Engine};
use schemabench::provision::{self, Choice, Request, Server};
use schemabench::scenario::{bind, load_workload};
use schemabench::selfbench::pgbench::Pgbench;
use std::path::Path;
use std::time::Instant;

mod common;

fn main() {
    if !common::should_run("postgres_load/vs_pgbench_init") {
        return;
    }
    let bench = std::env::args().any(|a| a == "--bench");
    let (scale, pairs) = if bench { (10.0, 5) } else { (1.0, 1) };
    let Some(bins) = provision::local::find_binaries() else {
        println!("postgres_load: skipped, no PostgreSQL binaries here (scripts/install-backends.sh installs them)");
        return;
    };

    let t = Instant::now();
    let cluster = provision::local::LocalCluster::start(&bins, &Request::default()).expect("cluster starts");
    let ready = t.elapsed();
    let endpoint = cluster.endpoint().clone();
    let url = format!("postgres://postgres@127.0.0.1:{}/postgres", endpoint.port());

    let workload = load_workload(&Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads/tpcb.toml")).unwrap();
    let mut params = workload.params.clone();
    params.insert("scale".into(), scale);
    let tables = bind(&workload, &params).unwrap().tables;
    let spec = BaseSpec::for_workload(&workload, BackendKind::Postgres);
    let rows: u64 = tables.iter().map(|t| t.rows).sum();

    let mut admin = endpoint.connect("postgres").unwrap();
    let (mut pgbench_s, mut ours_s) = (Vec::new(), Vec::new());
    let mut clone_s = Vec::new();
    let pgbench = Pgbench::new(&bins);
    for pair in 0..pairs {
        // Both sides create their database inside the timed part.
        let db = format!("pgbench_{pair}");
        let t = Instant::now();
        admin.batch(&format!("CREATE DATABASE {db}")).unwrap();
        pgbench.init(&endpoint, &db, scale as u32).unwrap();
        pgbench_s.push(t.elapsed().as_secs_f64());
        admin.batch(&format!("DROP DATABASE {db}")).unwrap();

        let mut engine = PostgresEngine::start(&Request {
            choice: Choice::Url,
            url: Some(url.clone()),
            ..Request::default()
        })
        .unwrap();
        let t = Instant::now();
        engine.load_base(&spec, &tables, 1, &|_| {}).unwrap();
        ours_s.push(t.elapsed().as_secs_f64());
        clone_s.push(engine.create_variant("clone", &[]).unwrap().clone_seconds);
    }
    let mut paired: Vec<f64> = ours_s.iter().zip(&pgbench_s).map(|(o, p)| o / p).collect();
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (p, o, c) = (median(&mut pgbench_s), median(&mut ours_s), median(&mut clone_s));
    println!(
        "postgres_load/local_cluster_ready  {:.0} ms (target < 2000 ms)",
        ready.as_secs_f64() * 1e3
    );
    println!(
        "postgres_load/pgbench_init_s{scale}    median {p:.2} s over {pairs} runs: {:?}",
        pgbench_s.iter().map(|s| format!("{s:.2}")).collect::<Vec<_>>()
    );
    println!(
        "postgres_load/schemabench_load     median {o:.2} s over {pairs} runs ({rows} rows, {:.0} rows/s): {:?}",
        rows as f64 / o,
        ours_s.iter().map(|s| format!("{s:.2}")).collect::<Vec<_>>()
    );
    let pr = median(&mut paired);
    println!(
        "postgres_load/ratio                schemabench / pgbench: {pr:.2}× median of paired runs, {:.2}× of medians (target ≤ 1.00×)",
        o / p
    );
    println!(
        "postgres_load/template_clone       median {:.0} ms of a {rows}-row base (target < 3000 ms)",
        c * 1e3
    );
}
