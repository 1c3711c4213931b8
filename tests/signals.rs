//! Signals as `timeout`, `kill`, systemd and terminals send them, to real
//! SQLite runs in each long phase: the run stops at the next safe point,
//! keeps what it measured (marked interrupted), leaves nothing in its work
//! folder and exits non-zero; a second signal exits at once and still
//! removes the run's temp folders.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::bin;

/// A small scenario with a 30 s window; `--param orders=N` sets the load's size.
fn scenario(dir: &Path) -> PathBuf {
    common::two_variant_scenario(dir, "long", "30s", 2)
}

struct Run {
    child: Child,
    runs: PathBuf,
    work: PathBuf,
}

fn start(dir: &Path, orders: u64) -> Run {
    let runs = dir.join("runs");
    let work = dir.join("work");
    std::fs::create_dir_all(&work).unwrap();
    let child = bin()
        .arg("run")
        .arg(scenario(dir))
        // --force: the large loads below are stopped long before they fill a disk.
        .args(["--force", "--param", &format!("orders={orders}"), "--out"])
        .arg(&runs)
        .arg("--work-dir")
        .arg(&work)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    Run { child, runs, work }
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits for the run to end, at most `limit` after now.
fn finish(run: Run, limit: Duration) -> (Option<i32>, String, PathBuf, PathBuf) {
    let started = Instant::now();
    let out = run.child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < limit,
        "the signal was not honoured within {limit:?}"
    );
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        run.runs,
        run.work,
    )
}

fn assert_interrupted_and_clean(code: Option<i32>, stderr: &str, runs: &Path, work: &Path, what: &str) {
    assert_eq!(code, Some(2), "{what}: {stderr}");
    assert!(stderr.contains("interrupted"), "{what}: {stderr}");
    let folders: Vec<PathBuf> = std::fs::read_dir(runs).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(folders.len(), 1, "{what}: {folders:?}");
    let result: serde_json::Value =
        serde_json::from_slice(&std::fs::read(folders[0].join("result.json")).unwrap()).unwrap();
    assert_eq!(result["run"]["complete"], false, "{what}");
    assert_eq!(result["run"]["interrupted"], true, "{what}");
    assert_eq!(result["run"]["fit_for_decisions"], false, "{what}");
    assert_eq!(
        result["run"]["id"].as_str(),
        folders[0].file_name().and_then(|n| n.to_str()),
        "{what}: run.id names its folder"
    );
    assert_eq!(
        std::fs::read_dir(work).unwrap().count(),
        0,
        "{what}: work files left behind"
    );
}

#[test]
fn sigint_sigterm_and_sighup_stop_a_measurement_and_keep_what_was_measured() {
    for name in ["INT", "TERM", "HUP"] {
        let dir = tempfile::tempdir().unwrap();
        let run = start(dir.path(), 2000);
        // Loading 2,200 rows takes well under a second; then 30 s windows.
        std::thread::sleep(Duration::from_secs(3));
        signal(&run.child, name);
        let (code, stderr, runs, work) = finish(run, Duration::from_secs(10));
        assert_interrupted_and_clean(code, &stderr, &runs, &work, &format!("SIG{name} while measuring"));
    }
}

#[test]
fn a_signal_during_the_load_stops_it_between_chunks() {
    for name in ["INT", "TERM"] {
        let dir = tempfile::tempdir().unwrap();
        // 50 million orders: minutes of loading, gigabytes of file.
        let run = start(dir.path(), 50_000_000);
        std::thread::sleep(Duration::from_secs(2));
        signal(&run.child, name);
        let (code, stderr, runs, work) = finish(run, Duration::from_secs(10));
        assert_interrupted_and_clean(code, &stderr, &runs, &work, &format!("SIG{name} while loading"));
    }
}

#[test]
fn a_second_signal_exits_at_once_and_still_removes_the_temp_folders() {
    let dir = tempfile::tempdir().unwrap();
    let run = start(dir.path(), 50_000_000);
    std::thread::sleep(Duration::from_secs(2));
    // Two identical signals sent microseconds apart may merge into one (POSIX
    // keeps one pending signal per number), so the second is a different one:
    // Ctrl-C, then `kill` from another terminal.
    signal(&run.child, "INT");
    signal(&run.child, "TERM");
    let (code, stderr, _runs, work) = finish(run, Duration::from_secs(5));
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("exiting at once"), "{stderr}");
    assert_eq!(std::fs::read_dir(&work).unwrap().count(), 0, "work files left behind");
}

#[test]
fn two_runs_started_together_into_one_folder_both_complete_in_their_own_folders() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path());
    let runs = dir.path().join("runs");
    let children: Vec<Child> = (0..2)
        .map(|seed| {
            bin()
                .arg("run")
                .arg(&path)
                .args(["--duration", "300ms", "--rounds", "1", "--quiet", "--seed"])
                .arg((13 + seed * 10).to_string())
                .arg("--out")
                .arg(&runs)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let mut folders: Vec<PathBuf> = std::fs::read_dir(&runs).unwrap().map(|e| e.unwrap().path()).collect();
    folders.sort();
    assert_eq!(folders.len(), 2, "{folders:?}");
    let mut seeds = Vec::new();
    for f in &folders {
        let name = f.file_name().unwrap().to_str().unwrap();
        assert!(!name.starts_with('.'), "a partial folder was left: {name}");
        let result: serde_json::Value = serde_json::from_slice(&std::fs::read(f.join("result.json")).unwrap()).unwrap();
        assert_eq!(result["run"]["id"], name, "run.id names its folder");
        let report = std::fs::read_to_string(f.join("report.md")).unwrap();
        assert!(
            report.contains(&format!("Run `{name}`")),
            "report.md belongs to another run"
        );
        assert!(
            report.contains(&format!("seed {}", result["seed"])),
            "report.md and result.json disagree on the seed"
        );
        seeds.push(result["seed"].as_u64().unwrap());
    }
    seeds.sort();
    assert_eq!(seeds, [13, 23]);
}
