use super::*;
use crate::expr::{Params, parse};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::Path;

fn params() -> Params {
    [("users".to_string(), 1000.0)].into()
}

fn no_keys(t: &str) -> Result<KeyRange, String> {
    if t == "users.id" {
        Ok(KeyRange {
            start: 1,
            step: 1,
            rows: 1000,
        })
    } else {
        Err(format!("no seq column `{t}`"))
    }
}

fn build(src: &str, place: Place) -> Result<Generator, crate::expr::ExprError> {
    let p = params();
    let ctx = BuildCtx {
        params: &p,
        dir: std::path::Path::new("."),
        src,
        place,
        keys: &no_keys,
    };
    Generator::build(&parse(src)?, &ctx)
}

fn col(src: &str) -> Generator {
    build(src, Place::Column).unwrap_or_else(|e| panic!("{src}: {e}"))
}

fn samples(src: &str, n: u64) -> Vec<Value> {
    let g = col(src);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    (0..n).map(|r| g.sample(&mut rng, r)).collect()
}

fn ints(v: &[Value]) -> Vec<i64> {
    v.iter()
        .map(|x| match x {
            Value::Int(i) => *i,
            other => panic!("not an int: {other:?}"),
        })
        .collect()
}

fn orders_table() -> TablePlan {
    let column = |name: &str, expr: &str| ColumnPlan {
        name: name.into(),
        generator: col(expr),
        expr: expr.into(),
    };
    TablePlan {
        name: "orders".into(),
        rows: 50_000,
        columns: vec![
            column("id", "seq"),
            column("user_id", "zipf(1, users, 1.07)"),
            column("status", "choice(pending: 1, paid: 6, shipped: 3)"),
            column("note", "nullable(0.3, text(5, 30))"),
        ],
    }
}

fn checksum(table: &TablePlan, seed: u64, threads: usize) -> (String, u64) {
    let mut rows = 0u64;
    let sum = table
        .generate::<()>(seed, threads, |c| {
            rows += c.len() as u64;
            Ok(())
        })
        .unwrap();
    (sum, rows)
}

#[test]
fn same_seed_gives_identical_data_whatever_the_thread_count() {
    let t = orders_table();
    let (a, rows) = checksum(&t, 42, 1);
    let (b, _) = checksum(&t, 42, 3);
    assert_eq!(rows, 50_000);
    assert_eq!(a, b);
    // And the chunks themselves are equal, not just the hash.
    assert_eq!(t.chunk(42, 2).columns, t.chunk(42, 2).columns);
}

#[test]
fn different_seed_gives_different_data() {
    let t = orders_table();
    assert_ne!(checksum(&t, 42, 2).0, checksum(&t, 43, 2).0);
}

#[test]
fn adding_a_column_leaves_the_other_columns_unchanged() {
    let t = orders_table();
    let mut wider = t.clone();
    wider.columns.insert(
        1,
        ColumnPlan {
            name: "extra".into(),
            generator: col("uniform(1, 9)"),
            expr: String::new(),
        },
    );
    let (a, b) = (t.chunk(1, 0), wider.chunk(1, 0));
    assert_eq!(a.columns[1], b.columns[2]);
}

#[test]
fn zipf_top_value_share_matches_theory() {
    // P(rank 1) = 1 / H(n, s) where H is the generalised harmonic number.
    let (n, s) = (1000u32, 1.07f64);
    let h: f64 = (1..=n).map(|k| (k as f64).powf(-s)).sum();
    let expected = 1.0 / h;
    let v = ints(&samples("zipf(1, users, 1.07)", 200_000));
    let share = v.iter().filter(|&&x| x == 1).count() as f64 / v.len() as f64;
    assert!((share - expected).abs() < 0.01, "share {share}, theory {expected}");
    assert!(v.iter().all(|&x| (1..=1000).contains(&x)));
    // Rank 2 is about 2^-s as frequent as rank 1.
    let share2 = v.iter().filter(|&&x| x == 2).count() as f64 / v.len() as f64;
    assert!((share2 / share - 2f64.powf(-s)).abs() < 0.05);
}

#[test]
fn zipf_offset_shifts_the_hot_value() {
    let v = ints(&samples("zipf(100, 199, 1.5)", 20_000));
    assert!(v.iter().all(|&x| (100..=199).contains(&x)));
    let hot = v.iter().filter(|&&x| x == 100).count();
    let cold = v.iter().filter(|&&x| x == 199).count();
    assert!(hot > 20 * cold.max(1));
}

