//! docs/result.schema.json is generated from the types that write
//! result.json, is current, and accepts real results: the committed fixtures
//! (SQLite and PostgreSQL runs), a fresh run with an SLO search, and an
//! interrupted one; a result with a wrong type is rejected at its path.

mod common;

use common::{bin, root};
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("docs/result.schema.json")).unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).expect("a valid JSON Schema")
}

fn problems(v: &jsonschema::Validator, result: &Value) -> Vec<String> {
    v.iter_errors(result)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn read(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The result.json of the one run folder in `runs`.
fn only_result(runs: &Path) -> Value {
    let folders: Vec<_> = std::fs::read_dir(runs).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(folders.len(), 1, "{folders:?}");
    read(&folders[0].join("result.json"))
}

#[test]
fn the_committed_schema_is_the_one_the_types_generate() {
    let committed = std::fs::read_to_string(root().join("docs/result.schema.json")).unwrap();
    let out = bin().arg("schema").output().unwrap();
    assert!(out.status.success());
    assert!(
        committed == String::from_utf8(out.stdout).unwrap(),
        "docs/result.schema.json is stale: run `cargo run -- schema > docs/result.schema.json`"
    );
}

#[test]
fn real_results_validate_and_a_wrong_type_is_named_by_its_path() {
    let v = validator();
    for fixture in ["quickstart_smoke.json", "sqlite_vs_postgres.json"] {
        let result = read(&root().join("tests/fixtures").join(fixture));
        assert_eq!(problems(&v, &result), Vec::<String>::new(), "{fixture}");
    }

    // A run of today's code, open loop with an SLO search (its own part of
    // the result).
    let dir = tempfile::tempdir().unwrap();
    let scenario = common::orders_scenario(
        dir.path(),
        "slo",
        "300ms",
        2,
        r#"rate = 500
[mix]
order_by_id = 1
[[variant]]
name = "a"
[[variant]]
name = "b"
setup = ["CREATE INDEX orders_status ON orders (status)"]
[verdict]
baseline = "a"
goal = { op = "order_by_id", metric = "p99" }
[slo]
op = "order_by_id"
p99 = "5ms"
start_rate = 500
max_rate = 2000
step = "200ms"
refine = 1"#,
    );
    let runs = dir.path().join("runs");
    let out = bin()
        .args(["run", "--quiet", "--out"])
        .arg(&runs)
        .arg(&scenario)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut result = only_result(&runs);
    assert!(
        result["backends"][0]["variants"][0]["slo"].is_object(),
        "the run has an SLO search"
    );
    assert_eq!(problems(&v, &result), Vec::<String>::new());

    result["run"]["complete"] = Value::from("yes");
    result["seed"] = Value::from(-1);
    let found = problems(&v, &result);
    assert!(found.iter().any(|p| p.starts_with("/run/complete:")), "{found:?}");
    assert!(found.iter().any(|p| p.starts_with("/seed:")), "{found:?}");
}

#[test]
fn an_interrupted_result_validates() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = common::two_variant_scenario(dir.path(), "interrupted", "30s", 3);
    let runs = dir.path().join("runs");
    let child = bin()
        .args(["run", "--quiet", "--out"])
        .arg(&runs)
        .arg(&scenario)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    // SAFETY: kill(2) on the child this test started.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let result = only_result(&runs);
    assert_eq!(result["run"]["interrupted"], true);
    assert_eq!(problems(&validator(), &result), Vec::<String>::new());
}
