//! Comparing a run with a saved baseline, as a nightly job does: no
//! regression exits 0; an index made useless is a regression and a plan
//! change (exit 1, named in the terminal, Markdown and JUnit outputs); runs
//! of different seeds are refused (exit 2) unless allowed.

mod common;

use common::bin;
use std::path::{Path, PathBuf};

/// A scenario where `idx` serves recent_orders with the index `index`
/// (columns in parentheses).
fn scenario(dir: &Path, index: &str) -> PathBuf {
    common::orders_scenario(
        dir,
        "nightly",
        "400ms",
        5,
        &format!(
            r#"[mix]
recent_orders = 9
place_order = 1
[[variant]]
name = "plain"
[[variant]]
name = "idx"
setup = ["CREATE INDEX orders_idx ON orders {index}"]
[verdict]
baseline = "plain"
goal = {{ op = "recent_orders", metric = "p99" }}"#
        ),
    )
}

fn run(scenario: &Path, out: &Path, seed: &str) -> PathBuf {
    let o = bin()
        .arg("run")
        .arg(scenario)
        .args([
            "--quiet",
            "--equal-load",
            "off",
            "--param",
            "orders=20000",
            "--seed",
            seed,
            "--out",
        ])
        .arg(out)
        .output()
        .unwrap();
    assert!(
        o.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::read_dir(out).unwrap().next().unwrap().unwrap().path()
}

#[test]
fn a_run_against_its_baseline_passes_and_a_lost_index_is_a_regression_and_a_plan_change() {
    let dir = tempfile::tempdir().unwrap();
    let good = run(
        &scenario(dir.path(), "(user_id, created_at DESC, id DESC)"),
        &dir.path().join("a"),
        "1",
    );
    let baselines = dir.path().join("baselines");
    let saved = bin()
        .args(["baseline", "save", "nightly"])
        .arg(&good)
        .arg("--dir")
        .arg(&baselines)
        .output()
        .unwrap();
    assert!(saved.status.success(), "{}", String::from_utf8_lossy(&saved.stderr));
    let list = bin()
        .args(["baseline", "list", "--dir"])
        .arg(&baselines)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&list.stdout).starts_with("nightly  nightly"));

    let compare = |run: &Path, extra: &[&str]| {
        bin()
            .arg("compare")
            .arg(run)
            .args(["--baseline", "nightly", "--baselines"])
            .arg(&baselines)
            .args(extra)
            .output()
            .unwrap()
    };
    // The same run: nothing moved.
    let same = compare(&good, &[]);
    let text = String::from_utf8_lossy(&same.stdout);
    assert_eq!(same.status.code(), Some(0), "{text}");
    assert!(text.contains("0 worse") && text.contains("no regression"), "{text}");
    assert!(text.contains("note: the baseline is one run"), "{text}");

    // The index no longer serves the query.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    // An index recent_orders cannot use: every call scans orders (a
    // slowdown of two orders of magnitude, beyond any round-to-round noise).
    let bad = run(&scenario(&other, "(status)"), &dir.path().join("b"), "1");
    let md = dir.path().join("summary.md");
    let xml = dir.path().join("junit.xml");
    let worse = compare(
        &bad,
        &["--markdown", md.to_str().unwrap(), "--junit", xml.to_str().unwrap()],
    );
    let text = String::from_utf8_lossy(&worse.stdout);
    assert_eq!(worse.status.code(), Some(1), "{text}");
    // Which of its timing metrics clears the family-wise interval depends
    // on round-to-round noise; at least one must.
    assert!(text.contains("REGRESSION  sqlite idx recent_orders "), "{text}");
    assert!(text.contains("plan changed"), "{text}");
    let md = std::fs::read_to_string(md).unwrap();
    assert!(
        md.contains("❌ regression") && md.contains("| sqlite idx recent_orders "),
        "{md}"
    );
    let xml = std::fs::read_to_string(xml).unwrap();
    assert!(
        xml.lines()
            .any(|l| l.contains("classname=\"sqlite.idx.recent_orders\"") && l.contains("<failure")),
        "{xml}"
    );
    assert!(xml.contains("plan changed"), "{xml}");

    // A baseline of three runs: intervals predict a new run from the spread
    // between runs; the lost index is still a regression.
    let good_path = scenario(dir.path(), "(user_id, created_at DESC, id DESC)");
    let mut runs = vec![good.clone()];
    for i in 0..2 {
        runs.push(run(&good_path, &dir.path().join(format!("m{i}")), "1"));
    }
    let saved = bin()
        .args(["baseline", "save", "multi"])
        .args(&runs)
        .arg("--dir")
        .arg(&baselines)
        .output()
        .unwrap();
    assert!(saved.status.success(), "{}", String::from_utf8_lossy(&saved.stderr));
    let multi = bin()
        .arg("compare")
        .arg(&bad)
        .args(["--baseline", "multi", "--baselines"])
        .arg(&baselines)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&multi.stdout);
    assert_eq!(multi.status.code(), Some(1), "{text}");
    assert!(text.contains("plan changed"), "{text}");
    assert!(!text.contains("note: the baseline is one run"), "{text}");

    // Lenient thresholds on every timing metric cannot hide the plan change.
    let lenient: Vec<String> = ["p50", "p90", "p99", "p999", "mean", "throughput"]
        .iter()
        .map(|m| format!("--threshold={m}=10000%"))
        .collect();
    let lenient: Vec<&str> = lenient.iter().map(String::as_str).collect();
    let still = compare(&bad, &lenient);
    let text = String::from_utf8_lossy(&still.stdout);
    assert_eq!(still.status.code(), Some(1), "{text}");
    assert!(!text.contains("REGRESSION  sqlite idx recent_orders"), "{text}");
}

#[test]
fn runs_of_another_seed_or_a_missing_baseline_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "(user_id)");
    let a = run(&path, &dir.path().join("a"), "1");
    let b = run(&path, &dir.path().join("b"), "2");
    let out = bin().arg("compare").arg(&b).arg("--against").arg(&a).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("seed: 1 → 2") && stderr.contains("--allow-different"),
        "{stderr}"
    );
    let allowed = bin()
        .arg("compare")
        .arg(&b)
        .arg("--against")
        .arg(&a)
        .arg("--allow-different")
        .output()
        .unwrap();
    assert!(allowed.status.code().is_some_and(|c| c <= 1));
    let missing = bin()
        .arg("compare")
        .arg(&b)
        .args(["--baseline", "nope", "--baselines"])
        .arg(dir.path().join("none"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(missing.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("no baseline `nope`") && stderr.contains("baseline save nope"),
        "{stderr}"
    );
}
