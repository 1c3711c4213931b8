//! Time-series layouts against a real PostgreSQL with TimescaleDB, at small
//! scale (10 sensors, one point a minute for a day: 14,400 rows): a
//! hypertable's chunks and native partitions follow the interval
//! arithmetic, BRIN is smaller than a B-tree on time-ordered data, plans
//! scan only the chunks a window needs, ingest continues the series into
//! new chunks, an ingest group that cannot keep its rate is reported as not
//! held with its lag, and TSL-only features are refused before the load.

mod common;

use serde_json::Value;

/// The variant `name` of the (only) backend.
fn variant<'a>(result: &'a Value, name: &str) -> &'a Value {
    result["backends"][0]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no variant {name}"))
}

/// An object's entry in a variant's sizes.
fn object<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["sizes"]["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == name)
        .unwrap_or_else(|| panic!("no object {name} in {}", v["sizes"]))
}

const SCALE: &str = r#"[params]
sensors = 10
hours = 24
every = 60
"#;

const METRICS: &str =
    "CREATE TABLE metrics (time timestamptz NOT NULL, sensor_id int NOT NULL, value double precision NOT NULL)";
const SENSORS: &str = "CREATE TABLE sensors (id int PRIMARY KEY, name text NOT NULL, region text NOT NULL)";

/// A one-round run on the metrics workload at [`SCALE`] with an ingest
/// group at `rows_per_s` beside closed-loop `readers`; `rest` holds the
/// mix, variants and verdict.
fn with_ingest(duration: &str, rows_per_s: u32, readers: &str, rest: &str) -> common::PgRun {
    common::run_postgres(
        "metrics.toml",
        &format!(
            r#"{SCALE}
[load]
warmup = "200ms"
duration = "{duration}"
rounds = 1
[load.groups.ingest]
ops = ["ingest"]
rows_per_s = {rows_per_s}
[load.groups.readers]
ops = {readers}
{rest}"#
        ),
    )
}

#[test]
fn chunks_and_partitions_follow_the_interval_and_brin_is_smaller_than_a_btree() {
    let run = with_ingest(
        "1500ms",
        1000,
        r#"["series_hour", "recent_avg"]"#,
        &format!(
            r#"[mix]
ingest = 1
series_hour = 1
recent_avg = 1
[[variant]]
name = "btree"
setup = ["CREATE INDEX metrics_time ON metrics (time)"]
[[variant]]
name = "brin"
setup = ["CREATE INDEX metrics_time_brin ON metrics USING brin (time)"]
[[variant]]
name = "hypertable"
schema = {{ postgres = ["{SENSORS}", "{METRICS}", "SELECT create_hypertable('metrics', by_range('time', INTERVAL '6 hours'))"] }}
[[variant]]
name = "partitions"
schema = {{ postgres = ["{SENSORS}", "{METRICS} PARTITION BY RANGE (time)"] }}
partitions = {{ table = "metrics", column = "time", every = "6h" }}
setup = ["CREATE INDEX metrics_time ON metrics (time)"]
[[evidence]]
name = "holding"
sql = "SELECT count(DISTINCT tableoid) FROM metrics"
[verdict]
baseline = "btree"
goal = {{ op = "series_hour", metric = "p99" }}
"#
        ),
    );
    assert_eq!(run.code, Some(0), "{}", run.text);
    let r = &run.result;
    // 24 hours in 6-hour chunks or partitions: 4 hold the loaded rows.
    for name in ["hypertable", "partitions"] {
        let holding = &variant(r, name)["evidence"][0];
        assert_eq!(holding["after_setup"][0], 4.0, "{name}: {holding}");
        // Ingest continued every series past the loaded day: into a new
        // chunk, or the partition made ahead for it.
        assert_eq!(holding["after_run"][0], 5.0, "{name}: {holding}");
    }
    assert_eq!(variant(r, "btree")["evidence"][0]["after_setup"][0], 1.0);
    // The hypertable's chunks (measured after setup) are exactly those;
    // the partitions are the data's 4, the one its last point's jitter
    // reaches, 4 made ahead and a default one.
    assert_eq!(object(variant(r, "hypertable"), "metrics")["parts"], 4);
    assert_eq!(object(variant(r, "partitions"), "metrics")["parts"], 10);
    assert_eq!(object(variant(r, "btree"), "metrics").get("parts"), None);
    // BRIN keeps a summary per 128 pages: far smaller than a B-tree.
    let brin = object(variant(r, "brin"), "metrics_time_brin")["bytes"]
        .as_u64()
        .unwrap();
    let btree = object(variant(r, "btree"), "metrics_time")["bytes"].as_u64().unwrap();
    assert!(brin * 5 < btree, "BRIN {brin} bytes vs B-tree {btree}");
    // An hour of one sensor touches one or two of the chunks, not all four,
    // and the index the plans use is the variant's own, not "unused".
    for name in ["hypertable", "partitions"] {
        let v = variant(r, name);
        let plan = v["plans"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["op"] == "series_hour")
            .unwrap();
        let relations = plan["steps"][0]["relations"].as_array().map_or(1, Vec::len);
        assert!((1..=2).contains(&relations), "{name}: {}", plan["steps"][0]["summary"]);
        assert!(
            v["unused_indexes"].as_array().unwrap().is_empty(),
            "{name}: {}",
            v["unused_indexes"]
        );
    }
    // A modest ingest rate is held, and says so.
    for name in ["btree", "brin", "hypertable", "partitions"] {
        let g = &variant(r, name)["groups"][0];
        assert_eq!(g["name"], "ingest");
        assert_eq!(g["held"], true, "{name}: {g}");
    }
    let md = std::fs::read_to_string(run.folder.join("report.md")).unwrap();
    assert!(md.contains("`hypertable` ingest: 1,000 rows/s offered"), "{md}");
    assert!(md.contains("in 4 partitions/chunks"), "{md}");
}

