//! The rules library: every scenario in scenarios/rules/ runs green at its
//! quick profile (complete, exit 0, a verdict on every backend it names),
//! states the rule it tests, is in the nightly rules suite, and
//! docs/rules.md's table is what `schemabench rules-table` makes of the
//! committed evidence in reports/rules/.

mod common;

use common::{bin, printed, root};
use std::path::Path;

fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// A run's result: complete, with a verdict per backend and the rule.
fn check_result(name: &str, result: &serde_json::Value) {
    assert_eq!(result["run"]["complete"], true, "{name}: {}", result["run"]);
    let backends = result["scenario"]["backends"].as_array().unwrap().len();
    let verdicts = result["comparison"]["verdicts"].as_array().unwrap();
    assert_eq!(verdicts.len(), backends, "{name}: a verdict per backend");
    let rule = result["scenario"]["rule"].as_str().unwrap_or_default();
    assert!(rule.len() > 20, "{name}: states its rule in a sentence");
}

fn quick_run(name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = root().join(format!("scenarios/rules/{name}.toml"));
    let out = bin()
        .arg("run")
        .arg(&file)
        .args(["--quick", "--quiet", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    let text = printed(&out);
    assert_eq!(out.status.code(), Some(0), "{name}: {text}");
    let folder = std::fs::read_dir(dir.path()).unwrap().next().unwrap().unwrap().path();
    let sweep = folder.join("sweep.json");
    if sweep.exists() {
        let summary = json(&sweep);
        assert_eq!(summary["complete"], true, "{name}: {text}");
        let points = summary["points"].as_array().unwrap();
        assert!(points.len() >= 2, "{name}");
        for p in points {
            check_result(
                name,
                &json(&folder.join(p["run"].as_str().unwrap()).join("result.json")),
            );
        }
    } else {
        check_result(name, &json(&folder.join("result.json")));
    }
}

macro_rules! rule_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                quick_run(stringify!($name));
            }
        )*
        const NAMES: &[&str] = &[$(stringify!($name)),*];
    };
}

rule_tests!(
    brin_vs_btree,
    composite_order,
    covering_index,
    denormalize_read_heavy,
    expression_index,
    fk_index_join,
    hypertable_vs_plain,
    index_write_cost,
    jsonb_attributes,
    keyset_vs_offset,
    money_numeric_vs_bigint,
    partial_index,
    pk_uuid,
    sqlite_single_writer,
    text_vs_varchar,
    vector_index,
);

#[test]
fn every_rule_scenario_is_tested_here_in_the_nightly_suite_and_in_the_evidence() {
    let mut files: Vec<String> = std::fs::read_dir(root().join("scenarios/rules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, NAMES, "each rule scenario has its quick test above");
    assert!(files.len() >= 16);
    let suite = std::fs::read_to_string(root().join("suites/nightly-rules.txt")).unwrap();
    for name in &files {
        assert!(
            suite.contains(&format!("scenarios/rules/{name}.toml --quick")),
            "{name} is in suites/nightly-rules.txt"
        );
        let evidence = root().join("reports/rules").join(name);
        assert!(
            evidence.join("report.md").exists() || evidence.join("sweep.md").exists(),
            "{name} has committed evidence in reports/rules/"
        );
        assert!(
            root().join(format!("reports/rules/reproduction/{name}.json")).exists(),
            "{name} has a second run in reports/rules/reproduction/"
        );
    }
}

#[test]
fn docs_rules_md_is_the_table_the_committed_evidence_makes() {
    let out = bin()
        .current_dir(root())
        .args([
            "rules-table",
            "reports/rules",
            "--reproduction",
            "reports/rules/reproduction",
            "--update",
            "docs/rules.md",
            "--check",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", printed(&out));
}
