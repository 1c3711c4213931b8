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