#[test]
fn uniform_covers_its_inclusive_range() {
    let v = ints(&samples("uniform(-2, 2)", 10_000));
    for k in -2..=2 {
        let share = v.iter().filter(|&&x| x == k).count() as f64 / 10_000.0;
        assert!((share - 0.2).abs() < 0.02, "{k}: {share}");
    }
}

#[test]
fn choice_follows_its_weights() {
    let v = samples("choice(pending: 1, paid: 6, shipped: 3)", 50_000);
    let share = |s: &str| v.iter().filter(|x| **x == Value::Text(s.into())).count() as f64 / 50_000.0;
    assert!((share("pending") - 0.1).abs() < 0.01);
    assert!((share("paid") - 0.6).abs() < 0.01);
    assert!((share("shipped") - 0.3).abs() < 0.01);
    assert_eq!(samples("choice(7: 1)", 1)[0], Value::Int(7));
}

#[test]
fn normal_has_its_mean_and_spread() {
    let v: Vec<f64> = samples("normal(50, 10)", 50_000)
        .iter()
        .map(|x| match x {
            Value::Float(f) => *f,
            _ => panic!(),
        })
        .collect();
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64).sqrt();
    assert!((mean - 50.0).abs() < 0.3, "{mean}");
    assert!((sd - 10.0).abs() < 0.3, "{sd}");
}

#[test]
fn nullable_has_its_null_rate_and_text_its_lengths() {
    let v = samples("nullable(0.25, text(5, 30))", 40_000);
    let nulls = v.iter().filter(|x| **x == Value::Null).count() as f64 / 40_000.0;
    assert!((nulls - 0.25).abs() < 0.01, "{nulls}");
    for x in v {
        if let Value::Text(s) = x {
            assert!((5..=30).contains(&s.len()), "{s:?}");
        }
    }
}

#[test]
fn decimal_timestamp_and_float_stay_in_range() {
    for x in samples("decimal(5, 500, 2)", 5000) {
        let Value::Decimal { units, scale } = x else { panic!() };
        assert_eq!(scale, 2);
        assert!((500..=50_000).contains(&units));
    }
    for x in samples("timestamp(2023-01-01, 2025-01-01)", 5000) {
        let Value::Timestamp(t) = x else { panic!() };
        assert!((1_672_531_200_000_000..1_735_689_600_000_000).contains(&t));
        assert_eq!(t % 1_000_000, 0, "whole seconds");
    }
    for x in samples("float(0.5, 1.5)", 5000) {
        let Value::Float(f) = x else { panic!() };
        assert!((0.5..1.5).contains(&f));
    }
}

#[test]
fn seq_ref_and_keyed_names_line_up() {
    assert_eq!(ints(&samples("seq", 3)), [1, 2, 3]);
    assert_eq!(ints(&samples("seq(10, 5)", 3)), [10, 15, 20]);
    assert!(
        ints(&samples("ref(users.id)", 5000))
            .iter()
            .all(|&k| (1..=1000).contains(&k))
    );
    // email() of row r equals email(r + 1): an op can find a user by drawing an id.
    let emails = samples("email()", 3);
    assert_eq!(emails[2], Value::Text(email(3)));
    assert_eq!(samples("email(7)", 1)[0], Value::Text(email(7)));
    let distinct: std::collections::HashSet<_> = (1..5000).map(email).collect();
    assert_eq!(distinct.len(), 4999);
    assert!(matches!(&samples("name()", 1)[0], Value::Text(s) if s.contains(' ')));
}

#[test]
fn constants_and_parameter_arithmetic_are_generators_too() {
    assert_eq!(samples("users * 2", 1)[0], Value::Int(2000));
    assert_eq!(samples("'pending'", 1)[0], Value::Text("pending".into()));
    assert_eq!(samples("2.5", 1)[0], Value::Float(2.5));
}

#[test]
fn building_rejects_bad_calls_with_usage() {
    let err = |src: &str, place| build(src, place).unwrap_err().message;
    assert!(err("zipff(1, 2, 1)", Place::Column).contains("did you mean `zipf`"));
    assert!(err("zipf(1, 2)", Place::Column).contains("usage: zipf(lo, hi, exponent)"));
    assert!(err("uniform(5, 1)", Place::Column).contains("lo <= hi"));
    assert!(err("seq", Place::OpParam).contains("only valid for table columns"));
    assert!(err("email()", Place::OpParam).contains("pass the key"));
    assert!(err("ref(orders.id)", Place::Column).contains("no seq column"));
    assert!(err("nullable(1.5, seq)", Place::Column).contains("between 0 and 1"));
    assert!(err("choice(a: 0)", Place::Column).contains("add up to 0"));
    assert!(err("timestamp(1, 2)", Place::Column).contains("expected a date"));
    assert!(err("uniform(a: 1, 2)", Place::Column).contains("only used by choice"));
    assert!(err("zipf(1, userz, 1)", Place::Column).contains("did you mean `users`"));
}

