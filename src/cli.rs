//! Command-line interface: clap structs and nothing else.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "schemabench",
    version,
    about = "Settles database design questions with measurements."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario: load data, prepare every variant, measure, and report.
    Run(Box<RunArgs>),
    /// Check scenario or workload files and print what they resolve to.
    Validate {
        /// Scenario or workload files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List scenarios and workloads with their question or description.
    List {
        /// Folders to look in [default: scenarios scenarios/rules workloads].
        dirs: Vec<PathBuf>,
    },
    /// Render a run folder's reports again from its result.json (report.md,
    /// byte for byte as the run wrote it), and print its summary.
    Report {
        /// A run folder (reports/runs/<id>) or its result.json.
        run: PathBuf,
        /// Print report.md (report.html with --html) to standard output
        /// instead of rewriting the folder's files.
        #[arg(long)]
        stdout: bool,
        /// Only report.html: the page with charts, drawn from result.json.
        #[arg(long)]
        html: bool,
    },
    /// Save a run as a named baseline, or list the saved ones.
    Baseline {
        #[command(subcommand)]
        action: BaselineAction,
    },
    /// Compare a run with a saved baseline (or another run) using the same
    /// statistics as variant comparisons. Exit 0: no regression; 1: a
    /// regression, a plan change, differing answers or a newly failing
    /// guard; 2: an error (or runs that should not be compared).
    Compare(CompareArgs),
    /// Check a run folder against its manifest.json (SHA-256 of every file)
    /// and that report.md is what result.json renders to. Exit 0: intact;
    /// 1: something changed; 2: no manifest or unreadable.
    Verify {
        /// A run folder (reports/runs/<id>).
        run: PathBuf,
    },
    /// Print the JSON Schema of result.json (docs/result.schema.json).
    Schema,
    /// Make a crate ready for `cargo bench` with schemabench: writes
    /// benches/schemabench.rs, a first scenario and workload (never
    /// overwriting a file), and prints the lines to add to Cargo.toml.
    New {
        /// The crate's root folder.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Instead: a workload and a scenario from one table of an existing
        /// PostgreSQL database (its columns, key, indexes and row estimate;
        /// no data is read), written to DIR/workloads and DIR/scenarios.
        #[arg(long, value_name = "URL", requires = "table")]
        from_url: Option<String>,
        /// The table for --from-url (schema.table when not on the search path).
        #[arg(long, requires = "from_url")]
        table: Option<String>,
    },
    /// The table of docs/rules.md from the rules library's committed
    /// evidence: one folder per rule (a run folder or a sweep folder).
    RulesTable {
        /// The evidence folder [default: reports/rules].
        #[arg(default_value = "reports/rules")]
        dir: PathBuf,
        /// Each rule's result.json or sweep.json from a second run, as
        /// <rule>.json: adds whether every verdict came out the same.
        #[arg(long)]
        reproduction: Option<PathBuf>,
        /// Replace the table between the rules-table markers of this file
        /// instead of printing it.
        #[arg(long)]
        update: Option<PathBuf>,
        /// With --update: change nothing, exit 1 if the file's table is not
        /// what the evidence makes.
        #[arg(long, requires = "update")]
        check: bool,
    },
    /// Merge the run folders of a sharded run's N shards (`run --shard
    /// K/N`) into one run folder: histograms added exactly, counts and
    /// timelines summed, each shard's environment kept; then compared and
    /// reported like any run. Exit 0: merged; 1: findings as for `run`;
    /// 2: shards that do not belong together (what differs is named).
    Merge {
        /// The shards' run folders (or their result.json files).
        #[arg(required = true)]
        runs: Vec<PathBuf>,
        /// The scenario file, for its verdict rule [default: the path the
        /// shards recorded].
        #[arg(long)]
        scenario: Option<PathBuf>,
        /// Where the merged run folder goes.
        #[arg(long, default_value = "reports/runs")]
        out: PathBuf,
    },
    /// Measure the harness itself against pgbench on one throwaway cluster
    /// (TPS, client and server CPU per operation, load time); prints a
    /// Markdown table. scripts/bench-vs-pgbench.sh runs it.
    Selfbench(SelfbenchArgs),
}

