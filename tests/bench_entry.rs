//! `schemabench new` and `schemabench::bench`: the crate a user makes ready
//! for `cargo bench` runs its scenario, lists it, saves and compares
//! baselines, and fails the bench on a regression or a bad file.

mod common;

use clap::Parser;
use common::bin;
use schemabench::bench::{BAD_INPUT, BenchArgs, FAILED, Layout, PASSED, run};
use std::path::Path;

/// `schemabench new DIR` and its printed Cargo.toml lines.
fn new_crate(dir: &Path) -> String {
    let out = bin().arg("new").arg(dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// The bench of the crate at `root`, as `cargo bench -- ARGS` runs it.
fn bench(root: &Path, args: &[&str]) -> (i32, String) {
    let args = BenchArgs::try_parse_from(["bench", "--bench"].iter().chain(args)).unwrap();
    let layout = Layout {
        root: root.to_path_buf(),
        out: root.join("target/schemabench"),
    };
    let mut out = Vec::new();
    let code = run(&args, &layout, &mut out);
    (code, String::from_utf8(out).unwrap())
}

#[test]
fn new_writes_a_crate_that_benches_and_prints_the_cargo_lines() {
    let dir = tempfile::tempdir().unwrap();
    let printed = new_crate(dir.path());
    for f in [
        "benches/schemabench.rs",
        "scenarios/first_question.toml",
        "workloads/app.toml",
    ] {
        assert!(dir.path().join(f).is_file(), "{f} not written:\n{printed}");
    }
    // The printed lines are a Cargo.toml fragment declaring the dev-dependency
    // and a bench without libtest's harness.
    let fragment = &printed[printed.find("[dev-dependencies]").expect(&printed)..];
    let fragment = &fragment[..fragment.find("Then").unwrap()];
    let toml: toml::Table = fragment.parse().unwrap();
    assert!(toml["dev-dependencies"]["schemabench"].is_str(), "{fragment}");
    assert_eq!(toml["bench"][0]["name"].as_str(), Some("schemabench"));
    assert_eq!(toml["bench"][0]["harness"].as_bool(), Some(false));
    assert_eq!(
        fragment.lines().filter(|l| !l.trim().is_empty()).count(),
        5,
        "{fragment}"
    );

    // A second `new` keeps the user's edits.
    std::fs::write(dir.path().join("benches/schemabench.rs"), "// mine\n").unwrap();
    let again = new_crate(dir.path());
    assert!(again.contains("kept"), "{again}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("benches/schemabench.rs")).unwrap(),
        "// mine\n"
    );

    let (code, out) = bench(dir.path(), &["--list"]);
    assert_eq!((code, out.as_str()), (PASSED, "first_question: bench\n"));
    let (code, out) = bench(dir.path(), &["--smoke"]);
    assert_eq!(code, PASSED, "{out}");
    assert!(out.contains("running first_question (smoke)"), "{out}");
    assert!(out.contains("room_sent"), "the verdict names the variants: {out}");
    assert!(out.contains("1 run, 0 skipped, 0 failed"), "{out}");
}

#[test]
fn a_baseline_saved_by_one_bench_fails_a_later_one_that_regressed() {
    let dir = tempfile::tempdir().unwrap();
    new_crate(dir.path());
    let (code, out) = bench(dir.path(), &["--smoke", "--save-baseline", "before"]);
    assert_eq!(code, PASSED, "{out}");
    assert!(out.contains("saved baseline `before`"), "{out}");
    let saved = dir
        .path()
        .join("target/schemabench/baselines/first_question/before/result.json");
    assert!(saved.is_file(), "{out}");

    // The same code again: compared, and no regression.
    let (code, out) = bench(dir.path(), &["--smoke", "--baseline", "before"]);
    assert_eq!(code, PASSED, "{out}");
    assert!(out.contains("baseline `before`"), "{out}");

    // The index the question is about is lost: the room page scans.
    let scenario = dir.path().join("scenarios/first_question.toml");
    let text = std::fs::read_to_string(&scenario).unwrap();
    let lost = text.replace("ON messages (room_id, sent_at DESC, id DESC)", "ON messages (body)");
    assert_ne!(text, lost);
    std::fs::write(&scenario, lost).unwrap();
    let (code, out) = bench(dir.path(), &["--smoke", "--baseline", "before"]);
    assert_eq!(code, FAILED, "{out}");
    assert!(out.contains("FAILED: regression against baseline `before`"), "{out}");
    assert!(out.contains("plan"), "the plan change is a finding: {out}");

    let (code, out) = bench(dir.path(), &["--smoke", "--baseline", "nothere"]);
    assert_eq!(code, FAILED, "{out}");
    assert!(
        out.contains("save one with `cargo bench -- --save-baseline nothere`"),
        "{out}"
    );
}

#[test]
fn bad_files_and_filters_that_match_nothing_are_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    new_crate(dir.path());
    let (code, out) = bench(dir.path(), &["nothing_like_it"]);
    assert_eq!(code, BAD_INPUT, "{out}");
    assert!(
        out.contains("no scenario matches nothing_like_it (there are: first_question)"),
        "{out}"
    );

    std::fs::write(
        dir.path().join("scenarios/broken.toml"),
        "name = \"broken\"\nquestion = 3\n",
    )
    .unwrap();
    let (code, out) = bench(dir.path(), &["--smoke"]);
    assert_eq!(code, BAD_INPUT, "{out}");
    assert!(out.contains("broken.toml"), "{out}");
    assert!(!out.contains("running"), "nothing runs before every file loads: {out}");

    let empty = tempfile::tempdir().unwrap();
    let (code, out) = bench(empty.path(), &[]);
    assert_eq!(code, BAD_INPUT, "{out}");
    assert!(out.contains("schemabench new"), "{out}");
}
