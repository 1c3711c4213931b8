//! Against a real PostgreSQL cluster started by the project's provisioner.

use super::*;
use crate::backend::{ErrorClass, ObjectKind, SessionOptions, StatementPlan};
use crate::pgwire::Wire;
use crate::scenario::{OpKind, bind, load_workload};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// The first column of the first row of `sql`, as text.
fn one(c: &mut Wire, sql: &str) -> String {
    crate::pgwire::cell(&c.simple_query(sql).unwrap(), 0)
        .unwrap_or("")
        .to_string()
}

/// A workload from its TOML text (with a trivial operation added when it has
/// none), bound at its default scale.
pub(super) fn workload(text: &str) -> (crate::scenario::Workload, Vec<TablePlan>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.toml");
    let mut text = text.to_string();
    if !text.contains("[[op]]") {
        text.push_str("\n[[op]]\nname = \"noop\"\nsql = \"SELECT 1\"\n");
    }
    std::fs::write(&path, text).unwrap();
    let w = load_workload(&path).unwrap();
    let tables = bind(&w, &w.params).unwrap().tables;
    (w, tables)
}

pub(super) fn engine() -> PostgresEngine {
    PostgresEngine::start(&provision::Request {
        choice: provision::Choice::Local,
        ..Default::default()
    })
    .expect("a local cluster starts (run scripts/install-backends.sh)")
}

/// An engine with the orders workload loaded and one variant `v`.
pub(super) fn engine_with_variant(users: f64, order_rows: f64) -> PostgresEngine {
    let mut e = engine();
    let (spec, tables) = orders(users, order_rows);
    e.load_base(&spec, &tables, 1, &|_| {}).unwrap();
    e.create_variant("v", &[]).unwrap();
    e
}

fn orders(users: f64, orders: f64) -> (BaseSpec, Vec<TablePlan>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads/orders.toml");
    let w = load_workload(&path).unwrap();
    let mut params = w.params.clone();
    params.insert("users".into(), users);
    params.insert("orders".into(), orders);
    let spec = BaseSpec {
        schema: w.schema.get(BackendKind::Postgres).unwrap().clone(),
        ..Default::default()
    };
    (spec, bind(&w, &params).unwrap().tables)
}

pub(super) fn op(kind: OpKind, transaction: bool, steps: &[(&str, &[usize])]) -> OpPlan {
    OpPlan {
        name: "t".into(),
        kind,
        transaction,
        steps: steps
            .iter()
            .map(|(sql, args)| StatementPlan {
                sql: sql.to_string(),
                args: args.to_vec(),
            })
            .collect(),
    }
}