#[test]
fn an_ingest_group_that_cannot_keep_its_rate_is_reported_not_held_with_its_lag() {
    let run = with_ingest(
        "1s",
        5_000_000,
        r#"["last_point"]"#,
        r#"[mix]
ingest = 1
last_point = 1
[[variant]]
name = "plain"
[verdict]
baseline = "plain"
goal = { op = "last_point", metric = "p99" }
"#,
    );
    let g = &variant(&run.result, "plain")["groups"][0];
    assert_eq!(g["held"], false, "{g}");
    let (target, achieved) = (
        g["target_per_s"].as_f64().unwrap(),
        g["achieved_per_s"][0].as_f64().unwrap(),
    );
    assert_eq!(target, 10_000.0, "5,000,000 rows/s in batches of 500");
    assert!(achieved > 0.0 && achieved < target / 2.0, "{g}");
    assert!(g["schedule"]["lag_ns"]["p99"].as_u64().unwrap() > 100_000_000, "{g}");
    let warnings = variant(&run.result, "plain")["warnings"].to_string();
    assert!(warnings.contains("rate_not_held"), "{warnings}");
    let md = std::fs::read_to_string(run.folder.join("report.md")).unwrap();
    assert!(md.contains("NOT held"), "{md}");
    assert!(md.contains("did not hold its rate"), "{md}");
}

#[test]
fn tsl_only_features_are_refused_before_anything_is_loaded() {
    let run = common::run_postgres(
        "metrics.toml",
        &format!(
            r#"{SCALE}
[mix]
last_point = 1
[[variant]]
name = "compressed"
schema = {{ postgres = ["{SENSORS}", "{METRICS}", "SELECT create_hypertable('metrics', by_range('time', INTERVAL '6 hours'))"] }}
setup = ["ALTER TABLE metrics SET (timescaledb.compress)", "SELECT add_compression_policy('metrics', INTERVAL '1 day')"]
"#
        ),
    );
    if run.text.contains("timescaledb.license = timescale") {
        return; // a TSL build: nothing to refuse
    }
    assert_eq!(run.code, Some(2), "{}", run.text);
    for said in [
        "uses compression",
        "Timescale License (TSL) build",
        "Nothing was loaded",
    ] {
        assert!(run.text.contains(said), "{said}: {}", run.text);
    }
    // Refused before any table was loaded.
    assert_eq!(run.result["run"]["complete"], false);
    assert!(
        run.result["backends"].as_array().unwrap().is_empty(),
        "{}",
        run.result["backends"]
    );
}

#[test]
fn a_url_server_with_timescaledb_background_workers_runs_and_is_left_clean() {
    use schemabench::provision::{Request, Server, local};
    let bins = local::find_binaries().expect("PostgreSQL binaries (scripts/install-backends.sh)");
    let request = Request {
        preload: vec!["timescaledb".into()],
        settings: vec![("timescaledb.max_background_workers".into(), "4".into())],
        ..Request::default()
    };
    let cluster = local::LocalCluster::start(&bins, &request).unwrap();
    let port = cluster.endpoint().port();
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let run = common::run_postgres_on(
        "metrics.toml",
        &format!(
            r#"{SCALE}
[load]
clients = 1
warmup = "100ms"
duration = "300ms"
rounds = 2
[mix]
series_hour = 1
[[variant]]
name = "plain"
[[variant]]
name = "hypertable"
schema = {{ postgres = ["{SENSORS}", "{METRICS}", "SELECT create_hypertable('metrics', by_range('time', INTERVAL '6 hours'))"] }}
"#
        ),
        &["--provisioner", "url", "--postgres-url", &url],
    );
    assert_eq!(run.code, Some(0), "{}", run.text);
    let mut admin = cluster.endpoint().connect("postgres").unwrap();
    let left = admin
        .simple_query("SELECT datname FROM pg_database WHERE datname LIKE 'schemabench%'")
        .unwrap();
    assert!(left.is_empty(), "left behind: {left:?}");
}