#[derive(Debug, Args)]
pub struct SelfbenchArgs {
    /// The scenario with pgbench's tables and scripts.
    #[arg(long, default_value = "selfbench/vs_pgbench.toml")]
    pub scenario: PathBuf,
    /// Length of every timed run.
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    pub duration: std::time::Duration,
    /// pgbench / schemabench pairs per configuration.
    #[arg(long, default_value_t = 3)]
    pub pairs: u32,
    /// Client counts for select-only, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2,8")]
    pub clients: Vec<u32>,
    /// Transports, comma-separated: tcp, unix.
    #[arg(long, value_delimiter = ',', default_value = "tcp,unix")]
    pub transports: Vec<TransportArg>,
    /// Client counts for the TPC-B-like script (TCP), comma-separated; 0 skips.
    #[arg(long, value_delimiter = ',', default_value = "1,8")]
    pub tpcb_clients: Vec<u32>,
    /// Requests in flight per connection for the pipelined rows (2 clients); 1 skips them.
    #[arg(long, default_value_t = 8)]
    pub pipeline: u32,
    /// `pgbench -i` / schemabench load pairs; 0 skips.
    #[arg(long, default_value_t = 3)]
    pub load_pairs: u32,
    /// pgbench scale factor (100,000 accounts per unit).
    #[arg(long, default_value_t = 10)]
    pub scale: u32,
    /// schemabench's operation time limit (`0s`: none, so sessions set no
    /// statement_timeout) [default: the scenario's, 30s].
    #[arg(long, value_parser = parse_duration)]
    pub op_timeout: Option<std::time::Duration>,
    /// Replace the table between these markers in a Markdown file (e.g.
    /// docs/performance.md) instead of only printing it.
    #[arg(long)]
    pub write: Option<PathBuf>,
}

/// An explicit on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Switch {
    On,
    Off,
}

