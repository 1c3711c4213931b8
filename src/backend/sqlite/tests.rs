use super::*;
use crate::backend::StatementPlan;
use crate::scenario::{bind, load_workload};
use std::sync::atomic::{AtomicU64, Ordering};

fn orders_tables(users: f64, orders: f64) -> (BaseSpec, Vec<TablePlan>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads/orders.toml");
    let w = load_workload(&path).expect("shipped workload is valid");
    let mut params = w.params.clone();
    params.insert("users".into(), users);
    params.insert("orders".into(), orders);
    let bound = bind(&w, &params).expect("binds");
    let spec = BaseSpec {
        schema: w.schema.get(BackendKind::Sqlite).cloned().unwrap_or_default(),
        ..BaseSpec::default()
    };
    (spec, bound.tables)
}

fn loaded(users: f64, orders: f64) -> (SqliteEngine, Vec<TableLoad>) {
    let (schema, tables) = orders_tables(users, orders);
    let mut engine = SqliteEngine::new(None).unwrap();
    let rows = AtomicU64::new(0);
    let loads = engine
        .load_base(&schema, &tables, 7, &|n| {
            rows.fetch_add(n, Ordering::Relaxed);
        })
        .unwrap();
    assert_eq!(
        rows.load(Ordering::Relaxed),
        (users + orders) as u64,
        "progress reports every row"
    );
    (engine, loads)
}

fn op(name: &str, kind: OpKind, transaction: bool, steps: &[(&str, &[usize])]) -> OpPlan {
    OpPlan {
        name: name.into(),
        kind,
        transaction,
        steps: steps
            .iter()
            .map(|(sql, args)| StatementPlan {
                sql: crate::sqltext::to_question_numbered(sql),
                args: args.to_vec(),
            })
            .collect(),
    }
}

#[test]
fn loads_every_row_and_the_same_seed_gives_the_same_checksum() {
    let (engine, loads) = loaded(500.0, 3000.0);
    assert_eq!(loads.iter().map(|l| l.rows).collect::<Vec<_>>(), [500, 3000]);
    let mut engine2 = SqliteEngine::new(None).unwrap();
    let (schema, tables) = orders_tables(500.0, 3000.0);
    let again = engine2.load_base(&schema, &tables, 7, &|_| {}).unwrap();
    assert_eq!(loads[1].checksum, again[1].checksum);

    let mut engine = engine;
    engine.create_variant("plain", &[]).unwrap();
    let mut s = engine
        .open_session("plain", &crate::backend::SessionOptions::default())
        .unwrap();
    let count = op(
        "count",
        OpKind::Read,
        false,
        &[("SELECT count(*), min(id), max(id) FROM orders", &[])],
    );
    assert_eq!(
        s.fetch(&count, &[]).unwrap(),
        vec![vec![Value::Int(3000), Value::Int(1), Value::Int(3000)]]
    );
    // Timestamps are stored as text that SQLite's date functions understand.
    let ts = op(
        "ts",
        OpKind::Read,
        false,
        &[("SELECT count(*) FROM orders WHERE julianday(created_at) IS NULL", &[])],
    );
    assert_eq!(s.fetch(&ts, &[]).unwrap(), vec![vec![Value::Int(0)]]);
}

#[test]
fn variants_are_independent_copies_with_their_own_indexes_and_sizes() {
    let (mut engine, _) = loaded(300.0, 5000.0);
    let plain = engine.create_variant("plain", &[]).unwrap();
    assert!(plain.statement_seconds.is_empty());
    let indexed = engine
        .create_variant("indexed", &["CREATE INDEX orders_user ON orders (user_id)".into()])
        .unwrap();
    assert_eq!(indexed.statement_seconds.len(), 1);

    let plain_sizes = engine.sizes("plain").unwrap();
    let indexed_sizes = engine.sizes("indexed").unwrap();
    let index = indexed_sizes
        .objects
        .iter()
        .find(|o| o.name == "orders_user")
        .expect("index is measured");
    assert_eq!(
        (index.kind, index.table.as_str()),
        (crate::backend::ObjectKind::Index, "orders")
    );
    assert!(index.bytes > 0);
    assert!(!plain_sizes.objects.iter().any(|o| o.name == "orders_user"));
    assert!(indexed_sizes.total_bytes > plain_sizes.total_bytes);

    // The plan of the indexed copy uses the index; the plain copy cannot.
    let plan = op(
        "plan",
        OpKind::Read,
        false,
        &[("EXPLAIN QUERY PLAN SELECT id FROM orders WHERE user_id = 3", &[])],
    );
    let text = |v: &str| {
        let mut s = engine
            .open_session(v, &crate::backend::SessionOptions::default())
            .unwrap();
        format!("{:?}", s.fetch(&plan, &[]).unwrap())
    };
    assert!(text("indexed").contains("orders_user"));
    assert!(!text("plain").contains("orders_user"));
}

