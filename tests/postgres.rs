//! PostgreSQL end to end, against throwaway clusters started by the project's
//! own provisioner (and, for the `url` path, a cluster started here and
//! handed over by URL). Each run gets its own cluster or its own databases.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_schemabench"))
}

fn orders() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("workloads/orders.toml")
        .display()
        .to_string()
}

/// A scenario on the orders workload (300 users, 5,000 orders, 2 clients)
/// with `rest` after `[load]`: the mix, variants and verdict.
fn scenario_file(dir: &Path, file: &str, backends: &str, duration: &str, rounds: u32, rest: &str) -> PathBuf {
    let path = dir.join(file);
    let text = format!(
        "name = \"pg\"\nquestion = \"q\"\nworkload = \"{}\"\nbackends = {backends}\n[params]\nusers = 300\n\
         orders = 5000\n[load]\nclients = 2\nwarmup = \"100ms\"\nduration = \"{duration}\"\nrounds = {rounds}\n{rest}",
        orders()
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn scenario(dir: &Path, backends: &str, variants: &str, duration: &str) -> PathBuf {
    let rest = format!(
        "[mix]\nrecent_orders = 80\nplace_order = 20\n{variants}\n[verdict]\nbaseline = \"plain\"\n\
         goal = {{ op = \"recent_orders\", metric = \"p99\" }}\n"
    );
    scenario_file(dir, "pg.toml", backends, duration, 2, &rest)
}

const VARIANTS: &str = r#"
[[variant]]
name = "plain"
[[variant]]
name = "covering"
setup.postgres = ["CREATE INDEX orders_user_cov ON orders (user_id, created_at DESC, id DESC) INCLUDE (status, total)",
                  "CREATE INDEX orders_unused ON orders (note)"]
setup.sqlite = ["CREATE INDEX orders_user_cov ON orders (user_id, created_at DESC, id DESC, status, total)",
                "CREATE INDEX orders_unused ON orders (note)"]
"#;

/// Starts `schemabench run` on `scenario` in the background with a local
/// cluster in `work`, and waits until that cluster runs and then `settle`
/// more (so loading is over and measuring has begun).
fn start_run(scenario: &Path, runs: &Path, work: &Path, extra: &[&str], settle: std::time::Duration) -> Child {
    let mut child = bin()
        .arg("run")
        .arg(scenario)
        .args(["--provisioner", "local", "--out"])
        .arg(runs)
        .arg("--work-dir")
        .arg(work)
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while common::processes_mentioning(&work.display().to_string()).is_empty() {
        assert!(std::time::Instant::now() < deadline, "no server started");
        if let Ok(Some(status)) = child.try_wait() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
            panic!("the run ended early ({status}): {stderr}");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(settle);
    child
}

/// Sends SIGINT to `child` and waits for it; returns its output and how
/// long it took to exit.
fn interrupt(child: Child) -> (Output, std::time::Duration) {
    let sent = std::time::Instant::now();
    assert!(
        Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().unwrap();
    (out, sent.elapsed())
}

struct Run {
    _dir: tempfile::TempDir,
    work: PathBuf,
    runs: PathBuf,
    out: Output,
}

fn run(backends: &str, variants: &str, extra: &[&str]) -> Run {
    run_with_env(backends, variants, extra, &[])
}

/// [`run`] with environment variables set for the run.
fn run_with_env(backends: &str, variants: &str, extra: &[&str], env: &[(&str, String)]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let runs = dir.path().join("runs");
    let path = scenario(dir.path(), backends, variants, "300ms");
    let out = bin()
        .arg("run")
        .arg(&path)
        .args(["--json", "--out"])
        .arg(&runs)
        .arg("--work-dir")
        .arg(&work)
        .args(extra)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .unwrap();
    Run {
        _dir: dir,
        work,
        runs,
        out,
    }
}

fn assert_nothing_left(work: &Path) {
    assert_eq!(
        std::fs::read_dir(work).unwrap().count(),
        0,
        "files left in {}",
        work.display()
    );
    let left = common::processes_mentioning(&work.display().to_string());
    assert!(left.is_empty(), "processes left running: {left:?}");
}

#[test]
fn a_postgres_scenario_reports_plans_sizes_wal_and_cleans_up() {
    let r = run(r#"["postgres"]"#, VARIANTS, &["--provisioner", "local"]);
    let stderr = String::from_utf8_lossy(&r.out.stderr);
    assert_eq!(r.out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("local throwaway cluster"),
        "the provisioner is printed: {stderr}"
    );
    let result: serde_json::Value = serde_json::from_slice(&r.out.stdout).unwrap();
    let pg = &result["backends"][0];
    assert_eq!(pg["backend"], "postgres");
    assert_eq!(pg["load"]["rows"], 5300);
    let settings = pg["settings"].as_object().unwrap();
    assert_eq!(settings["fsync"], "on");
    assert_eq!(settings["provisioner"], "local");
    let covering = &pg["variants"][1];
    assert_eq!(covering["name"], "covering");
    let plan = covering["plans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["op"] == "recent_orders")
        .unwrap();
    let summary = plan["steps"][0]["summary"].as_str().unwrap();
    assert!(summary.contains("Index Only Scan using orders_user_cov"), "{summary}");
    let cache = plan["steps"][0]["plan_cache"].as_str().unwrap_or("");
    assert!(cache == "custom" || cache == "generic", "{plan}");
    assert_eq!(covering["unused_indexes"], serde_json::json!(["orders_unused"]));
    assert!(
        covering["sizes"]["objects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["name"] == "orders_user_cov")
    );
    let wal = covering["server_counters"]["wal_bytes_per_write"].as_f64().unwrap();
    assert!(wal > 50.0, "an insert writes WAL: {wal}");
    for v in pg["variants"].as_array().unwrap() {
        for op in v["ops"].as_array().unwrap() {
            assert!(op["count"].as_u64().unwrap() > 0);
        }
    }
    let folder = r.runs.join(result["run"]["id"].as_str().unwrap());
    let report = std::fs::read_to_string(folder.join("report.md")).unwrap();
    assert!(report.contains("**Unused index:** `orders_unused`"), "{report}");
    assert!(report.contains("Index Only Scan using orders_user_cov"));
    assert!(report.contains(" plan)"), "the plan cache's choice is shown: {report}");
    assert!(folder.join("plans/postgres-covering-recent_orders.json").is_file());
    assert_nothing_left(&r.work);
}

#[test]
fn both_engines_run_the_same_variants_and_are_compared() {
    let r = run(r#"["sqlite", "postgres"]"#, VARIANTS, &["--provisioner", "local"]);
    let stderr = String::from_utf8_lossy(&r.out.stderr);
    assert_eq!(r.out.status.code(), Some(0), "{stderr}");
    let result: serde_json::Value = serde_json::from_slice(&r.out.stdout).unwrap();
    let backends: Vec<&str> = result["backends"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["backend"].as_str().unwrap())
        .collect();
    assert_eq!(backends, ["sqlite", "postgres"]);
    // Identical generated data on both engines.
    assert_eq!(
        result["backends"][0]["load"]["data_checksum"],
        result["backends"][1]["load"]["data_checksum"]
    );
    assert_eq!(result["comparison"]["verdicts"].as_array().unwrap().len(), 2);
    let folder = r.runs.join(result["run"]["id"].as_str().unwrap());
    let report = std::fs::read_to_string(folder.join("report.md")).unwrap();
    assert!(report.contains("## Across engines (postgres vs sqlite)"), "{report}");
    assert!(report.contains("| covering | recent_orders |"));
    assert_nothing_left(&r.work);
}

#[test]
fn a_failing_setup_on_postgres_leaves_no_server_behind() {
    let variants =
        "[[variant]]\nname = \"plain\"\n[[variant]]\nname = \"bad\"\nsetup = [\"CREATE INDEX x ON orders (nope)\"]";
    let r = run(r#"["postgres"]"#, variants, &["--provisioner", "local"]);
    let stderr = String::from_utf8_lossy(&r.out.stderr);
    assert_eq!(r.out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("variant `bad`: setup statement 1"), "{stderr}");
    assert!(stderr.contains("column \"nope\" does not exist"), "{stderr}");
    assert_nothing_left(&r.work);
}

#[test]
fn an_interrupt_during_a_postgres_run_stops_the_server_and_keeps_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let runs = dir.path().join("runs");
    let path = scenario(dir.path(), r#"["postgres"]"#, VARIANTS, "30s");
    let child = start_run(&path, &runs, &work, &[], std::time::Duration::from_secs(4));
    let (out, _) = interrupt(child);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let folder = std::fs::read_dir(&runs).unwrap().next().unwrap().unwrap().path();
    let result: serde_json::Value =
        serde_json::from_slice(&std::fs::read(folder.join("result.json")).unwrap()).unwrap();
    assert_eq!(result["run"]["interrupted"], true);
    assert_nothing_left(&work);
}

#[test]
fn the_url_provisioner_drops_only_its_own_databases_and_never_shows_the_password() {
    use schemabench::provision::{Server, local};
    let bins = local::find_binaries().expect("PostgreSQL binaries");
    let cluster = local::LocalCluster::start(&bins, &Default::default()).unwrap();
    let port = cluster.endpoint().port();
    let mut admin = cluster.endpoint().connect("postgres").unwrap();
    admin.batch("CREATE DATABASE keep_me").unwrap();
    // Trust authentication accepts any password, so a secret can be passed.
    let url = format!("postgres://postgres:hunter2secret@127.0.0.1:{port}/postgres");
    let r = run(
        r#"["postgres"]"#,
        VARIANTS,
        &["--provisioner", "url", "--postgres-url", &url],
    );
    let stdout = String::from_utf8_lossy(&r.out.stdout);
    let stderr = String::from_utf8_lossy(&r.out.stderr);
    assert_eq!(r.out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("existing server postgres://postgres@127.0.0.1"),
        "{stderr}"
    );
    assert!(!stdout.contains("hunter2secret") && !stderr.contains("hunter2secret"));
    for entry in common::walk(&r.runs) {
        let text = std::fs::read_to_string(&entry).unwrap_or_default();
        assert!(!text.contains("hunter2secret"), "password in {}", entry.display());
    }
    let dbs: Vec<String> = admin
        .simple_query("SELECT datname FROM pg_database ORDER BY 1")
        .unwrap()
        .into_iter()
        .filter_map(|r| r.into_iter().next().flatten())
        .collect();
    assert!(dbs.contains(&"keep_me".to_string()), "{dbs:?}");
    assert!(
        !dbs.iter().any(|d| d.starts_with("schemabench_")),
        "left behind: {dbs:?}"
    );
    // A URL whose host is the socket folder: every connection, loading
    // included, goes through the socket.
    let socket = format!(
        "postgres://postgres@/postgres?host={}&port={port}&application_name=sbtest",
        cluster.dir().display()
    );
    let r = run(
        r#"["postgres"]"#,
        VARIANTS,
        &["--provisioner", "url", "--postgres-url", &socket, "--transport", "unix"],
    );
    let stderr = String::from_utf8_lossy(&r.out.stderr);
    assert_eq!(r.out.status.code(), Some(0), "{stderr}");
    let result: serde_json::Value = serde_json::from_slice(&r.out.stdout).unwrap();
    assert_eq!(result["backends"][0]["placement"]["transport"], "unix");
    // No URL at all: the PG* variables say where the server is.
    let env = [
        ("PGHOST", "127.0.0.1".to_string()),
        ("PGPORT", port.to_string()),
        ("PGUSER", "postgres".to_string()),
        ("PGDATABASE", "keep_me".to_string()),
    ];
    let r = run_with_env(r#"["postgres"]"#, VARIANTS, &["--provisioner", "url"], &env);
    let stderr = String::from_utf8_lossy(&r.out.stderr);
    assert_eq!(r.out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!("postgres://postgres@127.0.0.1:{port}/keep_me")),
        "{stderr}"
    );
}

/// The docker path end to end. Runs where `scripts/test.sh` (or the user)
/// provides a daemon and an image through DOCKER_HOST and
/// SCHEMABENCH_DOCKER_IMAGE; without them it reports why and passes.
#[test]
fn the_docker_provisioner_runs_a_scenario_and_removes_its_container() {
    let Ok(image) = std::env::var("SCHEMABENCH_DOCKER_IMAGE") else {
        eprintln!("skipped: SCHEMABENCH_DOCKER_IMAGE is not set (scripts/test.sh sets it)");
        return;
    };
    let containers = || -> usize {
        let out = Command::new("docker")
            .args(["ps", "-a", "-q"])
            .output()
            .expect("docker CLI");
        String::from_utf8_lossy(&out.stdout).lines().count()
    };
    let before = containers();
    let r = run(
        r#"["postgres"]"#,
        VARIANTS,
        &["--provisioner", "docker", "--docker-image", &image],
    );
    let stderr = String::from_utf8_lossy(&r.out.stderr);
    assert_eq!(r.out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!("docker container {image} (host network)")),
        "{stderr}"
    );
    let result: serde_json::Value = serde_json::from_slice(&r.out.stdout).unwrap();
    assert_eq!(result["backends"][0]["settings"]["provisioner"], "docker");
    assert!(
        result["backends"][0]["variants"][1]["ops"][0]["count"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert_eq!(containers(), before, "a container was left behind");
}

fn read_only_scenario(dir: &Path) -> PathBuf {
    let rest = "[mix]\nrecent_orders = 1\n[[variant]]\nname = \"plain\"\n";
    scenario_file(dir, "reads.toml", r#"["postgres"]"#, "500ms", 1, rest)
}

#[test]
fn a_pipelined_run_over_the_unix_socket_is_reported_as_its_own_load_model() {
    let dir = tempfile::tempdir().unwrap();
    let path = read_only_scenario(dir.path());
    let out = bin()
        .arg("run")
        .arg(&path)
        .args([
            "--json",
            "--provisioner",
            "local",
            "--transport",
            "unix",
            "--pipeline",
            "4",
            "--out",
        ])
        .arg(dir.path().join("runs"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["scenario"]["load"]["model"]["depth"], 4);
    let op = &result["backends"][0]["variants"][0]["ops"][0];
    assert!(op["count"].as_u64().unwrap() > 100, "{op}");
    assert_eq!(op["errors"].as_object().map_or(0, |e| e.len()), 0, "{op}");
    assert!(
        stderr.contains("pipelined"),
        "the terminal summary names the load model: {stderr}"
    );
    let folder = common::walk(&dir.path().join("runs"))
        .into_iter()
        .find(|p| p.ends_with("report.md"))
        .unwrap();
    let report = std::fs::read_to_string(folder).unwrap();
    assert!(
        report.contains("pipelined closed loop, 2 clients with 4 requests in flight each"),
        "{report}"
    );
}

#[test]
fn pipelining_a_write_or_an_embedded_engine_is_refused_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario(dir.path(), r#"["postgres"]"#, VARIANTS, "300ms");
    let out = bin().arg("run").arg(&path).args(["--pipeline", "4"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`place_order` is not a read"), "{stderr}");

    let path = scenario(dir.path(), r#"["sqlite"]"#, VARIANTS, "300ms");
    let out = bin().arg("run").arg(&path).args(["--pipeline", "4"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("only PostgreSQL sessions can pipeline"), "{stderr}");
}

#[test]
fn selfbench_puts_pgbench_and_schemabench_side_by_side_for_every_configuration() {
    let out = bin()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["selfbench", "--duration", "1s", "--pairs", "1", "--clients", "2"])
        .args([
            "--tpcb-clients",
            "1",
            "--pipeline",
            "4",
            "--load-pairs",
            "1",
            "--scale",
            "1",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for row in [
        "| select-only, tcp, c=2 |",
        "| select-only, unix, c=2 |",
        "| select-only, tcp, c=2, pipelined ×4 |",
        "| select-only, unix, c=2, pipelined ×4 |",
        "| TPC-B-like, tcp, c=1 |",
    ] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(row))
            .unwrap_or_else(|| panic!("{row} in\n{stdout}"));
        // TPS of both sides, the ratios, CPU per op: all measured, none zero.
        let cells: Vec<f64> = line
            .split('|')
            .skip(2)
            .filter_map(|c| c.trim().trim_end_matches('×').split(" / ").next()?.parse().ok())
            .collect();
        assert_eq!(cells.len(), 11, "{line}");
        assert!(cells.iter().all(|v| v.is_finite() && *v > 0.0), "{line}");
    }
    assert!(
        stdout.contains("Load of 100000 accounts incl. primary keys"),
        "{stdout}"
    );
    assert!(stdout.contains("vCPUs"), "the machine is described: {stdout}");
}

/// Runs `scenario` on a local cluster with three clients per CPU, so that
/// clients share threads; returns the exit code, the client count and the
/// parsed result.
fn run_oversubscribed(dir: &Path, scenario: &Path) -> (Option<i32>, String, serde_json::Value) {
    let clients = (std::thread::available_parallelism().map_or(1, |n| n.get()) * 3).to_string();
    let out = bin()
        .arg("run")
        .arg(scenario)
        .args(["--json", "--provisioner", "local", "--clients", &clients, "--out"])
        .arg(dir.join("runs"))
        .output()
        .unwrap();
    let result =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code(), clients, result)
}

#[test]
fn more_clients_than_cpus_share_threads_and_every_client_still_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = read_only_scenario(dir.path());
    let (code, clients, result) = run_oversubscribed(dir.path(), &path);
    assert_eq!(code, Some(0), "{result}");
    assert_eq!(result["run"]["load_model"], format!("closed loop, {clients} clients"));
    let op = &result["backends"][0]["variants"][0]["ops"][0];
    assert!(op["count"].as_u64().unwrap() > 100, "{op}");
    assert_eq!(op["errors"].as_object().map_or(0, |e| e.len()), 0, "{op}");
    assert!(op["rows"].as_u64().unwrap() > 0, "{op}");
}

#[test]
fn multiplexed_transactions_run_every_statement_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tpcb.toml");
    let workload = Path::new(env!("CARGO_MANIFEST_DIR")).join("workloads/tpcb.toml");
    std::fs::write(
        &path,
        format!(
            "name = \"t\"\nquestion = \"q\"\nworkload = \"{}\"\nbackends = [\"postgres\"]\n[params]\nscale = 1\n\
             [load]\nwarmup = \"100ms\"\nduration = \"1s\"\nrounds = 1\n[mix]\ntpcb = 1\n[[variant]]\nname = \"v\"\n",
            workload.display()
        ),
    )
    .unwrap();
    let (code, _, result) = run_oversubscribed(dir.path(), &path);
    assert_eq!(code, Some(0), "{result}");
    let op = &result["backends"][0]["variants"][0]["ops"][0];
    let count = op["count"].as_u64().unwrap();
    assert!(count > 50, "{op}");
    assert_eq!(op["errors"].as_object().map_or(0, |e| e.len()), 0, "{op}");
    // One row per transaction: its SELECT of the account balance.
    assert_eq!(op["rows"].as_u64().unwrap(), count, "{op}");
}

#[test]
fn a_failed_statement_in_a_multiplexed_transaction_is_rolled_back_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("w.toml"),
        r#"name = "w"
[schema]
postgres = ["CREATE TABLE t (id bigint PRIMARY KEY, n bigint NOT NULL)"]
[[table]]
name = "t"
rows = "100"
columns.id = "seq"
columns.n = "0"
[[op]]
name = "bump"
transaction = true
vars.id = "uniform(1, 100)"
vars.d = "uniform(1, 10)"
[[op.step]]
sql = "UPDATE t SET n = n + 1 WHERE id = $1"
args = ["id"]
[[op.step]]
sql = "SELECT 1 / ($1 - 3)"
args = ["d"]
"#,
    )
    .unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(
        &path,
        "name = \"s\"\nquestion = \"q\"\nworkload = \"w.toml\"\nbackends = [\"postgres\"]\n\
         [load]\nwarmup = \"100ms\"\nduration = \"1s\"\nrounds = 1\n[mix]\nbump = 1\n[[variant]]\nname = \"v\"\n",
    )
    .unwrap();
    let (code, _, result) = run_oversubscribed(dir.path(), &path);
    // Failed operations make the exit code 1; the run itself completes.
    assert_eq!(code, Some(1), "{result}");
    let op = &result["backends"][0]["variants"][0]["ops"][0];
    let ok = op["count"].as_u64().unwrap() as f64;
    let failed = op["errors"]["other"].as_u64().unwrap_or(0) as f64;
    // One draw in ten divides by zero. Without the ROLLBACK every later
    // statement on that connection would fail ("transaction is aborted").
    let share = failed / (ok + failed);
    assert!((0.03..0.25).contains(&share), "{share} failed: {op}");
    assert!(
        op["first_error"].as_str().unwrap_or("").contains("division by zero"),
        "{op}"
    );
}

/// A workload with a fast read and a read that sleeps for ten minutes, and a
/// scenario mixing them on a local cluster, measuring for `duration`.
fn hanging_scenario(dir: &Path, op_timeout: &str, duration: &str) -> PathBuf {
    std::fs::write(
        dir.join("w.toml"),
        r#"name = "w"
[schema]
postgres = ["CREATE TABLE t (id bigint PRIMARY KEY)"]
[[table]]
name = "t"
rows = "10"
columns.id = "seq"
[[op]]
name = "fast"
sql = "SELECT id FROM t WHERE id = $1"
params = ["uniform(1, 10)"]
[[op]]
name = "hang"
sql = "SELECT pg_sleep(600)"
check = "none"
"#,
    )
    .unwrap();
    let path = dir.join("s.toml");
    std::fs::write(
        &path,
        format!(
            "name = \"s\"\nquestion = \"q\"\nworkload = \"w.toml\"\nbackends = [\"postgres\"]\n\
             [load]\nclients = 2\nwarmup = \"100ms\"\nduration = \"{duration}\"\nrounds = 1\nop_timeout = \"{op_timeout}\"\n\
             [mix]\nfast = 200\nhang = 1\n[[variant]]\nname = \"v\"\n"
        ),
    )
    .unwrap();
    path
}

#[test]
fn a_hung_statement_is_counted_as_a_timeout_and_the_run_ends_normally() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let path = hanging_scenario(dir.path(), "1s", "3s");
    let started = std::time::Instant::now();
    let out = bin()
        .arg("run")
        .arg(&path)
        .args(["--json", "--provisioner", "local", "--out"])
        .arg(dir.path().join("runs"))
        .arg("--work-dir")
        .arg(&work)
        .output()
        .unwrap();
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Failed operations are a finding (exit 1); the run itself completed.
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(took < std::time::Duration::from_secs(120), "{took:?}");
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["run"]["complete"], true);
    let ops = result["backends"][0]["variants"][0]["ops"].as_array().unwrap();
    let hang = ops
        .iter()
        .find(|o| o["op"] == "hang")
        .expect("the hanging op is reported");
    assert!(hang["errors"]["timeout"].as_u64().unwrap_or(0) >= 1, "{hang}");
    assert_eq!(hang["count"].as_u64().unwrap_or(0), 0, "{hang}");
    let fast = ops.iter().find(|o| o["op"] == "fast").unwrap();
    assert!(fast["count"].as_u64().unwrap() > 10, "{fast}");
    assert_eq!(result["scenario"]["load"]["op_timeout_ms"], 1000);
    assert_nothing_left(&work);
}

#[test]
fn ctrl_c_during_a_hung_statement_ends_the_run_within_seconds_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let path = hanging_scenario(dir.path(), "off", "60s");
    // The plan evidence runs the sleeping operation first (no time limit
    // here), then the mix: a few seconds after start a statement sleeps.
    let child = start_run(
        &path,
        &dir.path().join("runs"),
        &work,
        &["--quiet"],
        std::time::Duration::from_secs(5),
    );
    let (out, took) = interrupt(child);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(took < std::time::Duration::from_secs(5), "exit took {took:?}: {stderr}");
    assert_nothing_left(&work);
}

/// A CA and a server certificate for `localhost` (no IP address in it), as
/// PEM: (CA certificate, server certificate, server key).
fn test_certificates() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "schemabench test CA");
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    (ca.pem(), server.pem(), key.serialize_pem())
}

#[test]
fn tls_verify_full_runs_a_scenario_on_a_hostssl_only_server_and_plain_text_is_refused() {
    use schemabench::pgwire::{ConnInfo, Wire};
    use schemabench::provision::{Server, local};
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let bins = local::find_binaries().expect("PostgreSQL binaries");
    let cluster = local::LocalCluster::start(&bins, &Default::default()).unwrap();
    let port = cluster.endpoint().port();
    // Certificate files in the cluster's folder, owned by the server's user.
    let (ca, cert, key) = test_certificates();
    let owner = std::fs::metadata(cluster.dir()).unwrap();
    for (name, pem) in [("ca.pem", &ca), ("server.crt", &cert), ("server.key", &key)] {
        let path = cluster.dir().join(name);
        std::fs::write(&path, pem).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::chown(&path, Some(owner.uid()), Some(owner.gid())).unwrap();
    }
    let hba = cluster.dir().join("data/pg_hba.conf");
    std::fs::write(
        &hba,
        "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostssl all all ::1/128 trust\n",
    )
    .unwrap();
    let mut admin = cluster.endpoint().connect("postgres").unwrap();
    let dir = cluster.dir().display().to_string();
    for sql in [
        format!("ALTER SYSTEM SET ssl_cert_file = '{dir}/server.crt'"),
        format!("ALTER SYSTEM SET ssl_key_file = '{dir}/server.key'"),
        "ALTER SYSTEM SET ssl = on".to_string(),
        "SELECT pg_reload_conf()".to_string(),
    ] {
        admin.batch(&sql).unwrap();
    }
    drop(admin);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let ca_path = cluster.dir().join("ca.pem").display().to_string();

    // What each sslmode does against this server.
    let connect = |host: &str, mode: &str, root: bool| {
        let root = if root {
            format!("&sslrootcert={ca_path}")
        } else {
            String::new()
        };
        let url = format!("postgres://postgres@{host}:{port}/postgres?sslmode={mode}{root}");
        Wire::connect(&ConnInfo::parse(&url).unwrap()).map(|w| w.is_tls())
    };
    assert_eq!(connect("localhost", "verify-full", true), Ok(true));
    assert_eq!(
        connect("127.0.0.1", "verify-ca", true),
        Ok(true),
        "verify-ca ignores the name"
    );
    assert_eq!(
        connect("127.0.0.1", "require", false),
        Ok(true),
        "require alone checks nothing"
    );
    assert_eq!(connect("127.0.0.1", "prefer", false), Ok(true));
    let wrong_name = connect("127.0.0.1", "verify-full", true).unwrap_err().to_string();
    assert!(wrong_name.contains("certificate"), "{wrong_name}");
    let unknown_ca = connect("localhost", "verify-full", false).unwrap_err().to_string();
    assert!(
        unknown_ca.contains("certificate") || unknown_ca.contains("root"),
        "{unknown_ca}"
    );
    let plain = connect("127.0.0.1", "disable", false).unwrap_err().to_string();
    assert!(
        plain.contains("no pg_hba.conf entry") && plain.contains("no encryption"),
        "{plain}"
    );

    // A whole run over verify-full: load, setup, sessions, EXPLAIN, sizes.
    let url = format!(
        "postgres://postgres@localhost:{port}/postgres?sslmode=verify-full&sslrootcert={ca_path}\
         &options=-c%20work_mem%3D7MB"
    );
    let r = run(
        r#"["postgres"]"#,
        VARIANTS,
        &["--provisioner", "url", "--postgres-url", &url],
    );
    let stderr = String::from_utf8_lossy(&r.out.stderr);
    assert_eq!(r.out.status.code(), Some(0), "{stderr}");
    let result: serde_json::Value = serde_json::from_slice(&r.out.stdout).unwrap();
    let pg = &result["backends"][0];
    assert_eq!(pg["settings"]["connection tls"], "on");
    assert_eq!(pg["settings"]["ssl"], "on");
    assert_eq!(pg["settings"]["work_mem"], "7168 kB", "`options` reach the server");
    assert!(pg["variants"][1]["ops"][0]["count"].as_u64().unwrap() > 0);
    // The same run with sslmode=disable fails with the server's own words.
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres?sslmode=disable");
    let r = run(
        r#"["postgres"]"#,
        VARIANTS,
        &["--provisioner", "url", "--postgres-url", &url],
    );
    let stderr = String::from_utf8_lossy(&r.out.stderr);
    assert_eq!(r.out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no pg_hba.conf entry"), "{stderr}");
}
