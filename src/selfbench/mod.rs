//! `schemabench selfbench`: the harness against pgbench on one throwaway
//! cluster. pgbench (C, libpq) and schemabench's own worker path run the
//! same scripts on pgbench's tables, alternating A B A B with an idle wait
//! before each run; per run it records TPS, the client's CPU per operation
//! (pgbench: its reaped process; schemabench: this process) and the
//! server's CPU per operation (postmaster and backends from /proc). It also
//! times `pgbench -i` against schemabench's loader on the same tables.
//! `scripts/bench-vs-pgbench.sh` runs it and docs/performance.md holds the
//! figures.

pub mod cpu;
pub mod pgbench;

use crate::backend::postgres::PostgresEngine;
use crate::backend::{BackendError, BackendKind, BaseSpec, Engine};
use crate::provision::local::{Binaries, LocalCluster};
use crate::provision::url::UrlServer;
use crate::provision::{Endpoint, Request, Transport};
use crate::run::{Mix, RunOptions, RunPlan};
use crate::scenario::Scenario;
use pgbench::{Pgbench, Script};
use std::fmt::Write as _;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

/// What to measure.
#[derive(Debug, Clone)]
pub struct Options {
    /// Length of every timed run.
    pub duration: Duration,
    /// A B pairs per configuration.
    pub pairs: u32,
    /// Client counts for the select-only comparison.
    pub clients: Vec<u32>,
    pub transports: Vec<Transport>,
    /// Client counts for the TPC-B-like comparison (TCP).
    pub tpcb_clients: Vec<u32>,
    /// Requests in flight per connection for the pipelined rows (select-only,
    /// 2 clients); 0 or 1 skips them.
    pub pipeline: u32,
    /// Alternating `pgbench -i` / schemabench load pairs (0 skips).
    pub load_pairs: u32,
    /// pgbench scale (100,000 accounts per unit).
    pub scale: u32,
    /// Wait for at least this idle fraction of the machine before each run.
    pub idle: f64,
    /// schemabench's per-operation time limit (`None`: the scenario's, 30 s
    /// by default; zero: none, so sessions set no `statement_timeout`).
    pub op_timeout: Option<Duration>,
    /// Cancelled to stop early (the binary cancels it on Ctrl-C).
    pub cancel: crate::cancel::CancelToken,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            duration: Duration::from_secs(20),
            pairs: 3,
            clients: vec![1, 2, 8],
            transports: vec![Transport::Tcp, Transport::Unix],
            tpcb_clients: vec![1, 8],
            pipeline: 8,
            load_pairs: 3,
            scale: 10,
            idle: 0.9,
            op_timeout: None,
            cancel: Default::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SelfbenchError {
    #[error(
        "selfbench needs PostgreSQL's programs (initdb, postgres, pgbench); scripts/install-backends.sh installs them"
    )]
    NoBinaries,
    #[error(transparent)]
    Provision(#[from] crate::provision::ProvisionError),
    #[error(transparent)]
    Backend(#[from] BackendError),
    #[error(transparent)]
    Plan(#[from] crate::run::PlanError),
    #[error("{0}")]
    Pgbench(String),
}

/// One side of one run.
#[derive(Debug, Clone, Copy)]
pub struct Side {
    pub tps: f64,
    /// Client CPU per operation, µs.
    pub client_us: f64,
    /// Server CPU per operation, µs.
    pub server_us: f64,
    /// Client context switches per operation.
    pub switches: f64,
}

/// One A B pair.
#[derive(Debug, Clone, Copy)]
pub struct Pair {
    pub pgbench: Side,
    pub ours: Side,
    pub p50_us: f64,
    pub p99_us: f64,
}

/// One configuration's pairs.
#[derive(Debug, Clone)]
pub struct Row {
    pub script: Script,
    pub transport: Transport,
    pub clients: u32,
    /// Requests in flight per connection on schemabench's side (pgbench: 1).
    pub pipeline: u32,
    pub pairs: Vec<Pair>,
}

/// Load timings, seconds.
#[derive(Debug, Clone, Default)]
pub struct LoadTimes {
    pub pgbench: Vec<f64>,
    pub ours: Vec<f64>,
}

#[derive(Debug, Clone)]
pub struct Report {
    pub machine: String,
    pub server: String,
    pub options: Options,
    pub rows: Vec<Row>,
    pub load: LoadTimes,
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

impl Row {
    fn label(&self) -> String {
        let script = match self.script {
            Script::SelectOnly => "select-only",
            Script::TpcB => "TPC-B-like",
        };
        let pipe = if self.pipeline > 1 {
            format!(", pipelined ×{}", self.pipeline)
        } else {
            String::new()
        };
        format!("{script}, {}, c={}{pipe}", self.transport.as_str(), self.clients)
    }

    /// Median over pairs of `f(pair)`.
    pub fn median(&self, f: impl Fn(&Pair) -> f64) -> f64 {
        median(self.pairs.iter().map(f).collect())
    }
}

impl Report {
    /// The Markdown table for docs/performance.md.
    pub fn markdown(&self, command: &str) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "Machine: {}. Server: {}.", self.machine, self.server);
        let _ = writeln!(
            s,
            "Command: `{command}` ({} pairs of {} s per row, alternating pgbench then schemabench, idle wait before each run; \
             medians of the pairs, ratios are medians of per-pair ratios).\n",
            self.options.pairs,
            self.options.duration.as_secs()
        );
        s.push_str(
            "| configuration | pgbench TPS | schemabench TPS | TPS ratio | client µs/op pgbench | client µs/op schemabench | client ratio | server µs/op under pgbench | server µs/op under schemabench | server ratio | client context switches/op pgbench / schemabench | schemabench p50 / p99 µs |\n",
        );
        s.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for r in &self.rows {
            let _ = writeln!(
                s,
                "| {} | {:.0} | {:.0} | {:.2}× | {:.1} | {:.1} | {:.2}× | {:.1} | {:.1} | {:.2}× | {:.2} / {:.2} | {:.0} / {:.0} |",
                r.label(),
                r.median(|p| p.pgbench.tps),
                r.median(|p| p.ours.tps),
                r.median(|p| p.ours.tps / p.pgbench.tps),
                r.median(|p| p.pgbench.client_us),
                r.median(|p| p.ours.client_us),
                r.median(|p| p.ours.client_us / p.pgbench.client_us),
                r.median(|p| p.pgbench.server_us),
                r.median(|p| p.ours.server_us),
                r.median(|p| p.ours.server_us / p.pgbench.server_us),
                r.median(|p| p.pgbench.switches),
                r.median(|p| p.ours.switches),
                r.median(|p| p.p50_us),
                r.median(|p| p.p99_us),
            );
        }
        if !self.load.pgbench.is_empty() {
            let paired = self
                .load
                .ours
                .iter()
                .zip(&self.load.pgbench)
                .map(|(o, p)| o / p)
                .collect();
            let _ = writeln!(
                s,
                "\nLoad of {} accounts incl. primary keys: `pgbench -i -s {}` median {:.2} s, schemabench median {:.2} s \
                 ({:.2}× as the median of {} paired runs).",
                self.options.scale as u64 * 100_000,
                self.options.scale,
                median(self.load.pgbench.clone()),
                median(self.load.ours.clone()),
                median(paired),
                self.load.pgbench.len()
            );
        }
        s
    }
}

/// The machine and where the client ran, from the same detection every
/// run result records.
fn machine() -> String {
    let e = crate::environment::Environment::detect();
    format!(
        "{} vCPUs ({}), {}, {}, client and server on the same host, client {}",
        e.host_cpus,
        e.cpu_model,
        crate::util::format_bytes(e.memory_bytes),
        e.os,
        e.client_placement
    )
}

/// Runs the whole comparison; `say` receives one line per run.
pub fn run(scenario: &Scenario, options: &Options, say: &dyn Fn(&str)) -> Result<Report, SelfbenchError> {
    let bins = crate::provision::local::find_binaries().ok_or(SelfbenchError::NoBinaries)?;
    let request = Request {
        settings: vec![("shared_buffers".into(), "1GB".into())],
        ..Request::default()
    };
    let cluster = LocalCluster::start(&bins, &request)?;
    let endpoint = crate::provision::Server::endpoint(&cluster).clone();
    let server = format!("{}, shared_buffers 1GB", crate::provision::Server::describe(&cluster));
    let pid = cluster.pid();
    let pgbench = Pgbench::new(&bins);
    let mut report = Report {
        machine: machine(),
        server,
        options: options.clone(),
        rows: Vec::new(),
        load: LoadTimes::default(),
    };

    if options.load_pairs > 0 {
        report.load = compare_loads(&bins, &endpoint, scenario, options, say)?;
    }

    say(&format!("pgbench -i -s {} ...", options.scale));
    create_database(&endpoint, "pgbench")?;
    pgbench
        .init(&endpoint, "pgbench", options.scale)
        .map_err(SelfbenchError::Pgbench)?;
    let base_plan = plan(scenario, options, 1, 1)?;
    let mut engine = PostgresEngine::on(Box::new(UrlServer::existing(endpoint.clone())?), Transport::Tcp)?;
    say("schemabench loads the same tables ...");
    engine.load_base(
        &BaseSpec::for_workload(&scenario.workload, BackendKind::Postgres),
        &base_plan.bound.tables,
        base_plan.seed,
        &|_| {},
    )?;
    let target = &base_plan.targets[0];
    engine.create_variant(&target.name, &target.setup)?;

    let mut configs: Vec<(Script, Transport, u32, u32)> = Vec::new();
    for &t in &options.transports {
        for &c in options.clients.iter().filter(|&&c| c > 0) {
            configs.push((Script::SelectOnly, t, c, 1));
        }
    }
    if options.pipeline > 1 {
        for &t in &options.transports {
            configs.push((Script::SelectOnly, t, 2, options.pipeline));
        }
    }
    for &c in options.tpcb_clients.iter().filter(|&&c| c > 0) {
        configs.push((Script::TpcB, Transport::Tcp, c, 1));
    }

    for (script, transport, clients, depth) in configs {
        engine.set_transport(transport)?;
        let plan = plan(scenario, options, clients, depth)?;
        let op = plan
            .scenario
            .workload
            .ops
            .iter()
            .position(|o| o.name == script.op())
            .ok_or_else(|| SelfbenchError::Pgbench(format!("the workload has no `{}` operation", script.op())))?;
        let plan = RunPlan {
            mix: Mix::new(&[(crate::scenario::OpId(op), 1)]),
            ..plan
        };
        let mut row = Row {
            script,
            transport,
            clients,
            pipeline: depth,
            pairs: Vec::new(),
        };
        for _ in 0..options.pairs {
            cpu::wait_idle(options.idle, Duration::from_secs(30));
            let (c0, s0, k) = (cpu::reaped_children(), cpu::process_tree(pid), cpu::children(pid));
            let run = pgbench
                .run(&endpoint, transport, "pgbench", script, clients, options.duration)
                .map_err(SelfbenchError::Pgbench)?;
            let (c1, s1) = (cpu::reaped_children(), cpu::settled_tree(pid, k));
            let n = run.transactions.max(1) as f64;
            let theirs = Side {
                tps: run.tps,
                client_us: (c1 - c0).cpu.as_secs_f64() * 1e6 / n,
                server_us: (s1 - s0).as_secs_f64() * 1e6 / n,
                switches: (c1 - c0).switches as f64 / n,
            };

            cpu::wait_idle(options.idle, Duration::from_secs(30));
            let (c0, s0, k) = (cpu::own(), cpu::process_tree(pid), cpu::children(pid));
            let window = crate::run::workers::measure(
                &engine,
                &plan.targets[0],
                &plan,
                0,
                options.cancel.flag(),
                &|_| {},
                &mut crate::run::workers::at_once,
            )?;
            let (c1, s1) = (cpu::own(), cpu::settled_tree(pid, k));
            let rec = &window.records.ops[op];
            if rec.error_count() > 0 {
                return Err(SelfbenchError::Pgbench(format!(
                    "schemabench's {} run had {} failed operations: {}",
                    script.op(),
                    rec.error_count(),
                    rec.first_error.clone().unwrap_or_default()
                )));
            }
            let n = rec.count().max(1) as f64;
            let pair = Pair {
                pgbench: theirs,
                ours: Side {
                    tps: n / window.seconds.max(1e-9),
                    client_us: (c1 - c0).cpu.as_secs_f64() * 1e6 / n,
                    server_us: (s1 - s0).as_secs_f64() * 1e6 / n,
                    switches: (c1 - c0).switches as f64 / n,
                },
                p50_us: rec.latency.value_at_quantile(0.5) as f64 / 1e3,
                p99_us: rec.latency.value_at_quantile(0.99) as f64 / 1e3,
            };
            say(&format!(
                "{}: pgbench {:.0} TPS, {:.1} client / {:.1} server µs/op, {:.2} switches/op; \
                 schemabench {:.0} TPS, {:.1} / {:.1} µs/op, {:.2} switches/op",
                row.label(),
                pair.pgbench.tps,
                pair.pgbench.client_us,
                pair.pgbench.server_us,
                pair.pgbench.switches,
                pair.ours.tps,
                pair.ours.client_us,
                pair.ours.server_us,
                pair.ours.switches
            ));
            row.pairs.push(pair);
            if options.cancel.is_cancelled() {
                break;
            }
        }
        report.rows.push(row);
        if options.cancel.is_cancelled() {
            break;
        }
    }
    Ok(report)
}

/// The selfbench plan for `clients` connections with `depth` in flight each.
fn plan(scenario: &Scenario, options: &Options, clients: u32, depth: u32) -> Result<RunPlan, SelfbenchError> {
    Ok(crate::run::plan(
        scenario,
        &RunOptions {
            clients: NonZeroU32::new(clients),
            warmup: Some(Duration::ZERO),
            duration: Some(options.duration),
            rounds: NonZeroU32::new(1),
            pipeline: NonZeroU32::new(depth),
            op_timeout: options.op_timeout,
            params: vec![("scale".into(), options.scale as f64)],
            ..RunOptions::default()
        },
    )?)
}

fn create_database(endpoint: &Endpoint, name: &str) -> Result<(), SelfbenchError> {
    let fail = |e: crate::pgwire::WireError| SelfbenchError::Pgbench(format!("creating database {name}: {e}"));
    let mut admin = endpoint.connect(endpoint.admin_db()).map_err(fail)?;
    admin.batch(&format!("DROP DATABASE IF EXISTS {name}")).map_err(fail)?;
    admin.batch(&format!("CREATE DATABASE {name}")).map_err(fail)
}

/// `pgbench -i` against schemabench's loader (binary COPY, same primary
/// keys), alternating; both include creating their database.
fn compare_loads(
    bins: &Binaries,
    endpoint: &Endpoint,
    scenario: &Scenario,
    options: &Options,
    say: &dyn Fn(&str),
) -> Result<LoadTimes, SelfbenchError> {
    let pgbench = Pgbench::new(bins);
    let plan = plan(scenario, options, 1, 1)?;
    let spec = BaseSpec::for_workload(&scenario.workload, BackendKind::Postgres);
    let mut times = LoadTimes::default();
    for _ in 0..options.load_pairs {
        cpu::wait_idle(options.idle, Duration::from_secs(30));
        let t = Instant::now();
        create_database(endpoint, "pgbench_load")?;
        pgbench
            .init(endpoint, "pgbench_load", options.scale)
            .map_err(SelfbenchError::Pgbench)?;
        times.pgbench.push(t.elapsed().as_secs_f64());

        cpu::wait_idle(options.idle, Duration::from_secs(30));
        let mut engine = PostgresEngine::on(Box::new(UrlServer::existing(endpoint.clone())?), Transport::Tcp)?;
        let t = Instant::now();
        engine.load_base(&spec, &plan.bound.tables, plan.seed, &|_| {})?;
        times.ours.push(t.elapsed().as_secs_f64());
        drop(engine);
        say(&format!(
            "load: pgbench -i {:.2} s, schemabench {:.2} s",
            times.pgbench.last().unwrap_or(&0.0),
            times.ours.last().unwrap_or(&0.0)
        ));
    }
    let mut admin = endpoint
        .connect(endpoint.admin_db())
        .map_err(|e| SelfbenchError::Pgbench(e.to_string()))?;
    let _ = admin.batch("DROP DATABASE IF EXISTS pgbench_load");
    Ok(times)
}