#[test]
fn loads_with_copy_clones_variants_and_reports_plans_sizes_and_counters() {
    let _exclusive = crate::test_support::exclusive();
    let mut e = engine();
    let (spec, tables) = orders(300.0, 20_000.0);
    let rows = AtomicU64::new(0);
    let loads = e
        .load_base(&spec, &tables, 7, &|n| {
            rows.fetch_add(n, Ordering::Relaxed);
        })
        .unwrap();
    assert_eq!(rows.load(Ordering::Relaxed), 20_300);
    // The same data as every other backend: checksums come from the generator.
    let mut sqlite = crate::backend::sqlite::SqliteEngine::new(None).unwrap();
    let sqlite_spec = BaseSpec {
        schema: load_workload(&Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads/orders.toml"))
            .unwrap()
            .schema
            .get(BackendKind::Sqlite)
            .unwrap()
            .clone(),
        ..Default::default()
    };
    let sqlite_loads = sqlite.load_base(&sqlite_spec, &tables, 7, &|_| {}).unwrap();
    assert_eq!(loads[1].checksum, sqlite_loads[1].checksum);

    e.create_variant("plain", &[]).unwrap();
    let setup = e
        .create_variant("indexed", &["CREATE INDEX orders_user ON orders (user_id)".into()])
        .unwrap();
    assert_eq!(setup.statement_seconds.len(), 1);

    let mut s = e.open_session("indexed", &SessionOptions::default()).unwrap();
    let count = op(OpKind::Read, false, &[("SELECT count(*), sum(total) FROM orders", &[])]);
    let got = s.fetch(&count, &[]).unwrap();
    assert_eq!(got[0][0], Value::Int(20_000));
    assert!(matches!(got[0][1], Value::Decimal { scale: 2, .. }), "{:?}", got[0][1]);

    let sizes = e.sizes("indexed").unwrap();
    assert!(
        sizes
            .objects
            .iter()
            .any(|o| o.name == "orders_user" && o.kind == ObjectKind::Index && o.table == "orders")
    );
    assert!(sizes.objects.iter().any(|o| o.name == "orders_pkey"));
    assert!(
        !e.sizes("plain")
            .unwrap()
            .objects
            .iter()
            .any(|o| o.name == "orders_user")
    );
    assert!(e.base_indexes().unwrap().contains(&"orders_pkey".to_string()));

    let by_user = op(
        OpKind::Read,
        false,
        &[("SELECT id FROM orders WHERE user_id = $1", &[0])],
    );
    let plans = e
        .explain("indexed", &by_user, &[Value::Int(3)], &SessionOptions::default())
        .unwrap();
    assert!(
        plans[0].indexes.contains(&"orders_user".to_string()),
        "{:?}",
        plans[0].summary
    );
    let plans = e
        .explain("plain", &by_user, &[Value::Int(3)], &SessionOptions::default())
        .unwrap();
    assert!(plans[0].summary.contains("Seq Scan on orders"), "{}", plans[0].summary);
    // The variant's session statements apply to its plans as to its runs.
    let no_index_scans = [
        "SET enable_indexscan = off".to_string(),
        "SET enable_bitmapscan = off".to_string(),
    ];
    let session = SessionOptions {
        statements: &no_index_scans,
        ..SessionOptions::default()
    };
    let plans = e.explain("indexed", &by_user, &[Value::Int(3)], &session).unwrap();
    assert!(plans[0].summary.contains("Seq Scan on orders"), "{}", plans[0].summary);

    // Writes move the WAL position; EXPLAIN ANALYZE of a write is rolled back.
    let before = e.counters("indexed").unwrap().unwrap();
    let insert = op(
        OpKind::Write,
        false,
        &[(
            "INSERT INTO orders (user_id, status, total, created_at) VALUES ($1, 'pending', $2, $3)",
            &[0, 1, 2],
        )],
    );
    let params = [
        Value::Int(1),
        Value::Decimal { units: 1234, scale: 2 },
        Value::Timestamp(1_735_734_600),
    ];
    for _ in 0..100 {
        s.execute(&insert, &params).unwrap();
    }
    let after = e.counters("indexed").unwrap().unwrap();
    assert!(after.wal_bytes > before.wal_bytes + 100 * 50, "{before:?} {after:?}");
    e.explain("indexed", &insert, &params, &SessionOptions::default())
        .unwrap();
    assert_eq!(s.fetch(&count, &[]).unwrap()[0][0], Value::Int(20_100));
}

#[test]
fn transactions_roll_back_and_errors_are_classified() {
    let _exclusive = crate::test_support::exclusive();
    let e = engine_with_variant(50.0, 500.0);
    let mut s = e
        .open_session(
            "v",
            &SessionOptions::statements(&["SET statement_timeout = '5s'".into()]),
        )
        .unwrap();
    let failing = op(
        OpKind::Write,
        true,
        &[
            ("UPDATE orders SET status = 'x' WHERE id = $1", &[0]),
            (
                "INSERT INTO orders (id, user_id, status, total, created_at) VALUES ($1, 1, 'x', 1, now())",
                &[0],
            ),
        ],
    );
    let err = s.execute(&failing, &[Value::Int(5)]).unwrap_err();
    assert_eq!(err.class, ErrorClass::Constraint, "{}", err.message);
    assert!(err.message.contains("duplicate key"), "{}", err.message);
    let status = op(
        OpKind::Read,
        false,
        &[("SELECT status FROM orders WHERE id = $1", &[0])],
    );
    assert_ne!(
        s.fetch(&status, &[Value::Int(5)]).unwrap(),
        vec![vec![Value::Text("x".into())]]
    );
    let bad = op(OpKind::Read, false, &[("SELECT nope FROM orders", &[])]);
    assert_eq!(s.execute(&bad, &[]).unwrap_err().class, ErrorClass::Other);
}

#[test]
fn dropping_the_engine_stops_the_server_and_removes_its_databases() {
    let _exclusive = crate::test_support::exclusive();
    let e = engine();
    let port = e.endpoint().port();
    drop(e);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "server still listening on {port}"
    );
}