#[derive(Debug, Args)]
#[command(allow_negative_numbers = true)]
pub struct RunArgs {
    /// The scenario file.
    pub scenario: PathBuf,
    /// Seed of data and parameter streams [default: the scenario's, else 1].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Seed of the variants' order in each round [default: a fresh one per
    /// run, recorded in result.json as `order_seed`].
    #[arg(long)]
    pub order_seed: Option<u64>,
    /// Run only on this backend (repeatable) among the scenario's.
    #[arg(long = "backend", value_enum)]
    pub backends: Vec<BackendArg>,
    /// Run shard K of N of a sharded run against one server given by
    /// --postgres-url: this process runs its share of the clients (and of
    /// an open loop's rate); shard 1 loads and prepares, the others wait
    /// for it, and all measure the same windows. Merge the N run folders
    /// with `schemabench merge` (docs/scale-out.md).
    #[arg(long, value_name = "K/N", requires = "run_key")]
    pub shard: Option<crate::run::shard::Shard>,
    /// The key every shard of one sharded run shares (e.g. the Job's name).
    #[arg(long, value_name = "KEY", requires = "shard")]
    pub run_key: Option<String>,
    /// How long a shard other than 1 waits for shard 1 to start and to
    /// announce each window (its load and setup included).
    #[arg(long, value_parser = parse_duration, default_value = "1h", value_name = "DURATION")]
    pub shard_wait: std::time::Duration,
    /// Concurrent clients (threads, one connection each).
    #[arg(long)]
    pub clients: Option<std::num::NonZeroU32>,
    /// Warmup per variant and round, excluded from results (e.g. `2s`).
    #[arg(long, value_parser = parse_duration, allow_hyphen_values = true)]
    pub warmup: Option<std::time::Duration>,
    /// Measured time per variant and round (e.g. `10s`).
    #[arg(long, value_parser = parse_duration, allow_hyphen_values = true)]
    pub duration: Option<std::time::Duration>,
    /// Rounds; variants run in a balanced order, rotated each round.
    #[arg(long)]
    pub rounds: Option<std::num::NonZeroU32>,
    /// Open loop: target arrivals per second over all clients; latency is
    /// measured from each operation's intended start.
    #[arg(long)]
    pub rate: Option<std::num::NonZeroU32>,
    /// Cold caches: restart PostgreSQL before every variant's window.
    #[arg(long)]
    pub cold: bool,
    /// Pipelined mode: requests in flight per PostgreSQL connection
    /// (single-statement reads only; a different load model, reported as such).
    #[arg(long, value_name = "DEPTH")]
    pub pipeline: Option<std::num::NonZeroU32>,
    /// Longest an operation may run before it is cancelled and counted as a
    /// timeout (e.g. `5s`; `0s` for no limit) [default: the scenario's, else 30s].
    #[arg(long, value_parser = parse_duration, allow_hyphen_values = true)]
    pub op_timeout: Option<std::time::Duration>,
    /// Open-loop arrival spacing.
    #[arg(long, value_enum)]
    pub arrivals: Option<ArrivalsArg>,
    /// Judge guards in a second phase where every variant runs open-loop at
    /// one common rate [default: the scenario's `[verdict] equal_load`, else on
    /// when a closed loop guards a write and aims at a read].
    #[arg(long, value_enum, value_name = "on|off")]
    pub equal_load: Option<Switch>,
    /// Override a scale parameter, e.g. `--param orders=50000` (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, f64)>,
    /// Smoke profile: small scale, short phases, one round. Not fit for decisions.
    #[arg(long)]
    pub quick: bool,
    /// Run even when the data looks too large for the work folder's free space.
    #[arg(long)]
    pub force: bool,
    /// One run at the scenario's own scale and mix, ignoring its `[sweep]`
    /// (nightly comparisons against a baseline run this way).
    #[arg(long)]
    pub no_sweep: bool,
    /// No progress display and no summary table; the verdict and report path only.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print result.json to stdout (everything else goes to stderr).
    #[arg(long)]
    pub json: bool,
    /// Folder that receives run folders.
    #[arg(long, default_value = "reports/runs")]
    pub out: PathBuf,
    /// Folder for the databases' temporary files [default: system temp].
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Where PostgreSQL comes from: auto (URL if given, else a container if
    /// a Docker daemon answers, else a local throwaway cluster), local,
    /// docker, or url.
    #[arg(long, value_enum, default_value_t = ProvisionerArg::Auto)]
    pub provisioner: ProvisionerArg,
    /// An existing PostgreSQL server; schemabench creates and drops only its
    /// own `schemabench_*` databases there.
    #[arg(long, env = "SCHEMABENCH_POSTGRES_URL", hide_env_values = true)]
    pub postgres_url: Option<String>,
    /// Container image for the docker provisioner, `name:tag` [default:
    /// postgres:15.10-bookworm, or the pgvector/TimescaleDB image the
    /// workload needs].
    #[arg(long, env = "SCHEMABENCH_DOCKER_IMAGE")]
    pub docker_image: Option<String>,
    /// A server setting for clusters schemabench starts, e.g.
    /// `--pg-setting shared_buffers=1GB` (repeatable; overrides the scenario).
    #[arg(long = "pg-setting", value_name = "NAME=VALUE", value_parser = parse_setting)]
    pub pg_settings: Vec<(String, String)>,
    /// How measured PostgreSQL sessions connect: tcp (loopback) or unix
    /// (the server's socket; local clusters only).
    #[arg(long, value_enum, default_value_t = TransportArg::Tcp)]
    pub transport: TransportArg,
}

#[derive(Debug, Subcommand)]
pub enum BaselineAction {
    /// Save the results of RUN_DIR... as baseline NAME (replacing one of
    /// that name). Three or more runs let comparisons measure run-to-run
    /// variation.
    Save {
        name: String,
        #[arg(required = true)]
        runs: Vec<PathBuf>,
        /// Folder of saved baselines.
        #[arg(long, default_value = crate::report::baseline::DEFAULT_DIR)]
        dir: PathBuf,
    },
    /// List saved baselines.
    List {
        #[arg(long, default_value = crate::report::baseline::DEFAULT_DIR)]
        dir: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The run folder to judge.
    pub run: PathBuf,
    /// A saved baseline to compare with.
    #[arg(long, conflicts_with = "against", required_unless_present = "against")]
    pub baseline: Option<String>,
    /// Another run folder to compare with.
    #[arg(long)]
    pub against: Option<PathBuf>,
    /// Folder of saved baselines.
    #[arg(long, default_value = crate::report::baseline::DEFAULT_DIR)]
    pub baselines: PathBuf,
    /// A metric's threshold instead of the noise band, e.g. `p99=10%`
    /// (repeatable).
    #[arg(long = "threshold", value_name = "METRIC=PCT", value_parser = parse_threshold)]
    pub thresholds: Vec<(crate::scenario::Metric, f64)>,
    /// Compare runs of different scenarios, seeds, scales or load models.
    #[arg(long)]
    pub allow_different: bool,
    /// Also write the summary as Markdown (e.g. $GITHUB_STEP_SUMMARY).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Also write JUnit XML.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

pub(crate) fn parse_threshold(s: &str) -> Result<(crate::scenario::Metric, f64), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("expected METRIC=PCT, e.g. p99=10%, got `{s}`"))?;
    let metric = crate::scenario::parse_metric(name.trim(), &[])?;
    Ok((metric, crate::scenario::parse_fraction(value)?))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TransportArg {
    Tcp,
    Unix,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendArg {
    Sqlite,
    Postgres,
}

impl From<BackendArg> for crate::scenario::BackendKind {
    fn from(b: BackendArg) -> Self {
        match b {
            BackendArg::Sqlite => crate::scenario::BackendKind::Sqlite,
            BackendArg::Postgres => crate::scenario::BackendKind::Postgres,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ArrivalsArg {
    Uniform,
    Poisson,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProvisionerArg {
    Auto,
    Local,
    Docker,
    Url,
}

fn parse_setting(s: &str) -> Result<(String, String), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=VALUE, e.g. shared_buffers=1GB, got `{s}`"))?;
    if let Some(why) = crate::provision::local::refused_setting(name) {
        return Err(format!(
            "`{}` cannot be set on clusters schemabench starts: {why}",
            name.trim()
        ));
    }
    Ok((name.trim().to_string(), value.trim().to_string()))
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    crate::scenario::parse_duration(s)
}

fn parse_param(s: &str) -> Result<(String, f64), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=VALUE, e.g. orders=50000, got `{s}`"))?;
    let value: f64 = value
        .trim()
        .replace('_', "")
        .parse()
        .map_err(|_| format!("`{value}` is not a number (in `{s}`)"))?;
    Ok((name.trim().to_string(), value))
}
