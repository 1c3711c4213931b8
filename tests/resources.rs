//! Resource checks before any work: a run whose data would not fit the
//! work folder's free space is refused with the figures (exit 2, nothing
//! loaded, nothing left), `validate` prints the estimate, and values too
//! large to build in memory are rejected where they are written.

mod common;

use common::bin;
use std::path::Path;

#[test]
fn a_run_too_large_for_the_free_disk_is_refused_before_loading() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let started = std::time::Instant::now();
    let out = bin()
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .args([
            "run",
            "scenarios/quickstart.toml",
            "--param",
            "orders=10000000000",
            "--out",
        ])
        .arg(dir.path().join("runs"))
        .arg("--work-dir")
        .arg(&work)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("this run needs about"), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    assert!(started.elapsed().as_secs() < 10, "refused only after work");
    assert_eq!(std::fs::read_dir(&work).unwrap().count(), 0);
    assert!(!dir.path().join("runs").exists() || std::fs::read_dir(dir.path().join("runs")).unwrap().count() == 0);
}

#[test]
fn validate_prints_the_data_estimate_and_rejects_giant_values() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = bin()
        .current_dir(root)
        .args(["validate", "scenarios/quickstart.toml"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    // 220,000 rows of a few dozen bytes each: some megabytes.
    let line = stdout.lines().find(|l| l.contains("data: about")).expect("a data line");
    assert!(line.contains("MiB") || line.contains("MB"), "{line}");

    let dir = tempfile::tempdir().unwrap();
    let workload = dir.path().join("w.toml");
    std::fs::write(
        &workload,
        r#"name = "w"
[schema]
sqlite = ["CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)"]
[[table]]
name = "t"
rows = 10
columns.id = "seq"
columns.body = "text(1, 100_000_000_000)"
[[op]]
name = "one"
sql = "SELECT body FROM t WHERE id = $1"
params = ["uniform(1, 10)"]
"#,
    )
    .unwrap();
    let out = bin().arg("validate").arg(&workload).output().unwrap();
    let all = common::printed(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(all.contains("max_len <= 16777216"), "{all}");
}