#[test]
fn sessions_run_transactions_and_classify_errors() {
    let (mut engine, _) = loaded(100.0, 1000.0);
    engine.create_variant("v", &[]).unwrap();
    let mut s = engine
        .open_session(
            "v",
            &crate::backend::SessionOptions::statements(&["PRAGMA synchronous = FULL".into()]),
        )
        .unwrap();
    let move_user = op(
        "move",
        OpKind::Write,
        true,
        &[
            ("UPDATE orders SET user_id = $2 WHERE id = $1", &[0, 1]),
            ("SELECT user_id FROM orders WHERE id = $1", &[0]),
        ],
    );
    assert_eq!(s.execute(&move_user, &[Value::Int(5), Value::Int(42)]).unwrap(), 1);
    let read = op(
        "read",
        OpKind::Read,
        false,
        &[("SELECT user_id FROM orders WHERE id = $1", &[0])],
    );
    assert_eq!(s.fetch(&read, &[Value::Int(5)]).unwrap(), vec![vec![Value::Int(42)]]);

    // A failing second step rolls the first back and is classified.
    let failing = op(
        "failing",
        OpKind::Write,
        true,
        &[
            ("UPDATE orders SET user_id = 7 WHERE id = $1", &[0]),
            (
                "INSERT INTO orders (id, user_id, status, total, created_at) VALUES ($1, 1, 'x', 1, 'y')",
                &[0],
            ),
        ],
    );
    let err = s.execute(&failing, &[Value::Int(5)]).unwrap_err();
    assert_eq!(err.class, ErrorClass::Constraint, "{err}");
    assert_eq!(s.fetch(&read, &[Value::Int(5)]).unwrap(), vec![vec![Value::Int(42)]]);

    let bad = op("bad", OpKind::Read, false, &[("SELECT nope FROM orders", &[])]);
    assert_eq!(s.execute(&bad, &[]).unwrap_err().class, ErrorClass::Other);
}

#[test]
fn a_broken_setup_statement_names_the_variant_and_statement() {
    let (mut engine, _) = loaded(10.0, 10.0);
    let err = engine
        .create_variant(
            "broken",
            &[
                "CREATE INDEX i ON orders (id)".into(),
                "CREATE INDEX j ON nowhere (x)".into(),
            ],
        )
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("variant `broken`: setup statement 2"), "{err}");
    assert!(err.contains("nowhere"), "{err}");
}

#[test]
fn a_variant_named_base_does_not_overwrite_the_loaded_base() {
    let (mut engine, _) = loaded(10.0, 100.0);
    engine.create_variant("base", &[]).unwrap();
    engine.create_variant("other", &[]).unwrap();
    let count = op("count", OpKind::Read, false, &[("SELECT count(*) FROM orders", &[])]);
    for v in ["base", "other"] {
        let mut s = engine
            .open_session(v, &crate::backend::SessionOptions::default())
            .unwrap();
        assert_eq!(
            s.fetch(&count, &[]).unwrap(),
            vec![vec![Value::Int(100)]],
            "variant {v}"
        );
    }
}

#[test]
fn creating_a_variant_again_replaces_its_copy_with_a_fresh_one() {
    let (mut engine, _) = loaded(100.0, 1000.0);
    let setup = ["CREATE INDEX orders_user ON orders (user_id)".to_string()];
    engine.create_variant("v", &setup).unwrap();
    let count = op("count", OpKind::Read, false, &[("SELECT count(*) FROM orders", &[])]);
    let delete = op(
        "delete",
        OpKind::Write,
        false,
        &[("DELETE FROM orders WHERE id <= 500", &[])],
    );
    let rows = |engine: &SqliteEngine| {
        let mut s = engine
            .open_session("v", &crate::backend::SessionOptions::default())
            .unwrap();
        format!("{:?}", s.fetch(&count, &[]).unwrap())
    };
    {
        let mut s = engine
            .open_session("v", &crate::backend::SessionOptions::default())
            .unwrap();
        s.execute(&delete, &[]).unwrap();
    }
    assert!(rows(&engine).contains("500"), "{}", rows(&engine));
    let again = engine.create_variant("v", &setup).unwrap();
    assert_eq!(again.statement_seconds.len(), 1, "the setup ran again");
    assert!(
        rows(&engine).contains("1000"),
        "the new copy has every row: {}",
        rows(&engine)
    );
    assert!(
        engine
            .sizes("v")
            .unwrap()
            .objects
            .iter()
            .any(|o| o.name == "orders_user")
    );
}
