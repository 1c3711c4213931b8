//! Faults in the middle of real PostgreSQL runs: the server killed, the
//! sessions terminated, a role's idle timeout closing the admin session,
//! and signals in every phase, on a local cluster the run starts and on a
//! server given by URL. Each checks what a user would: how soon the run
//! stops, that completed rounds are kept and the result is marked, and that
//! no process, temp folder or `schemabench_*` database is left.

mod common;

use schemabench::provision::{Server, local};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::bin;

/// A two-variant scenario on the orders workload with `rounds` windows of
/// `duration`; `a` and `b` are extra TOML lines for each variant.
fn scenario(dir: &Path, duration: &str, rounds: u32, orders: u64, a: &str, b: &str) -> PathBuf {
    let path = dir.join("faults.toml");
    std::fs::write(
        &path,
        format!(
            r#"name = "faults"
question = "q"
workload = "{}"
backends = ["postgres"]
[params]
users = 200
orders = {orders}
[load]
clients = 2
warmup = "100ms"
duration = "{duration}"
rounds = {rounds}
[mix]
order_by_id = 1
[[variant]]
name = "a"
{a}
[[variant]]
name = "b"
{b}
[verdict]
baseline = "a"
goal = {{ op = "order_by_id", metric = "p99" }}
"#,
            common::root().join("workloads/orders.toml").display()
        ),
    )
    .unwrap();
    path
}

/// A running `schemabench run` whose progress lines (stderr) are collected
/// as they come.
struct Watched {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    reader: std::thread::JoinHandle<()>,
    runs: PathBuf,
    work: PathBuf,
}

impl Watched {
    fn start(scenario: &Path, dir: &Path, args: &[&str]) -> Watched {
        let runs = dir.join("runs");
        let work = dir.join("work");
        std::fs::create_dir_all(&work).unwrap();
        let mut child = bin()
            .arg("run")
            .arg(scenario)
            .arg("--out")
            .arg(&runs)
            .arg("--work-dir")
            .arg(&work)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = lines.clone();
        let reader = std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(line);
            }
        });
        Watched {
            child,
            lines,
            reader,
            runs,
            work,
        }
    }

    /// Waits until a progress line contains `needle` (at most a minute).
    fn wait_for(&mut self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if self.lines.lock().unwrap().iter().any(|l| l.contains(needle)) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the run ended ({status}) before `{needle}`: {}", self.stderr());
            }
            assert!(Instant::now() < deadline, "no `{needle}` in: {}", self.stderr());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stderr(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    fn signal(&self, name: &str) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args([&format!("-{name}"), &pid])
                .status()
                .unwrap()
                .success()
        );
    }

    /// Waits for the exit; returns the code, the whole stderr and how long
    /// it took from now.
    fn finish(mut self) -> Finished {
        let since = Instant::now();
        let status = self.child.wait().unwrap();
        let took = since.elapsed();
        self.reader.join().unwrap();
        let stderr = self.lines.lock().unwrap().join("\n");
        Finished {
            code: status.code(),
            stderr,
            took,
            runs: self.runs,
            work: self.work,
        }
    }
}

struct Finished {
    code: Option<i32>,
    stderr: String,
    took: Duration,
    runs: PathBuf,
    work: PathBuf,
}

impl Finished {
    /// The run folder (the only one).
    fn folder(&self) -> PathBuf {
        let folders: Vec<PathBuf> = std::fs::read_dir(&self.runs)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(folders.len(), 1, "{folders:?}: {}", self.stderr);
        folders[0].clone()
    }

    fn result(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.folder().join("result.json")).unwrap()).unwrap()
    }

    /// Nothing in the work folder, no process mentioning it.
    fn assert_nothing_left(&self, what: &str) {
        let files: Vec<_> = std::fs::read_dir(&self.work).unwrap().collect();
        assert!(files.is_empty(), "{what}: files left in the work folder: {files:?}");
        let left = common::processes_mentioning(&self.work.display().to_string());
        assert!(left.is_empty(), "{what}: processes left running: {left:?}");
    }
}

/// The postmaster PID of the cluster a run started under `work`.
fn postmaster_pid(work: &Path) -> u32 {
    fn find(dir: &Path) -> Option<PathBuf> {
        for e in std::fs::read_dir(dir).ok()? {
            let p = e.ok()?.path();
            if p.file_name().is_some_and(|n| n == "postmaster.pid") {
                return Some(p);
            }
            if p.is_dir()
                && let Some(found) = find(&p)
            {
                return Some(found);
            }
        }
        None
    }
    let file = find(work).expect("a running cluster has a postmaster.pid");
    let text = std::fs::read_to_string(file).unwrap();
    text.lines().next().unwrap().trim().parse().unwrap()
}

