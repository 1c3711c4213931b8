//! Every column type a schema may use, through every path the client has
//! (COPY load, parameter in, result out, EXPLAIN), against a real server.

use super::*;
use crate::backend::{OpPlan, SessionOptions, StatementPlan};
use crate::datagen::{ColumnPlan, Generator, MICROS};
use crate::scenario::OpKind;

fn op(sql: &str, args: &[usize]) -> OpPlan {
    OpPlan {
        name: "t".into(),
        kind: OpKind::Read,
        transaction: false,
        steps: vec![StatementPlan {
            sql: sql.into(),
            args: args.to_vec(),
        }],
    }
}

/// A column type, values to store in it, and what each reads back as.
struct Case {
    ty: &'static str,
    /// Has an `=` operator (json has none).
    comparable: bool,
    values: Vec<(Value, Value)>,
}

fn same(v: Value) -> (Value, Value) {
    (v.clone(), v)
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn cases() -> Vec<Case> {
    let json = serde_json::json!({"a": [1, 2.5, null], "b": "x\"y", "c": {"d": true}});
    let ts = 1_735_734_600 * MICROS + 123_456;
    vec![
        Case {
            ty: "smallint",
            comparable: true,
            values: vec![same(Value::Int(32_767)), same(Value::Int(-32_768)), same(Value::Null)],
        },
        Case {
            ty: "integer",
            comparable: true,
            values: vec![same(Value::Int(i32::MAX as i64)), same(Value::Int(i32::MIN as i64))],
        },
        Case {
            ty: "bigint",
            comparable: true,
            values: vec![same(Value::Int(i64::MAX)), same(Value::Int(i64::MIN))],
        },
        Case {
            ty: "real",
            comparable: true,
            values: vec![
                same(Value::Float(1.5)),
                same(Value::Float(f32::MAX as f64)),
                same(Value::Float(f64::NEG_INFINITY)),
                same(Value::Float(f64::NAN)),
            ],
        },
        Case {
            ty: "double precision",
            comparable: true,
            values: vec![
                same(Value::Float(f64::MAX)),
                same(Value::Float(f64::MIN_POSITIVE)),
                same(Value::Float(f64::INFINITY)),
                same(Value::Float(f64::NAN)),
            ],
        },
        Case {
            ty: "numeric",
            comparable: true,
            values: vec![
                same(Value::Decimal { units: -1234, scale: 2 }),
                same(Value::Decimal { units: 5, scale: 9 }),
                (Value::Float(f64::NAN), text("NaN")),
                (Value::Float(f64::INFINITY), text("Infinity")),
                (Value::Float(f64::NEG_INFINITY), text("-Infinity")),
                same(text("123456789012345678901234567890.000000000000000000001")),
            ],
        },
        Case {
            ty: "boolean",
            comparable: true,
            values: vec![same(Value::Int(1)), same(Value::Int(0))],
        },
        Case {
            ty: "text",
            comparable: true,
            values: vec![
                same(text("tab\there, newline\n, back\\slash, \\N, quote ' \" é ✓")),
                same(text("")),
            ],
        },
        Case {
            ty: "varchar(40)",
            comparable: true,
            values: vec![same(text("short"))],
        },
        Case {
            ty: "bytea",
            comparable: true,
            values: vec![
                same(Value::Bytes(vec![0, 1, 9, 10, 92, 255])),
                same(Value::Bytes(vec![])),
            ],
        },
        Case {
            ty: "uuid",
            comparable: true,
            values: vec![same(Value::Uuid(
                *uuid::Uuid::from_u128(0x0192_3f1e_7b2a_7c3d_8e4f_5a6b_7c8d_9e0f).as_bytes(),
            ))],
        },
        Case {
            ty: "json",
            comparable: false,
            values: vec![same(Value::Json(json.clone()))],
        },
        Case {
            ty: "jsonb",
            comparable: true,
            values: vec![same(Value::Json(json))],
        },
        Case {
            ty: "timestamp",
            comparable: true,
            values: vec![
                same(Value::Timestamp(ts)),
                same(Value::Timestamp(-1)),
                same(Value::Timestamp(0)),
            ],
        },
        Case {
            ty: "timestamptz",
            comparable: true,
            values: vec![same(Value::Timestamp(ts)), same(Value::Timestamp(-1))],
        },
        Case {
            ty: "date",
            comparable: true,
            values: vec![
                same(Value::Timestamp(20_000 * 86_400 * MICROS)),
                same(Value::Timestamp(-86_400 * MICROS)),
            ],
        },
        Case {
            ty: "interval",
            comparable: true,
            values: vec![(
                Value::Interval {
                    months: 14,
                    days: 3,
                    micros: 3_723 * MICROS + 4,
                },
                text("1 year 2 mons 3 days 01:02:03.000004"),
            )],
        },
        Case {
            ty: "inet",
            comparable: true,
            values: vec![
                same(Value::Inet("127.0.0.1".parse().unwrap())),
                same(Value::Inet("2001:db8::1".parse().unwrap())),
            ],
        },
        Case {
            ty: "bigint[]",
            comparable: true,
            values: vec![
                same(Value::Array(vec![Value::Int(1), Value::Null, Value::Int(-3)])),
                same(Value::Array(vec![])),
            ],
        },
        Case {
            ty: "text[]",
            comparable: true,
            values: vec![same(Value::Array(vec![text("a b"), text("q\"u,o{te}"), Value::Null]))],
        },
        Case {
            ty: "vector(3)",
            comparable: true,
            values: vec![same(Value::Vector(vec![1.0, 2.5, -3.0]))],
        },
        Case {
            ty: "halfvec(3)",
            comparable: true,
            values: vec![same(Value::Vector(vec![1.0, 2.5, -3.0]))],
        },
        Case {
            ty: "sparsevec(5)",
            comparable: true,
            values: vec![same(Value::Vector(vec![0.0, 1.5, 0.0, 0.0, 2.0]))],
        },
        Case {
            ty: "mood",
            comparable: true,
            values: vec![same(text("sad")), same(text("ok"))],
        },
        Case {
            ty: "positive",
            comparable: true,
            values: vec![same(Value::Int(5))],
        },
    ]
}

/// Values compared by their debug form, so NaN equals NaN.
fn show(v: &[Value]) -> String {
    format!("{v:?}")
}

#[test]
fn every_type_round_trips_through_copy_parameters_results_and_explain() {
    let _exclusive = crate::test_support::exclusive();
    let mut e = PostgresEngine::start(&provision::Request {
        choice: provision::Choice::Local,
        ..Default::default()
    })
    .expect("a local cluster starts");
    let cases = cases();
    let mut schema = vec![
        "CREATE TYPE mood AS ENUM ('ok', 'sad')".to_string(),
        "CREATE DOMAIN positive AS bigint CHECK (VALUE > 0)".to_string(),
    ];
    let mut tables = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let columns: Vec<String> = (0..case.values.len()).map(|j| format!("v{j} {}", case.ty)).collect();
        schema.push(format!("CREATE TABLE t{i} ({})", columns.join(", ")));
        tables.push(TablePlan {
            name: format!("t{i}"),
            rows: 1,
            columns: case
                .values
                .iter()
                .enumerate()
                .map(|(j, (v, _))| ColumnPlan {
                    name: format!("v{j}"),
                    generator: Generator::Const(v.clone()),
                    expr: String::new(),
                })
                .collect(),
        });
    }
    let spec = BaseSpec {
        schema,
        extensions: vec!["vector".into()],
        after_load: vec![],
        ..Default::default()
    };
    e.load_base(&spec, &tables, 1, &|_| {})
        .expect("every type loads through COPY");
    e.create_variant("v", &[]).unwrap();
    let mut s = e.open_session("v", &SessionOptions::default()).unwrap();
    for (i, case) in cases.iter().enumerate() {
        let expected: Vec<Value> = case.values.iter().map(|(_, out)| out.clone()).collect();
        let columns: Vec<String> = (0..case.values.len()).map(|j| format!("v{j}")).collect();
        let loaded = s
            .fetch(&op(&format!("SELECT {} FROM t{i}", columns.join(", ")), &[]), &[])
            .unwrap_or_else(|e| panic!("{}: {e}", case.ty));
        assert_eq!(show(&loaded[0]), show(&expected), "{} loaded by COPY", case.ty);
        for (j, (input, output)) in case.values.iter().enumerate() {
            let echo = op(&format!("SELECT $1::{}", case.ty), &[0]);
            let got = s
                .fetch(&echo, std::slice::from_ref(input))
                .unwrap_or_else(|e| panic!("{} {input:?} as a parameter: {e}", case.ty));
            assert_eq!(
                show(&got[0]),
                show(std::slice::from_ref(output)),
                "{} as a parameter",
                case.ty
            );
            if case.comparable && !matches!(input, Value::Null) {
                let equal = op(&format!("SELECT count(*) FROM t{i} WHERE v{j} = $1"), &[0]);
                let n = s.fetch(&equal, std::slice::from_ref(input)).unwrap();
                assert_eq!(
                    n,
                    vec![vec![Value::Int(1)]],
                    "{} {input:?}: the stored value equals the parameter",
                    case.ty
                );
            }
            let filtered = op(
                &format!("SELECT v{j} FROM t{i} WHERE $1::{} IS NOT NULL", case.ty),
                &[0],
            );
            let plans = e
                .explain("v", &filtered, std::slice::from_ref(input), &SessionOptions::default())
                .unwrap_or_else(|e| panic!("EXPLAIN with a {} parameter: {e}", case.ty));
            assert!(
                plans[0].summary.contains(&format!("t{i}")),
                "{}: {}",
                case.ty,
                plans[0].summary
            );
            assert!(
                plans[0].plan_cache.is_some(),
                "{}: the plan cache decision is known",
                case.ty
            );
        }
    }
}