#[test]
fn workload_extensions_are_created_and_reported_with_timescaledb_preloaded() {
    let _exclusive = crate::test_support::exclusive();
    let mut e = PostgresEngine::start(&provision::Request {
        choice: provision::Choice::Local,
        preload: vec!["timescaledb".into()],
        ..Default::default()
    })
    .expect("a local cluster with timescaledb preloaded (scripts/install-backends.sh)");
    let spec = BaseSpec {
        extensions: vec!["vector".into(), "timescaledb".into()],
        schema: vec![
            "CREATE TABLE readings (at timestamptz NOT NULL, v vector(3))".into(),
            "SELECT create_hypertable('readings', 'at')".into(),
        ],
        ..Default::default()
    };
    e.load_base(&spec, &[], 1, &|_| {}).unwrap();
    let settings: std::collections::BTreeMap<String, String> = e.settings().into_iter().collect();
    assert_eq!(
        settings.get("extension vector").map(String::as_str),
        Some("0.8.0"),
        "{settings:?}"
    );
    assert_eq!(
        settings.get("extension timescaledb").map(String::as_str),
        Some("2.19.3"),
        "{settings:?}"
    );
    assert_eq!(
        settings.get("shared_preload_libraries").map(String::as_str),
        Some("timescaledb")
    );
}

#[test]
fn a_restart_empties_shared_buffers_and_keeps_the_data() {
    let _exclusive = crate::test_support::exclusive();
    let mut e = engine_with_variant(100.0, 20_000.0);
    let db = e.database_of("v").unwrap().to_string();
    let mut c = e.endpoint().connect(&db).unwrap();
    c.batch("CREATE EXTENSION IF NOT EXISTS pg_buffercache").ok();
    let buffered = |c: &mut Wire| -> i64 {
        one(
            c,
            "SELECT count(*) FROM pg_buffercache b JOIN pg_class r ON b.relfilenode = pg_relation_filenode(r.oid) \
             WHERE r.relname = 'orders'",
        )
        .parse()
        .unwrap()
    };
    c.batch("SELECT count(*) FROM orders").unwrap();
    assert!(buffered(&mut c) > 0, "a scan fills shared buffers");
    drop(c);
    e.restart().unwrap();
    let mut c = e.endpoint().connect(&db).unwrap();
    assert_eq!(buffered(&mut c), 0, "shared buffers start empty after a restart");
    assert_eq!(one(&mut c, "SELECT count(*) FROM orders"), "20000");
    assert!(
        e.counters("v").unwrap().is_some(),
        "the engine's admin connection works after the restart"
    );
}

#[test]
fn unix_socket_sessions_and_pipelines_return_what_tcp_sessions_return() {
    let _exclusive = crate::test_support::exclusive();
    let mut e = engine_with_variant(50.0, 500.0);
    let read = op(
        OpKind::Read,
        false,
        &[(
            "SELECT id, total, created_at, status FROM orders WHERE user_id = $1 ORDER BY id",
            &[0],
        )],
    );
    let mut tcp = e.open_session("v", &SessionOptions::default()).unwrap();
    e.set_transport(provision::Transport::Unix).unwrap();
    let mut unix = e.open_session("v", &SessionOptions::default()).unwrap();
    for user in 1..=10 {
        let p = [Value::Int(user)];
        let expected = tcp.fetch(&read, &p).unwrap();
        assert_eq!(unix.fetch(&read, &p).unwrap(), expected);
        assert_eq!(unix.execute(&read, &p).unwrap(), expected.len() as u64);
    }

    // Eight in flight, replies in order, counted like one-at-a-time runs.
    let expected: Vec<u64> = (1..=8).map(|u| tcp.execute(&read, &[Value::Int(u)]).unwrap()).collect();
    let pipe = unix.pipeline().expect("PostgreSQL sessions pipeline");
    for u in 1..=8 {
        pipe.submit(&read, &[Value::Int(u)]).unwrap();
    }
    pipe.send().unwrap();
    assert_eq!(pipe.in_flight(), 8);
    let got: Vec<u64> = (0..8).map(|_| pipe.complete().unwrap()).collect();
    assert_eq!(got, expected);
    // An error in the middle of a pipeline belongs to its own request only.
    let bad = op(OpKind::Read, false, &[("SELECT 1 / ($1::int - 3)", &[0])]);
    for u in 2..=4 {
        pipe.submit(&bad, &[Value::Int(u)]).unwrap();
    }
    pipe.send().unwrap();
    assert_eq!(pipe.complete().unwrap(), 1);
    assert!(pipe.complete().unwrap_err().message.contains("division by zero"));
    assert_eq!(pipe.complete().unwrap(), 1);

    // A type outside the built-ins travels as text both ways.
    let mut s = e
        .open_session(
            "v",
            &SessionOptions::statements(&["CREATE TYPE mood AS ENUM ('ok', 'sad')".into()]),
        )
        .unwrap();
    let mood = op(OpKind::Read, false, &[("SELECT $1::text::mood, 'sad'::mood", &[0])]);
    assert_eq!(
        s.fetch(&mood, &[Value::Text("ok".into())]).unwrap(),
        vec![vec![Value::Text("ok".into()), Value::Text("sad".into())]]
    );
}