/// A cluster started here, handed to runs by URL, with an admin connection.
struct External {
    cluster: local::LocalCluster,
    admin: schemabench::pgwire::Wire,
}

impl External {
    fn start() -> External {
        let bins = local::find_binaries().expect("PostgreSQL binaries");
        let cluster = local::LocalCluster::start(&bins, &Default::default()).unwrap();
        let admin = cluster.endpoint().connect("postgres").unwrap();
        External { cluster, admin }
    }

    fn url(&self, user: &str) -> String {
        format!(
            "postgres://{user}@127.0.0.1:{}/postgres",
            self.cluster.endpoint().port()
        )
    }

    fn query(&mut self, sql: &str) -> Vec<String> {
        self.admin
            .simple_query(sql)
            .unwrap()
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .collect()
    }

    fn schemabench_databases(&mut self) -> Vec<String> {
        self.query("SELECT datname FROM pg_database WHERE datname LIKE 'schemabench%' ORDER BY 1")
    }
}

#[test]
fn a_killed_server_stops_the_run_within_two_seconds_and_keeps_the_completed_rounds() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "2s", 3, 2000, "", "");
    let mut run = Watched::start(&path, dir.path(), &["--provisioner", "local"]);
    run.wait_for("round 2/3");
    std::thread::sleep(Duration::from_millis(800));
    let pid = postmaster_pid(&run.work);
    assert!(
        Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let done = run.finish();
    eprintln!("stopped {:?} after the server was killed", done.took);
    assert!(
        done.took < Duration::from_secs(2),
        "the run took {:?} to stop after the server was killed: {}",
        done.took,
        done.stderr
    );
    assert_eq!(done.code, Some(2), "{}", done.stderr);
    assert!(done.stderr.contains("the server stopped answering"), "{}", done.stderr);
    let result = done.result();
    assert_eq!(result["run"]["complete"], false);
    assert_eq!(result["run"]["fit_for_decisions"], false);
    assert!(result["run"]["failure"].as_str().unwrap().contains("stopped answering"));
    for v in result["backends"][0]["variants"].as_array().unwrap() {
        assert!(v["rounds_completed"].as_u64().unwrap() >= 1, "round 1 is kept: {v}");
    }
    done.assert_nothing_left("server killed");
}

#[test]
fn sessions_the_server_terminates_are_reopened_counted_and_make_the_run_unfit() {
    let mut server = External::start();
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), "3s", 1, 2000, "", "");
    let url = server.url("postgres");
    let mut run = Watched::start(
        &path,
        dir.path(),
        &["--provisioner", "url", "--postgres-url", &url, "--equal-load", "off"],
    );
    run.wait_for("round 1/1");
    std::thread::sleep(Duration::from_millis(500));
    // An administrator terminating the run's sessions for 1.5 s.
    let until = Instant::now() + Duration::from_millis(1500);
    let mut terminated = 0;
    while Instant::now() < until {
        terminated += server
            .query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname LIKE 'schemabench%' AND backend_type = 'client backend' \
                 AND pid <> pg_backend_pid()",
            )
            .len();
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(terminated > 0, "no session was terminated");
    let done = run.finish();
    let result = done.result();
    let variants = result["backends"][0]["variants"].as_array().unwrap();
    let lost: u64 = variants
        .iter()
        .flat_map(|v| v["ops"].as_array().unwrap())
        .filter_map(|o| o["errors"]["connection_lost"].as_u64())
        .sum();
    let reconnects: u64 = variants.iter().map(|v| v["reconnects"].as_u64().unwrap()).sum();
    eprintln!("{terminated} sessions terminated: {lost} operations lost their connection, {reconnects} reconnects");
    assert_eq!(result["run"]["complete"], true, "{}", done.stderr);
    assert_eq!(
        result["run"]["fit_for_decisions"], false,
        "lost {lost}: {}",
        done.stderr
    );
    let unfit = result["run"]["unfit_because"].to_string();
    assert!(unfit.contains("lost its connection"), "{unfit}");
    assert!(lost > 0 && reconnects > 0, "lost {lost}, reconnects {reconnects}");
    // Every window still measured: the sessions came back.
    for v in variants {
        let count: u64 = v["ops"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["count"].as_u64().unwrap())
            .sum();
        assert!(count > 100, "{}: {count} operations", v["name"]);
    }
    // Lost connections rule no variant out.
    let verdicts = result["comparison"]["verdicts"].to_string();
    assert!(!verdicts.contains("failed_operations"), "{verdicts}");
    let report = std::fs::read_to_string(done.folder().join("report.md")).unwrap();
    assert!(report.contains("Not fit for decisions"), "{report}");
    assert!(server.schemabench_databases().is_empty());
}