#[test]
fn uuids_json_bytes_intervals_addresses_and_arrays_are_deterministic_and_well_formed() {
    for src in [
        "uuid()",
        "uuid(7)",
        "json(name: name(), age: uniform(18, 90), tags: array(choice(a: 1, b: 1), 0, 3))",
        "bytes(0, 16)",
        "interval(0, 86400)",
        "inet()",
        "inet(6)",
        "array(uniform(1, 9), 2, 4)",
    ] {
        assert_eq!(samples(src, 50), samples(src, 50), "{src} is deterministic");
    }
    let v4 = samples("uuid()", 100);
    let v7 = samples("uuid(7)", 100);
    let version = |v: &Value| match v {
        Value::Uuid(b) => b[6] >> 4,
        other => panic!("{other:?}"),
    };
    assert!(v4.iter().all(|u| version(u) == 4));
    assert!(v7.iter().all(|u| version(u) == 7));
    // v7 keys grow with the row: time-ordered inserts.
    let bytes = |v: &Value| match v {
        Value::Uuid(b) => *b,
        _ => unreachable!(),
    };
    assert!(v7.windows(2).all(|w| bytes(&w[0]) < bytes(&w[1])));
    assert!(v4.windows(2).any(|w| bytes(&w[0]) > bytes(&w[1])));
    for doc in samples(
        "json(name: name(), age: uniform(18, 90), tags: array(choice(a: 1, b: 1), 0, 3))",
        50,
    ) {
        let Value::Json(j) = doc else { panic!() };
        assert!(
            j["name"].is_string() && j["age"].is_i64() && j["tags"].is_array(),
            "{j}"
        );
        assert!(j["tags"].as_array().unwrap().len() <= 3);
    }
    for a in samples("array(uniform(1, 9), 2, 4)", 50) {
        let Value::Array(items) = a else { panic!() };
        assert!((2..=4).contains(&items.len()));
    }
    for i in samples("interval(0, 86400)", 50) {
        let Value::Interval { micros, .. } = i else { panic!() };
        assert!((0..=86_400 * MICROS).contains(&micros));
    }
    assert!(
        samples("inet(6)", 5)
            .iter()
            .all(|v| matches!(v, Value::Inet(ip) if ip.is_ipv6()))
    );
    for (bad, message) in [
        ("uuid(5)", "version must be 4 or 7"),
        ("json(uniform(1, 2))", "needs a key"),
        ("json(a: 1, a: 2)", "appears twice"),
        ("bytes(5, 2)", "min_len <= max_len"),
        ("inet(5)", "4 or 6"),
        (
            "uniform(x: 1, 2)",
            "only used by choice(...), json(...) and the series_",
        ),
    ] {
        let e = build(bad, Place::Column).unwrap_err();
        assert!(e.message.contains(message), "{bad}: {}", e.message);
    }
}

#[test]
fn vector_generators_draw_mixtures_and_file_rows() {
    let v = samples("vector(16, 3, 0.1)", 5);
    assert!(v.iter().all(|x| matches!(x, Value::Vector(xs) if xs.len() == 16)));
    assert_ne!(v[0], v[1]);
    for x in samples("unit_vector(16, 3, 0.1)", 5) {
        let Value::Vector(xs) = x else { panic!("{x:?}") };
        assert!((xs.iter().map(|a| a * a).sum::<f32>() - 1.0).abs() < 1e-5);
    }

    // A column takes the file's rows in order; a parameter draws among them.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vectors");
    let p = params();
    let build_at = |place| {
        let ctx = BuildCtx {
            params: &p,
            dir: &dir,
            src: "vector_file(\"three.fvecs\")",
            place,
            keys: &no_keys,
        };
        Generator::build(&parse(ctx.src).unwrap(), &ctx).unwrap()
    };
    let rows = [[0.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 0.0], [0.5, 0.5, 0.5, 0.5]];
    let column = build_at(Place::Column);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    for (i, want) in rows.iter().enumerate() {
        assert_eq!(column.sample(&mut rng, i as u64), Value::Vector(want.to_vec()));
    }
    let param = build_at(Place::OpParam);
    let drawn: std::collections::BTreeSet<String> =
        (0..50).map(|_| format!("{:?}", param.sample(&mut rng, 0))).collect();
    assert_eq!(drawn.len(), 3, "every row of the file is drawn: {drawn:?}");
}