#[test]
fn storage_counts_partitions_and_hypertable_chunks_in_their_table() {
    let _exclusive = crate::test_support::exclusive();
    let mut e = PostgresEngine::start(&provision::Request {
        choice: provision::Choice::Local,
        preload: vec!["timescaledb".into()],
        ..Default::default()
    })
    .unwrap();
    let (w, tables) = workload(
        r#"name = "w"
extensions = ["timescaledb"]
[schema]
postgres = [
  "CREATE TABLE m (at timestamptz NOT NULL, v bigint)",
  "SELECT create_hypertable('m', 'at', chunk_time_interval => interval '1 day')",
  "CREATE TABLE p (k bigint NOT NULL, v bigint) PARTITION BY RANGE (k)",
  "CREATE TABLE p_low PARTITION OF p FOR VALUES FROM (0) TO (5000)",
  "CREATE TABLE p_high PARTITION OF p FOR VALUES FROM (5000) TO (100000)",
  "CREATE INDEX p_v ON p (v)",
]
[[table]]
name = "m"
rows = "20000"
columns.at = "timestamp(2024-01-01, 2024-01-11)"
columns.v = "uniform(1, 100)"
[[table]]
name = "p"
rows = "10000"
columns.k = "seq"
columns.v = "uniform(1, 100)"
"#,
    );
    e.load_base(&BaseSpec::for_workload(&w, BackendKind::Postgres), &tables, 1, &|_| {})
        .unwrap();
    e.create_variant("v", &[]).unwrap();
    let sizes = e.sizes("v").unwrap();
    let find = |name: &str| sizes.objects.iter().find(|o| o.name == name);
    let names: Vec<&str> = sizes.objects.iter().map(|o| o.name.as_str()).collect();
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with("_hyper") || n.starts_with("p_low") || n.starts_with("p_high")),
        "chunks and partitions roll up: {names:?}"
    );
    let m = find("m").expect("the hypertable");
    assert!(m.bytes > 400_000, "ten days of chunks, not an empty parent: {m:?}");
    let m_idx = find("m_at_idx").expect("the hypertable's time index, over all chunks");
    assert!(m_idx.bytes > 100_000 && m_idx.table == "m", "{m_idx:?}");
    let p = find("p").expect("the partitioned table");
    assert!(p.bytes > 200_000, "{p:?}");
    let p_v = find("p_v").expect("the partitioned index");
    assert!(p_v.bytes > 100_000 && p_v.table == "p", "{p_v:?}");
}

#[test]
fn copy_stops_streaming_at_the_first_server_error() {
    let _exclusive = crate::test_support::exclusive();
    let mut e = engine();
    let (w, tables) = workload(
        r#"name = "w"
[schema]
postgres = ["CREATE TABLE t (id bigint, v bigint CHECK (v < 0))"]
[[table]]
name = "t"
rows = "3000000"
columns.id = "seq"
columns.v = "uniform(1, 9)"
"#,
    );
    let generated = AtomicU64::new(0);
    let err = e
        .load_base(&BaseSpec::for_workload(&w, BackendKind::Postgres), &tables, 1, &|n| {
            generated.fetch_add(n, Ordering::Relaxed);
        })
        .unwrap_err()
        .to_string();
    assert!(err.contains("violates check constraint"), "{err}");
    let sent = generated.load(Ordering::Relaxed);
    assert!(
        sent < 1_500_000,
        "streaming stopped early: {sent} of 3,000,000 rows generated"
    );
}

#[test]
fn creating_a_variant_again_clones_a_fresh_copy_and_drops_the_old_one() {
    let _exclusive = crate::test_support::exclusive();
    let mut e = engine_with_variant(100.0, 2_000.0);
    let old = e.database_of("v").unwrap().to_string();
    let mut c = e.endpoint().connect(&old).unwrap();
    c.batch("DELETE FROM orders WHERE id <= 500").unwrap();
    drop(c);
    let setup = ["CREATE INDEX orders_user ON orders (user_id)".to_string()];
    let again = e.create_variant("v", &setup).unwrap();
    assert_eq!(again.statement_seconds.len(), 1);
    let new = e.database_of("v").unwrap().to_string();
    assert_ne!(new, old);
    let mut c = e.endpoint().connect(&new).unwrap();
    assert_eq!(
        one(&mut c, "SELECT count(*) FROM orders"),
        "2000",
        "a fresh clone of the base"
    );
    let left = one(
        &mut c,
        &format!(
            "SELECT count(*) FROM pg_database WHERE datname = {}",
            crate::pgwire::quote_literal(&old)
        ),
    );
    assert_eq!(left, "0", "the previous copy was dropped");
}