#[test]
fn generated_uuids_documents_bytes_intervals_addresses_and_arrays_load_on_both_engines() {
    let _exclusive = crate::test_support::exclusive();
    let (w, tables) = super::tests::workload(
        r#"name = "w"
[schema]
postgres = ["CREATE TYPE mood AS ENUM ('ok', 'sad')",
            "CREATE TABLE t (id uuid PRIMARY KEY, k uuid, doc jsonb, raw bytea, wait interval, addr inet, tags text[], nums bigint[], m mood, at timestamptz)"]
sqlite = ["CREATE TABLE t (id TEXT PRIMARY KEY, k TEXT, doc TEXT, raw BLOB, wait TEXT, addr TEXT, tags TEXT, nums TEXT, m TEXT, at TEXT)"]
[[table]]
name = "t"
rows = "5000"
columns.id = "uuid(7)"
columns.k = "uuid()"
columns.doc = "json(name: name(), age: uniform(18, 90), tags: array(choice(a: 1, b: 1), 0, 3))"
columns.raw = "bytes(0, 32)"
columns.wait = "interval(0, 86400)"
columns.addr = "inet()"
columns.tags = "array(text(1, 8), 0, 4)"
columns.nums = "array(nullable(0.2, uniform(1, 9)), 1, 3)"
columns.m = "choice(ok: 3, sad: 1)"
columns.at = "timestamp(2024-01-01, 2025-01-01)"
"#,
    );
    let mut pg = PostgresEngine::start(&provision::Request {
        choice: provision::Choice::Local,
        ..Default::default()
    })
    .unwrap();
    let pg_loads = pg
        .load_base(&BaseSpec::for_workload(&w, BackendKind::Postgres), &tables, 3, &|_| {})
        .unwrap();
    let mut lite = crate::backend::sqlite::SqliteEngine::new(None).unwrap();
    let lite_loads = lite
        .load_base(&BaseSpec::for_workload(&w, BackendKind::Sqlite), &tables, 3, &|_| {})
        .unwrap();
    assert_eq!(
        pg_loads[0].checksum, lite_loads[0].checksum,
        "the same data on both engines"
    );
    pg.create_variant("v", &[]).unwrap();
    let mut s = pg.open_session("v", &SessionOptions::default()).unwrap();
    let facts = s
        .fetch(
            &op(
                "SELECT count(*), count(DISTINCT id), min(get_byte(uuid_send(id), 6) >> 4) = 7, \
                        bool_and(doc ? 'name'), max(length(raw)) <= 32, max(wait) <= interval '1 day', \
                        bool_and(family(addr) = 4), count(*) FILTER (WHERE m = 'sad') > 0, \
                        sum(cardinality(nums)) >= 5000 FROM t",
                &[],
            ),
            &[],
        )
        .unwrap();
    let t = Value::Int(1);
    assert_eq!(
        facts[0],
        vec![
            Value::Int(5000),
            Value::Int(5000),
            t.clone(),
            t.clone(),
            t.clone(),
            t.clone(),
            t.clone(),
            t.clone(),
            t
        ],
    );
}
