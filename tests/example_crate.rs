//! examples/shop is an application crate that depends on schemabench by
//! path and asks its own design question; its `cargo bench` runs here in
//! smoke mode, as a user's CI would run it. Built with the dev profile into
//! target/example-shop (a release build of every dependency would add
//! minutes to the suite and test nothing more about the entry point).

mod common;

use common::root;
use std::process::Command;

fn cargo_bench(args: &[&str]) -> (Option<i32>, String, String) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["bench", "--profile", "dev", "--bench", "schemabench", "--manifest-path"])
        .arg(root().join("examples/shop/Cargo.toml"))
        .arg("--")
        .args(args)
        .env("CARGO_TARGET_DIR", root().join("target/example-shop"))
        .env_remove("CARGO_MANIFEST_DIR")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_example_application_crate_runs_its_own_question_with_cargo_bench() {
    let (code, out, err) = cargo_bench(&["--smoke"]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("running category_page (smoke)"), "{out}");
    assert!(out.contains("category_price"), "the verdict names its variants: {out}");
    assert!(out.contains("1 run, 0 skipped, 0 failed"), "{out}");

    let (code, out, _) = cargo_bench(&["--list"]);
    assert_eq!((code, out.as_str()), (Some(0), "category_page: bench\n"));
    let (code, out, _) = cargo_bench(&["no_such_question"]);
    assert_eq!(code, Some(2), "{out}");
}

#[test]
fn the_example_workload_replays_the_statements_the_application_sends() {
    let lib = std::fs::read_to_string(root().join("examples/shop/src/lib.rs")).unwrap();
    let workload = std::fs::read_to_string(root().join("examples/shop/workloads/catalogue.toml")).unwrap();
    let statements: Vec<&str> = lib
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix('"')
                .or_else(|| l.split_once("= \"").map(|(_, s)| s))
        })
        .filter_map(|s| s.strip_suffix("\";"))
        .collect();
    assert_eq!(statements.len(), 3, "{statements:?}");
    for sql in statements {
        assert!(
            workload.contains(sql),
            "workloads/catalogue.toml does not replay `{sql}`"
        );
    }
}
