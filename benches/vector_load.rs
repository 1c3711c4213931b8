//! Loading vectors, side by side on one throwaway cluster: schemabench
//! generating and loading `workloads/embeddings.toml` (100,000 documents
//! with a 128-d `vector`, binary COPY) against a plain binary COPY of the
//! very same rows into the same empty table: `psql \copy` of a binary file
//! (what a user does by hand; the target is ≤ 1.2×) and a server-side
//! `COPY docs FROM 'file'` (no generation, no network: the floor).
//! Alternating, five rounds (docs/performance.md).
//! `cargo bench --bench vector_load`; `cargo test --benches`: 2,000 rows, one pair.

use schemabench::backend::postgres::PostgresEngine;
use schemabench::backend::{BackendKind, BaseSpec, Engine};
use schemabench::provision::{self, Choice, Request, Server};
use schemabench::scenario::{bind, load_workload};
use std::path::Path;
use std::time::Instant;

mod common;

fn main() {
    if !common::should_run("vector_load/vs_plain_copy") {
        return;
    }
    let bench = std::env::args().any(|a| a == "--bench");
    let (docs, pairs) = if bench { (100_000.0, 5) } else { (2_000.0, 1) };
    let Some(bins) = provision::local::find_binaries() else {
        println!("vector_load: skipped, no PostgreSQL binaries here (scripts/install-backends.sh installs them)");
        return;
    };
    let cluster = provision::local::LocalCluster::start(&bins, &Request::default()).expect("cluster starts");
    let endpoint = cluster.endpoint().clone();
    let url = format!("postgres://postgres@127.0.0.1:{}/postgres", endpoint.port());
    let workload = load_workload(&Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads/embeddings.toml")).unwrap();
    let mut params = workload.params.clone();
    params.insert("docs".into(), docs);
    let tables = bind(&workload, &params).unwrap().tables;
    let spec = BaseSpec::for_workload(&workload, BackendKind::Postgres);
    let file = tempfile::Builder::new().prefix("schemabench-docs-").tempdir().unwrap();
    // The server writes and reads the file as its own user.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let copy_file = file.path().join("docs.bin");
    let mut admin = endpoint.connect("postgres").unwrap();
    let (mut ours, mut plain, mut psql) = (Vec::new(), Vec::new(), Vec::new());
    for pair in 0..pairs {
        let mut engine = PostgresEngine::start(&Request {
            choice: Choice::Url,
            url: Some(url.clone()),
            ..Request::default()
        })
        .unwrap();
        let loads = engine.load_base(&spec, &tables, 1, &|_| {}).unwrap();
        ours.push(loads[0].seconds);
        if pair == 0 {
            let base = admin
                .simple_query(
                    "SELECT datname FROM pg_database WHERE datname LIKE 'schemabench%base' ORDER BY oid DESC LIMIT 1",
                )
                .unwrap()[0][0]
                .clone()
                .unwrap();
            let mut c = endpoint.connect(&base).unwrap();
            c.batch(&format!("COPY docs TO '{}' WITH (FORMAT binary)", copy_file.display()))
                .unwrap();
        }
        drop(engine);

        let db = format!("plain_copy_{pair}");
        admin.batch(&format!("CREATE DATABASE {db}")).unwrap();
        let mut c = endpoint.connect(&db).unwrap();
        c.batch("CREATE EXTENSION vector").unwrap();
        for statement in &spec.schema {
            c.batch(statement).unwrap();
        }
        let t = Instant::now();
        c.batch(&format!(
            "COPY docs FROM '{}' WITH (FORMAT binary)",
            copy_file.display()
        ))
        .unwrap();
        plain.push(t.elapsed().as_secs_f64());
        // What a user does by hand: psql streams the file over loopback.
        c.batch("TRUNCATE docs").unwrap();
        let t = Instant::now();
        let status = std::process::Command::new(bins.path("psql"))
            .args(["-X", "-q", "-h", "127.0.0.1", "-U", "postgres", "-p"])
            .arg(endpoint.port().to_string())
            .args(["-d", &db, "-c"])
            .arg(format!(
                "\\copy docs FROM '{}' WITH (FORMAT binary)",
                copy_file.display()
            ))
            .status()
            .unwrap();
        assert!(status.success());
        psql.push(t.elapsed().as_secs_f64());
        drop(c);
        admin.batch(&format!("DROP DATABASE {db}")).unwrap();
    }
    let median_ratio = |floor: &[f64]| {
        let mut r: Vec<f64> = ours.iter().zip(floor).map(|(o, p)| o / p).collect();
        r.sort_by(f64::total_cmp);
        r[r.len() / 2]
    };
    let show = |v: &[f64]| v.iter().map(|s| format!("{s:.2}")).collect::<Vec<_>>().join(", ");
    println!(
        "vector_load/schemabench  {docs} docs with vector(128): {} s",
        show(&ours)
    );
    println!(
        "vector_load/psql_copy    psql \\copy of the same rows as a binary file: {} s",
        show(&psql)
    );
    println!(
        "vector_load/server_copy  server-side binary COPY from the file: {} s",
        show(&plain)
    );
    println!(
        "vector_load/ratio        schemabench / psql \\copy: {:.2}× (target ≤ 1.20×); / server-side COPY: {:.2}× (median of {pairs} paired runs)",
        median_ratio(&psql),
        median_ratio(&plain)
    );
}
