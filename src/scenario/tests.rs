use super::*;
use std::path::Path;

const WORKLOAD: &str = r#"
name = "shop"
[params]
users = 100
orders = 1000
[schema]
sqlite = ["CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, total NUMERIC)"]
[[table]]
name = "orders"
rows = "orders"
columns.id = "seq"
columns.user_id = "zipf(1, users, 1.1)"
columns.total = "decimal(1, 100, 2)"
[[op]]
name = "by_user"
sql = "SELECT id FROM orders WHERE user_id = $1"
params = ["zipf(1, users, 1.1)"]
[[op]]
name = "add"
sql = "INSERT INTO orders (user_id, total) VALUES ($1, $2)"
params = ["uniform(1, users)", "decimal(1, 100, 2)"]
[[op]]
name = "transfer"
vars.a = "uniform(1, orders)"
vars.b = "uniform(1, orders)"
[[op.step]]
sql = "UPDATE orders SET total = total - 1 WHERE id = $1"
args = ["a"]
[[op.step]]
sql = "UPDATE orders SET total = total + 1 WHERE id = $1"
args = ["b"]
"#;

const SCENARIO: &str = r#"
name = "shop_index"
question = "Index or not?"
workload = "shop"
[params]
orders = 2000
[load]
clients = 2
warmup = "500ms"
duration = "2s"
[mix]
by_user = 9
add = 1
[[variant]]
name = "plain"
[[variant]]
name = "indexed"
setup = ["CREATE INDEX o_user ON orders (user_id)"]
[variant.ops.by_user]
sql = "SELECT id FROM orders INDEXED BY o_user WHERE user_id = $1"
[verdict]
baseline = "plain"
goal = { op = "by_user", metric = "p99" }
guards = [{ metric = "storage", max_regression = "30%" }]
"#;

/// Writes `workloads/shop.toml` and `scenarios/s.toml` into a temp dir.
fn files(workload: &str, scenario: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("workloads")).unwrap();
    std::fs::create_dir_all(dir.path().join("scenarios")).unwrap();
    std::fs::write(dir.path().join("workloads/shop.toml"), workload).unwrap();
    let s = dir.path().join("scenarios/s.toml");
    std::fs::write(&s, scenario).unwrap();
    (dir, s)
}

fn scenario_error(workload: &str, scenario: &str) -> String {
    let (_dir, path) = files(workload, scenario);
    load_scenario(&path).unwrap_err().to_string()
}

#[test]
fn a_valid_scenario_resolves_with_overrides_and_defaults() {
    let (_dir, path) = files(WORKLOAD, SCENARIO);
    let s = load_scenario(&path).unwrap();
    assert_eq!(s.params["orders"], 2000.0);
    assert_eq!(s.params["users"], 100.0);
    assert_eq!(s.load.clients().get(), 2);
    assert_eq!(s.load.warmup, std::time::Duration::from_millis(500));
    assert_eq!(s.load.rounds, DEFAULT_LOAD.rounds);
    assert_eq!(s.backends, [crate::backend::BackendKind::Sqlite]);
    assert_eq!(s.mix, [(OpId(0), 9), (OpId(1), 1)]);
    assert_eq!(s.verdict.baseline, VariantId(0));
    assert_eq!(s.verdict.guards[0].limit, GuardLimit::Regression(0.3));
    assert!(
        s.steps_for(VariantId(1), OpId(0))[0]
            .sql
            .default
            .as_ref()
            .unwrap()
            .contains("INDEXED BY")
    );
    assert!(
        !s.steps_for(VariantId(0), OpId(0))[0]
            .sql
            .default
            .as_ref()
            .unwrap()
            .contains("INDEXED BY")
    );
    let w = &s.workload;
    assert_eq!(w.ops[0].kind, OpKind::Read);
    assert_eq!(w.ops[1].kind, OpKind::Write);
    assert!(w.ops[2].transaction);
    assert_eq!(w.ops[2].steps[1].args, [1]);
    let bound = bind(w, &s.params).unwrap();
    assert_eq!(bound.tables[0].rows, 2000);
}

#[test]
fn unknown_keys_name_position_and_suggest() {
    let bad = SCENARIO.replace("duration = \"2s\"", "durtion = \"2s\"");
    let msg = scenario_error(WORKLOAD, &bad);
    assert!(msg.contains("s.toml:10:1"), "{msg}");
    assert!(msg.contains("`load.durtion`"), "{msg}");
    assert!(msg.contains("unknown field `durtion`"), "{msg}");
    assert!(msg.contains("did you mean `duration`?"), "{msg}");
}

#[test]
fn wrong_types_name_the_field() {
    let bad = SCENARIO.replace("clients = 2", "clients = \"two\"");
    let msg = scenario_error(WORKLOAD, &bad);
    assert!(msg.contains("s.toml:8:11"), "{msg}");
    assert!(msg.contains("load.clients"), "{msg}");
    assert!(msg.contains("invalid type"), "{msg}");
}

