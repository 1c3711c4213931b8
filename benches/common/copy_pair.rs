//! One generated table loaded side by side on one throwaway cluster:
//! schemabench generating and loading it (binary COPY, as every run does)
//! against a plain binary COPY of the very same rows into the same empty
//! schema: `psql \copy` of a binary file (what a user does by hand) and a
//! server-side `COPY ... FROM 'file'` (no generation, no network: the
//! floor). Alternating pairs; the ratios are medians of paired runs.

use schemabench::backend::postgres::PostgresEngine;
use schemabench::backend::{BackendKind, BaseSpec, Engine};
use schemabench::provision::{self, Choice, Request, Server};
use schemabench::scenario::{bind, load_workload};
use std::path::Path;
use std::time::Instant;

/// What to load: a workload's table at some scale, into `schema` (the
/// workload's own when `None`).
pub struct Load<'a> {
    pub label: &'a str,
    pub workload: &'a str,
    pub params: &'a [(&'a str, f64)],
    pub table: &'a str,
    pub schema: Option<Vec<String>>,
    pub pairs: usize,
}

/// Seconds of each pair: (schemabench, psql \copy, server-side COPY).
pub struct Timings {
    pub ours: Vec<f64>,
    pub psql: Vec<f64>,
    pub server: Vec<f64>,
    pub rows: u64,
}

impl Timings {
    /// Median of the paired ratios ours / `floor`.
    pub fn median_ratio(&self, floor: &[f64]) -> f64 {
        let mut r: Vec<f64> = self.ours.iter().zip(floor).map(|(o, p)| o / p).collect();
        r.sort_by(f64::total_cmp);
        r[r.len() / 2]
    }

    pub fn print(&self, l: &Load<'_>, what: &str) {
        let show = |v: &[f64]| v.iter().map(|s| format!("{s:.2}")).collect::<Vec<_>>().join(", ");
        println!(
            "{}/schemabench  {} rows {what}: {} s",
            l.label,
            self.rows,
            show(&self.ours)
        );
        println!(
            "{}/psql_copy    psql \\copy of the same rows as a binary file: {} s",
            l.label,
            show(&self.psql)
        );
        println!(
            "{}/server_copy  server-side binary COPY from the file: {} s",
            l.label,
            show(&self.server)
        );
    }
}

/// Runs the pairs; `None` without PostgreSQL binaries.
pub fn run(l: &Load<'_>) -> Option<Timings> {
    let Some(bins) = provision::local::find_binaries() else {
        println!(
            "{}: skipped, no PostgreSQL binaries here (scripts/install-backends.sh installs them)",
            l.label
        );
        return None;
    };
    let workload = load_workload(&Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads").join(l.workload)).unwrap();
    let mut params = workload.params.clone();
    for (k, v) in l.params {
        params.insert(k.to_string(), *v);
    }
    let tables = bind(&workload, &params).unwrap().tables;
    let mut spec = BaseSpec::for_workload(&workload, BackendKind::Postgres);
    if let Some(schema) = &l.schema {
        spec.schema.clone_from(schema);
    }
    let mut request = Request::default();
    if spec.extensions.iter().any(|e| e == "timescaledb") {
        request.preload.push("timescaledb".into());
    }
    let cluster = provision::local::LocalCluster::start(&bins, &request).expect("cluster starts");
    let endpoint = cluster.endpoint().clone();
    let url = format!("postgres://postgres@127.0.0.1:{}/postgres", endpoint.port());
    let file = tempfile::Builder::new().prefix("schemabench-copy-").tempdir().unwrap();
    // The server writes and reads the file as its own user.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(file.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let copy_file = file.path().join("rows.bin");
    let mut admin = endpoint.connect("postgres").unwrap();
    let table = tables
        .iter()
        .find(|t| t.name == l.table)
        .expect("the table is generated");
    let mut t = Timings {
        ours: Vec::new(),
        psql: Vec::new(),
        server: Vec::new(),
        rows: table.rows,
    };
    for pair in 0..l.pairs {
        let mut engine = PostgresEngine::start(&Request {
            choice: Choice::Url,
            url: Some(url.clone()),
            ..Request::default()
        })
        .unwrap();
        let loads = engine
            .load_base(&spec, std::slice::from_ref(table), 1, &|_| {})
            .unwrap();
        t.ours.push(loads[0].seconds);
        if pair == 0 {
            let base = admin
                .simple_query(
                    "SELECT datname FROM pg_database WHERE datname LIKE 'schemabench%base' ORDER BY oid DESC LIMIT 1",
                )
                .unwrap()[0][0]
                .clone()
                .unwrap();
            let mut c = endpoint.connect(&base).unwrap();
            // A hypertable's rows live in its chunks: copy out through a query.
            c.batch(&format!(
                "COPY (SELECT * FROM {}) TO '{}' WITH (FORMAT binary)",
                l.table,
                copy_file.display()
            ))
            .unwrap();
        }
        drop(engine);

        let db = format!("plain_copy_{pair}");
        // A new database with the same empty schema.
        let fresh = |admin: &mut schemabench::pgwire::Wire| {
            admin.batch(&format!("DROP DATABASE IF EXISTS {db}")).unwrap();
            admin.batch(&format!("CREATE DATABASE {db}")).unwrap();
            let mut c = endpoint.connect(&db).unwrap();
            for statement in spec
                .extensions
                .iter()
                .map(|e| format!("CREATE EXTENSION {e}"))
                .chain(spec.schema.clone())
            {
                c.batch(&statement).unwrap();
            }
            c
        };
        let mut c = fresh(&mut admin);
        let start = Instant::now();
        c.batch(&format!(
            "COPY {} FROM '{}' WITH (FORMAT binary)",
            l.table,
            copy_file.display()
        ))
        .unwrap();
        t.server.push(start.elapsed().as_secs_f64());
        // What a user does by hand: psql streams the file over loopback,
        // into the same schema made afresh.
        drop(c);
        let c = fresh(&mut admin);
        let start = Instant::now();
        let status = std::process::Command::new(bins.path("psql"))
            .args(["-X", "-q", "-h", "127.0.0.1", "-U", "postgres", "-p"])
            .arg(endpoint.port().to_string())
            .args(["-d", &db, "-c"])
            .arg(format!(
                "\\copy {} FROM '{}' WITH (FORMAT binary)",
                l.table,
                copy_file.display()
            ))
            .status()
            .unwrap();
        assert!(status.success());
        t.psql.push(start.elapsed().as_secs_f64());
        drop(c);
        admin.batch(&format!("DROP DATABASE {db}")).unwrap();
    }
    Some(t)
}