#[test]
fn an_idle_timeout_on_the_role_does_not_leave_databases_on_the_server() {
    let mut server = External::start();
    server.query("CREATE ROLE bench LOGIN SUPERUSER");
    server.query("ALTER ROLE bench SET idle_session_timeout = '1s'");
    let dir = tempfile::tempdir().unwrap();
    // Rounds of 1.5 s: the admin session idles past the timeout in each.
    let path = scenario(dir.path(), "1500ms", 2, 2000, "", "");
    let url = server.url("bench");
    let run = Watched::start(&path, dir.path(), &["--provisioner", "url", "--postgres-url", &url]);
    let done = run.finish();
    assert!(matches!(done.code, Some(0 | 1)), "{}", done.stderr);
    assert_eq!(done.result()["run"]["complete"], true, "{}", done.stderr);
    assert_eq!(server.schemabench_databases(), Vec::<String>::new(), "{}", done.stderr);
}

/// SIGINT, SIGTERM and SIGHUP while provisioning, loading, running a setup
/// statement, checking answers and measuring: each stops the run within
/// seconds, writes an interrupted result, and removes the cluster or the
/// databases.
fn signals_in_every_phase(args: &[String], mut server: Option<&mut External>) {
    // A read that sleeps 50 ms on both variants: the answer check takes
    // seconds (its rows differ from nothing: both variants run it).
    let slow = r#"ops.order_by_id = { sql = "SELECT id, pg_sleep(0.05)::text FROM orders WHERE id = $1" }"#;
    let phases: [(&str, u64, &str, &str, &str); 5] = [
        // No line yet: the server is being started (or connected to).
        ("provisioning", 2000, "", "", ""),
        ("loading", 3_000_000, "", "", "loading"),
        // Variant b's setup statement sleeps.
        (
            "setup",
            2000,
            "",
            "setup = [\"SELECT pg_sleep(60)\"]",
            "preparing variant b",
        ),
        ("answer check", 2000, slow, slow, "checking answers"),
        ("measurement", 2000, "", "", "round 1/2"),
    ];
    for (phase, orders, a, b, line) in phases {
        for sig in ["INT", "TERM", "HUP"] {
            let dir = tempfile::tempdir().unwrap();
            let path = scenario(dir.path(), "30s", 2, orders, a, b);
            let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
            args.push("--force");
            let mut run = Watched::start(&path, dir.path(), &args);
            if line.is_empty() {
                std::thread::sleep(Duration::from_millis(150));
            } else {
                run.wait_for(line);
                std::thread::sleep(Duration::from_millis(500));
            }
            run.signal(sig);
            let done = run.finish();
            let what = format!("SIG{sig} during {phase}");
            eprintln!("{what}: stopped after {:?}", done.took);
            assert!(done.took < Duration::from_secs(10), "{what}: took {:?}", done.took);
            assert_eq!(done.code, Some(2), "{what}: {}", done.stderr);
            let result = done.result();
            assert_eq!(result["run"]["interrupted"], true, "{what}");
            assert_eq!(result["run"]["complete"], false, "{what}");
            done.assert_nothing_left(&what);
            if let Some(server) = server.as_deref_mut() {
                assert_eq!(server.schemabench_databases(), Vec::<String>::new(), "{what}");
            }
        }
    }
}

#[test]
fn signals_in_every_phase_of_a_local_cluster_run_leave_nothing_behind() {
    signals_in_every_phase(&["--provisioner".into(), "local".into()], None);
}

#[test]
fn signals_in_every_phase_of_a_url_run_drop_its_databases() {
    let mut server = External::start();
    let args = [
        "--provisioner".into(),
        "url".into(),
        "--postgres-url".into(),
        server.url("postgres"),
    ];
    signals_in_every_phase(&args, Some(&mut server));
}
