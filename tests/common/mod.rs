//! What several integration tests share: the binary, and small scenarios
//! over `workloads/orders.toml` written into a temp folder.

#![allow(dead_code)] // each test binary uses its own part

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_schemabench"))
}

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// What a command printed: stdout, then stderr.
pub fn printed(out: &std::process::Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Writes `<dir>/<name>.toml`: a scenario named `name` on the orders
/// workload (200 users, 2,000 orders, 2 clients, 50 ms warmup) with
/// `duration` and `rounds`, then `body` (mix, variants, verdict, ...).
pub fn orders_scenario(dir: &Path, name: &str, duration: &str, rounds: u32, body: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(
        &path,
        format!(
            r#"name = "{name}"
question = "q"
workload = "{}"
[params]
users = 200
orders = 2000
[load]
clients = 2
warmup = "50ms"
duration = "{duration}"
rounds = {rounds}
{body}
"#,
            root().join("workloads/orders.toml").display()
        ),
    )
    .unwrap();
    path
}

/// Two identical variants `a` and `b` reading orders by id
/// (`orders_scenario`): for tests about a run, not a design.
pub fn two_variant_scenario(dir: &Path, name: &str, duration: &str, rounds: u32) -> PathBuf {
    orders_scenario(
        dir,
        name,
        duration,
        rounds,
        r#"[mix]
order_by_id = 1
[[variant]]
name = "a"
[[variant]]
name = "b"
[verdict]
baseline = "a"
goal = { op = "order_by_id", metric = "p99" }"#,
    )
}

/// A one-variant scenario on PostgreSQL only (`orders_scenario` with
/// `order_by_id` as the mix): for tests about the server, not the design.
pub fn postgres_scenario(dir: &Path, name: &str, duration: &str) -> PathBuf {
    let path = orders_scenario(
        dir,
        name,
        duration,
        1,
        r#"[mix]
order_by_id = 1
[[variant]]
name = "a"
[verdict]
baseline = "a"
goal = { op = "order_by_id", metric = "p99" }"#,
    );
    // `backends` is a top-level key: it goes before the first table.
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("backends = [\"postgres\"]\n{text}")).unwrap();
    path
}

/// What a run on a local PostgreSQL cluster left: exit code, stdout and
/// stderr together, result.json, and the run folder (inside `dir`).
pub struct PgRun {
    pub code: Option<i32>,
    pub text: String,
    pub result: serde_json::Value,
    pub folder: PathBuf,
    pub dir: tempfile::TempDir,
}

/// Runs a PostgreSQL-only scenario on `workload` (a file under
/// `workloads/`) whose remaining keys are `body` (params, load, mix,
/// variants, verdict), on a throwaway local cluster.
pub fn run_postgres(workload: &str, body: &str) -> PgRun {
    run_postgres_on(workload, body, &["--provisioner", "local"])
}

/// [`run_postgres`] with `server` as the arguments that say where
/// PostgreSQL comes from (e.g. `--provisioner url --postgres-url ...`).
pub fn run_postgres_on(workload: &str, body: &str, server: &[&str]) -> PgRun {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("scenario.toml");
    std::fs::write(
        &scenario,
        format!(
            "name = \"s\"\nquestion = \"q\"\nworkload = \"{}\"\nbackends = [\"postgres\"]\n{body}\n",
            root().join("workloads").join(workload).display()
        ),
    )
    .unwrap();
    let runs = dir.path().join("runs");
    let out = bin()
        .args(["run", "--quiet"])
        .args(server)
        .arg("--out")
        .arg(&runs)
        .arg(&scenario)
        .output()
        .unwrap();
    let text = printed(&out);
    let folder = std::fs::read_dir(&runs)
        .unwrap_or_else(|e| panic!("no run folder ({e}):\n{text}"))
        .next()
        .unwrap_or_else(|| panic!("no run folder:\n{text}"))
        .unwrap()
        .path();
    let result = serde_json::from_slice(&std::fs::read(folder.join("result.json")).unwrap()).unwrap();
    PgRun {
        code: out.status.code(),
        text,
        result,
        folder,
        dir,
    }
}

/// Every file under `dir`, recursively.
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Processes whose command line mentions `needle` (a run's work folder).
pub fn processes_mentioning(needle: &str) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(needle))
                .unwrap_or(false)
        })
        .collect()
}