#[test]
fn cross_checks_report_every_problem_with_suggestions() {
    let bad = SCENARIO
        .replace("by_user = 9", "by_usr = 9")
        .replace("baseline = \"plain\"", "baseline = \"plian\"")
        .replace("orders = 2000", "order = 2000")
        .replace("warmup = \"500ms\"", "warmup = \"half a second\"");
    let msg = scenario_error(WORKLOAD, &bad);
    assert!(
        msg.contains("no operation `by_usr`") && msg.contains("did you mean `by_user`?"),
        "{msg}"
    );
    assert!(
        msg.contains("no variant named `plian`") && msg.contains("did you mean `plain`?"),
        "{msg}"
    );
    assert!(
        msg.contains("no parameter `order`") && msg.contains("did you mean `orders`?"),
        "{msg}"
    );
    assert!(msg.contains("load.warmup") && msg.contains("not a duration"), "{msg}");
    assert!(msg.contains("4 problems found"), "{msg}");
}

#[test]
fn generator_errors_point_inside_the_string() {
    let bad = WORKLOAD.replace(
        "zipf(1, users, 1.1)\"\ncolumns.total",
        "zipf(1, usrs, 1.1)\"\ncolumns.total",
    );
    let msg = scenario_error(&bad, SCENARIO);
    // `columns.user_id = "zipf(1, usrs, 1.1)"`: usrs starts at column 28.
    assert!(msg.contains("workloads/shop.toml:12:28"), "{msg}");
    assert!(msg.contains("table.orders.columns.user_id"), "{msg}");
    assert!(msg.contains("did you mean `users`?"), "{msg}");
}

#[test]
fn placeholders_must_match_params() {
    let bad = WORKLOAD.replace("VALUES ($1, $2)", "VALUES ($1, $3)");
    let msg = scenario_error(&bad, SCENARIO);
    assert!(msg.contains("placeholders up to $3 but `params` lists 2"), "{msg}");
}

#[test]
fn step_args_must_name_vars_and_variant_backends_must_be_declared() {
    let bad = WORKLOAD.replace("args = [\"b\"]", "args = [\"bb\"]");
    let msg = scenario_error(&bad, SCENARIO);
    assert!(msg.contains("`bb` is not one of the operation's vars"), "{msg}");
    let bad = SCENARIO.replace("name = \"indexed\"", "name = \"indexed\"\nbackends = [\"postgres\"]");
    let msg = scenario_error(WORKLOAD, &bad);
    assert!(
        msg.contains("backend `postgres` is not one of the scenario's backends (sqlite)"),
        "{msg}"
    );
}

#[test]
fn backends_need_schema_and_sql() {
    let bad = SCENARIO.replace(
        "workload = \"shop\"",
        "workload = \"shop\"\nbackends = [\"sqlite\", \"postgres\"]",
    );
    let msg = scenario_error(WORKLOAD, &bad);
    assert!(msg.contains("no schema for postgres"), "{msg}");
}

#[test]
fn guards_and_goals_check_metric_scope() {
    let bad = SCENARIO.replace(
        "{ metric = \"storage\", max_regression = \"30%\" }",
        "{ op = \"by_user\", metric = \"storage\", max_regression = \"lots\" }",
    );
    let msg = scenario_error(WORKLOAD, &bad);
    assert!(msg.contains("not a percentage"), "{msg}");
    let bad = SCENARIO.replace(
        "goal = { op = \"by_user\", metric = \"p99\" }",
        "goal = { metric = \"p99\" }",
    );
    let msg = scenario_error(WORKLOAD, &bad);
    assert!(msg.contains("measured per operation; add `op"), "{msg}");
    let bad = SCENARIO.replace("metric = \"p99\"", "metric = \"p98\"");
    let msg = scenario_error(WORKLOAD, &bad);
    assert!(msg.contains("`p98` is not a metric"), "{msg}");
}

#[test]
fn load_any_tells_scenarios_from_workloads() {
    let (dir, path) = files(WORKLOAD, SCENARIO);
    assert!(matches!(load_any(&path).unwrap(), Document::Scenario(_)));
    let w = dir.path().join("workloads/shop.toml");
    assert!(matches!(load_any(&w).unwrap(), Document::Workload(_)));
    let other = dir.path().join("other.toml");
    std::fs::write(&other, "x = 1").unwrap();
    assert!(
        load_any(&other)
            .unwrap_err()
            .to_string()
            .contains("cannot tell whether")
    );
    let missing = load_any(Path::new("/nonexistent/x.toml")).unwrap_err().to_string();
    assert!(missing.contains("cannot read file"), "{missing}");
}

#[test]
fn shipped_workloads_and_scenarios_are_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut count = 0;
    for dir in ["workloads", "scenarios", "scenarios/rules"] {
        for file in toml_files(&root.join(dir)).unwrap() {
            load_any(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            count += 1;
        }
    }
    assert!(count >= 2);
}
