//! `[[evidence]]` on real SQLite: scalar queries recorded per variant after
//! setup and after each window, shown in the report and used by guards.

mod common;

use std::path::{Path, PathBuf};

fn scenario(dir: &Path, evidence: &str, guards: &str) -> PathBuf {
    common::orders_scenario(
        dir,
        "evidence",
        "300ms",
        2,
        &format!(
            r#"[mix]
order_by_id = 50
place_order = 50
[[variant]]
name = "a"
[[variant]]
name = "b"
setup = ["CREATE INDEX orders_user ON orders (user_id)"]
{evidence}
[verdict]
baseline = "a"
goal = {{ op = "order_by_id", metric = "p99" }}
equal_load = false
guards = [{guards}]"#
        ),
    )
}

fn run(scenario: &Path, out: &Path) -> (Option<i32>, serde_json::Value, String) {
    let o = common::bin()
        .arg("run")
        .arg(scenario)
        .args(["--json", "--quiet", "--out"])
        .arg(out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let json = serde_json::from_slice(&o.stdout).unwrap_or(serde_json::Value::Null);
    (o.status.code(), json, stderr)
}

#[test]
fn evidence_is_read_after_setup_and_after_each_window_and_guards_use_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(
        dir.path(),
        r#"
[[evidence]]
name = "orders"
sql = "SELECT count(*) FROM orders"
[[evidence]]
name = "indexes"
sql = "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'orders' AND sql IS NOT NULL"
"#,
        r#"{ metric = "evidence.indexes", max = 0 }"#,
    );
    let (code, result, stderr) = run(&path, &dir.path().join("runs"));
    assert_eq!(code, Some(0), "{stderr}");
    let variants = result["backends"][0]["variants"].as_array().unwrap();
    for v in variants {
        let orders = &v["evidence"][0];
        assert_eq!(orders["name"], "orders");
        // Each round's fresh copy starts with the loaded rows; inserts add to them.
        let after_setup: Vec<f64> = orders["after_setup"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        assert_eq!(after_setup, [2000.0, 2000.0], "{}", v["name"]);
        for x in orders["after_run"].as_array().unwrap() {
            assert!(x.as_f64().unwrap() > 2000.0, "{}: {x}", v["name"]);
        }
    }
    assert_eq!(variants[1]["evidence"][1]["after_setup"], serde_json::json!([1.0, 1.0]));

    // The absolute guard: `b` has an index, the limit allows none.
    let b = &result["comparison"]["verdicts"][0]["candidates"][0];
    assert_eq!(b["variant"], "b");
    let guard = &b["guards"][0];
    assert_eq!(guard["guard"], "evidence.indexes");
    assert_eq!(guard["pass"], false);
    assert_eq!(guard["absolute"]["value"], 1.0);
    assert!(stderr.contains("evidence.indexes 1 (limit ≤ 0) FAIL"), "{stderr}");
    // The orders count has a ratio with an interval like any metric.
    let effect = result["comparison"]["effects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["metric"]["evidence"]["index"] == 0)
        .expect("an effect for evidence.orders");
    assert_eq!(effect["rounds"], 2);

    let folder = dir.path().join("runs").join(result["run"]["id"].as_str().unwrap());
    let report = std::fs::read_to_string(folder.join("report.md")).unwrap();
    assert!(report.contains("## Evidence (sqlite)"), "{report}");
    assert!(report.contains("| evidence.indexes | b | 1, 1 |"), "{report}");
}

#[test]
fn a_failing_evidence_query_is_named_and_the_run_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(
        dir.path(),
        "[[evidence]]\nname = \"chunks\"\nsql = \"SELECT count(*) FROM no_such_table\"\n",
        "",
    );
    let (code, result, stderr) = run(&path, &dir.path().join("runs"));
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("evidence `chunks` on variant `a`"), "{stderr}");
    assert!(stderr.contains("no_such_table"), "{stderr}");
    assert_eq!(result["run"]["complete"], false);
}
