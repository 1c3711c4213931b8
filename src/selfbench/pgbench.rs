//! Running pgbench beside schemabench on the same server.

use crate::provision::local::Binaries;
use crate::provision::{Endpoint, Transport};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// pgbench's built-in scripts that schemabench's `tpcb` workload mirrors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    /// `-S`: one primary-key read of pgbench_accounts.
    SelectOnly,
    /// The default TPC-B-like transaction.
    TpcB,
}

impl Script {
    /// The matching operation in workloads/tpcb.toml.
    pub fn op(self) -> &'static str {
        match self {
            Script::SelectOnly => "select_only",
            Script::TpcB => "tpcb",
        }
    }
}

/// What one pgbench run reported.
#[derive(Debug, Clone)]
pub struct PgbenchRun {
    pub tps: f64,
    pub transactions: u64,
}

pub struct Pgbench {
    program: PathBuf,
}

impl Pgbench {
    pub fn new(bins: &Binaries) -> Self {
        Pgbench {
            program: bins.path("pgbench"),
        }
    }

    fn command(&self, endpoint: &Endpoint, transport: Transport) -> Command {
        let mut c = Command::new(&self.program);
        let host = match (transport, &endpoint.socket_dir) {
            (Transport::Unix, Some(dir)) => dir.display().to_string(),
            _ => endpoint.conn.host.to_string(),
        };
        c.args([
            "-h",
            &host,
            "-p",
            &endpoint.port().to_string(),
            "-U",
            &endpoint.conn.user,
        ]);
        if let Some(p) = &endpoint.conn.password {
            c.env("PGPASSWORD", p);
        }
        c
    }

    /// `pgbench -i -q -s scale db` (tables, data, vacuum, primary keys).
    pub fn init(&self, endpoint: &Endpoint, db: &str, scale: u32) -> Result<(), String> {
        let out = self
            .command(endpoint, Transport::Tcp)
            .args(["-i", "-q", "-s", &scale.to_string(), db])
            .output()
            .map_err(|e| format!("cannot run pgbench: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "pgbench -i failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(())
    }

    /// A timed run: `-M prepared`, `-n` (no vacuum), `-j min(clients, cpus)`.
    pub fn run(
        &self,
        endpoint: &Endpoint,
        transport: Transport,
        db: &str,
        script: Script,
        clients: u32,
        duration: Duration,
    ) -> Result<PgbenchRun, String> {
        let threads = clients.min(std::thread::available_parallelism().map_or(2, |n| n.get() as u32));
        let mut c = self.command(endpoint, transport);
        c.args([
            "-n",
            "-M",
            "prepared",
            "-c",
            &clients.to_string(),
            "-j",
            &threads.to_string(),
        ]);
        c.args(["-T", &duration.as_secs().max(1).to_string()]);
        if script == Script::SelectOnly {
            c.arg("-S");
        }
        let out = c.arg(db).output().map_err(|e| format!("cannot run pgbench: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            return Err(format!(
                "pgbench failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        parse(&text).ok_or_else(|| format!("cannot read pgbench's output:\n{text}"))
    }
}

/// Reads TPS and the transaction count from pgbench's summary.
fn parse(text: &str) -> Option<PgbenchRun> {
    let number = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.split('/').next())
            .and_then(|n| n.parse::<f64>().ok())
    };
    Some(PgbenchRun {
        tps: number("tps = ")?,
        transactions: number("number of transactions actually processed: ")? as u64,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_pgbench_15_output() {
        let text = "transaction type: <builtin: select only>\nscaling factor: 10\nquery mode: prepared\n\
                    number of clients: 2\nnumber of threads: 2\nmaximum number of tries: 1\nduration: 20 s\n\
                    number of transactions actually processed: 1401234\n\
                    number of failed transactions: 0 (0.000%)\nlatency average = 0.028 ms\n\
                    initial connection time = 3.611 ms\ntps = 70061.734214 (without initial connection time)\n";
        let r = super::parse(text).unwrap();
        assert_eq!(r.transactions, 1_401_234);
        assert!((r.tps - 70061.734214).abs() < 1e-6);
        assert!(super::parse("nothing here").is_none());
    }
}
