//! The library entry point behind the binary: `run`, `validate` and `list`
//! with typed errors. Tests call these in process.

use crate::cli::{Cli, Command, ProvisionerArg, RunArgs};
use crate::environment::Environment;
use crate::provision;
use crate::report::{self, RunFolder};
use crate::result::RunResult;
use crate::run::{self, Observer, PlanError, RunOptions, Silent};
use crate::scenario::{ConfigErrors, Document, Scenario, load_any, load_scenario, toml_files};
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

mod across;
mod merge;
mod new;
mod new_from_db;
mod rules;
pub mod sweep;
mod validate;
pub use validate::validate;

/// How a successful command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success,
    /// The run completed but found something a user must look at: variants
    /// that returned different answers, or failed operations (exit code 1).
    Findings,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigErrors),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    TooLarge(#[from] crate::run::footprint::TooLarge),
    /// Statements SQLite rejects on the empty schema.
    #[error("{}", statements_message(.0))]
    Statements(Vec<run::statements::Located>),
    #[error(transparent)]
    Verify(#[from] report::manifest::VerifyError),
    #[error(transparent)]
    Baseline(#[from] report::baseline::BaselineError),
    #[error("cannot merge these shards: {0}")]
    Merge(#[from] crate::result::merge::MergeError),
    #[error(
        "these runs should not be compared ({}); pass --allow-different to compare them anyway",
        .0.join("; ")
    )]
    Incomparable(Vec<String>),
    /// Command-line options that cannot go together.
    #[error("{0}")]
    Usage(String),
    #[error("cannot create a run folder in `{path}`")]
    Output {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the run did not complete ({reason}); what was measured is in {}", report.display())]
    Incomplete { reason: String, report: PathBuf },
    #[error(transparent)]
    Selfbench(#[from] crate::selfbench::SelfbenchError),
    #[error("{invalid} of {total} files are invalid")]
    Invalid { invalid: usize, total: usize },
    #[error("cannot read folder `{path}`")]
    Folder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write `{}`; {}", path.display(), recovery)]
    Unwritten {
        path: PathBuf,
        /// Where the result is and how to finish the folder.
        recovery: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write `{path}`")]
    WriteReport {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<Exit, Error> {
    match cli.command {
        Command::Run(args) => run_command(&args),
        Command::Validate { files } => validate(&files, &mut std::io::stdout()),
        Command::List { dirs } => list(&dirs, &mut std::io::stdout()),
        Command::Selfbench(args) => selfbench_command(&args),
        Command::Report { run, stdout, html } => report_command(&run, stdout, html),
        Command::Verify { run } => verify_command(&run),
        Command::Baseline { action } => across::baseline_command(action),
        Command::Compare(args) => across::compare_command(&args),
        Command::New {
            dir,
            from_url: Some(url),
            table: Some(table),
        } => new_from_db::new_from_url(&dir, &url, &table),
        Command::New { dir, .. } => new::new_command(&dir),
        Command::RulesTable {
            dir,
            reproduction,
            update,
            check,
        } => rules::rules_table_command(&dir, reproduction.as_deref(), update.as_deref(), check),
        Command::Merge { runs, scenario, out } => merge::merge_command(&runs, scenario.as_deref(), &out),
        Command::Schema => {
            print!("{}", crate::result::schema::json_schema());
            Ok(Exit::Success)
        }
    }
}

/// Reads a run folder's (or a file's) result.json back.
pub fn read_result(path: &Path) -> Result<(RunResult, PathBuf), Error> {
    let result = report::baseline::read_run(path)?;
    let file = if path.is_dir() {
        path.join("result.json")
    } else {
        path.to_path_buf()
    };
    Ok((result, file.parent().map(Path::to_path_buf).unwrap_or_default()))
}

fn report_command(path: &Path, stdout: bool, html: bool) -> Result<Exit, Error> {
    let (result, folder) = read_result(path)?;
    let wanted = if html { "report.html" } else { "report.md" };
    let rendered: Vec<(String, Vec<u8>)> = report::rendered(&result)
        .into_iter()
        .filter(|(name, _)| !html || name == wanted)
        .collect();
    if stdout {
        for (_, bytes) in rendered.iter().filter(|(n, _)| n == wanted) {
            print!("{}", String::from_utf8_lossy(bytes));
        }
        return Ok(Exit::Success);
    }
    let write = |name: &str, bytes: &[u8]| report::write_file(&folder.join(name), bytes);
    for (name, bytes) in &rendered {
        write(name, bytes)?;
    }
    // The folder's files as they now are (a folder recovered after a full
    // disk gets its manifest here).
    let manifest = report::manifest::Manifest::of_folder(&folder).map_err(|source| Error::Folder {
        path: folder.clone(),
        source,
    })?;
    write(report::manifest::MANIFEST, &manifest.to_json())?;
    print!("{}", report::terminal::render(&result, &folder));
    Ok(Exit::Success)
}

fn verify_command(folder: &Path) -> Result<Exit, Error> {
    let v = report::manifest::verify(folder)?;
    for p in &v.problems {
        println!("FAIL {}: {p}", folder.display());
    }
    if v.problems.is_empty() {
        println!(
            "ok   {}: {} files match manifest.json; the reports are what result.json renders to",
            folder.display(),
            v.checked
        );
        Ok(Exit::Success)
    } else {
        Ok(Exit::Findings)
    }
}

fn transport(t: crate::cli::TransportArg) -> provision::Transport {
    match t {
        crate::cli::TransportArg::Tcp => provision::Transport::Tcp,
        crate::cli::TransportArg::Unix => provision::Transport::Unix,
    }
}

/// A cancel token that SIGINT, SIGTERM and SIGHUP cancel: the run stops at
/// its next safe point and keeps what it measured. A second signal removes
/// every server, container and temp folder the run started and exits at
/// once (status 130).
pub(crate) fn cancel_on_signals() -> crate::cancel::CancelToken {
    let token = crate::cancel::CancelToken::new();
    let handler = token.clone();
    let signals = std::sync::atomic::AtomicU32::new(0);
    let _ = ctrlc::set_handler(move || {
        if signals.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            eprintln!("\nstopping at the next safe point and keeping what was measured; a second signal exits at once");
            handler.cancel();
            return;
        }
        let failed = crate::leftovers::remove_all_now();
        eprintln!("\nexiting at once; removed the servers and temp folders this run started");
        for f in failed {
            eprintln!("could not remove {f}");
        }
        std::process::exit(130);
    });
    token
}

/// Markers around the table `selfbench --write` replaces.
const SELFBENCH_BEGIN: &str = "<!-- selfbench:begin -->";
const SELFBENCH_END: &str = "<!-- selfbench:end -->";

/// Replaces what lies between the markers `begin` and `end` of a file
/// with `text` (the markers stay).
pub(crate) fn replace_between(path: &Path, begin: &str, end: &str, text: &str) -> Result<(), Error> {
    let io = |source| Error::Output {
        path: path.to_path_buf(),
        source,
    };
    let old = std::fs::read_to_string(path).map_err(io)?;
    let (Some(a), Some(b)) = (old.find(begin), old.find(end)) else {
        return Err(io(std::io::Error::other(format!("no {begin} ... {end} markers"))));
    };
    let updated = format!("{}{begin}\n{text}{}", &old[..a], &old[b..]);
    std::fs::write(path, updated).map_err(io)
}

fn selfbench_command(args: &crate::cli::SelfbenchArgs) -> Result<Exit, Error> {
    let scenario = load_scenario(&args.scenario)?;
    let cancel = cancel_on_signals();
    let options = crate::selfbench::Options {
        duration: args.duration,
        pairs: args.pairs.max(1),
        clients: args.clients.clone(),
        transports: args.transports.iter().map(|&t| transport(t)).collect(),
        tpcb_clients: args.tpcb_clients.clone(),
        pipeline: args.pipeline,
        load_pairs: args.load_pairs,
        scale: args.scale.max(1),
        idle: 0.9,
        op_timeout: args.op_timeout,
        cancel: cancel.clone(),
    };
    let report = crate::selfbench::run(&scenario, &options, &|line| eprintln!("{line}"))?;
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    let table = report.markdown(&command);
    print!("{table}");
    if let Some(path) = &args.write {
        replace_between(path, SELFBENCH_BEGIN, SELFBENCH_END, &table)?;
    }
    Ok(if cancel.is_cancelled() {
        Exit::Findings
    } else {
        Exit::Success
    })
}

impl RunArgs {
    /// Typed options; PostgreSQL settings are the scenario's, then the CLI's.
    pub fn options(&self, scenario: &Scenario) -> RunOptions {
        let mut settings = scenario.postgres_settings.clone();
        for (k, v) in &self.pg_settings {
            settings.retain(|(name, _)| name != k);
            settings.push((k.clone(), v.clone()));
        }
        RunOptions {
            seed: self.seed,
            order_seed: self.order_seed,
            backends: self.backends.iter().map(|&b| b.into()).collect(),
            shard: self
                .shard
                .zip(self.run_key.clone())
                .map(|(shard, key)| crate::run::shard::ShardRun {
                    shard,
                    key,
                    wait: self.shard_wait,
                }),
            clients: self.clients,
            warmup: self.warmup,
            duration: self.duration,
            rounds: self.rounds,
            rate: self.rate,
            cache: self.cold.then_some(crate::scenario::CachePolicy::Cold),
            pipeline: self.pipeline,
            op_timeout: self.op_timeout,
            equal_load: self.equal_load.map(|s| s == crate::cli::Switch::On),
            force: self.force,
            arrivals: self.arrivals.map(|a| match a {
                crate::cli::ArrivalsArg::Uniform => crate::scenario::Arrivals::Uniform,
                crate::cli::ArrivalsArg::Poisson => crate::scenario::Arrivals::Poisson,
            }),
            params: self.params.clone(),
            quick: self.quick,
            work_dir: self.work_dir.clone(),
            postgres: provision::Request {
                choice: match self.provisioner {
                    ProvisionerArg::Auto => provision::Choice::Auto,
                    ProvisionerArg::Local => provision::Choice::Local,
                    ProvisionerArg::Docker => provision::Choice::Docker,
                    ProvisionerArg::Url => provision::Choice::Url,
                },
                transport: transport(self.transport),
                url: self.postgres_url.clone(),
                settings,
                preload: Vec::new(),
                extensions: Vec::new(),
                docker_image: self.docker_image.clone(),
                work_dir: self.work_dir.clone(),
            },
            cancel: Default::default(),
        }
    }
}

fn run_command(args: &RunArgs) -> Result<Exit, Error> {
    let scenario = load_scenario(&args.scenario)?;
    let url = matches!(args.provisioner, ProvisionerArg::Url)
        || (matches!(args.provisioner, ProvisionerArg::Auto) && args.postgres_url.is_some());
    // A URL that cannot be used fails now, not after the SQLite part ran.
    if let Some(u) = &args.postgres_url
        && scenario.backends.contains(&crate::backend::BackendKind::Postgres)
        && let Err(e) = crate::pgwire::ConnInfo::parse(u)
    {
        return Err(Error::Usage(format!(
            "--postgres-url {}: not a usable connection string: {e}",
            crate::provision::url::redact(u)
        )));
    }
    if url && !args.pg_settings.is_empty() {
        return Err(Error::Usage(
            "--pg-setting applies to servers schemabench starts; a server given by URL keeps its own settings \
             (set them there, e.g. ALTER SYSTEM, or run with --provisioner local)"
                .into(),
        ));
    }
    if args.shard.is_some() && scenario.sweep_for(args.quick).is_some() && !args.no_sweep {
        return Err(Error::Usage(
            "--shard with a scenario that has a [sweep]: shard one value at a time (--no-sweep, with --param or \
             --clients for the value)"
                .into(),
        ));
    }
    let mut options = args.options(&scenario);
    // First Ctrl-C stops measuring and keeps what was measured.
    options.cancel = cancel_on_signals();
    let progress = report::progress::Progress::new();
    let observer: &dyn Observer = if args.quiet { &Silent } else { &progress };
    // `--param` on the swept parameter runs that one value.
    let sweep = scenario
        .sweep_for(args.quick)
        .filter(|_| !args.no_sweep)
        .filter(|s| match &s.key {
            crate::scenario::SweepKey::Param(name) => !args.params.iter().any(|(n, _)| n == name),
            crate::scenario::SweepKey::Clients => args.clients.is_none(),
            crate::scenario::SweepKey::Weight { .. } => true,
        });
    if let Some(sweep) = sweep {
        let swept = sweep::run_sweep(&scenario, sweep, &options, &args.out, observer)?;
        let at = format!("Sweep: {}", swept.folder.join("sweep.md").display());
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&swept.summary).expect("summaries serialise")
            );
            eprintln!("{at}");
        } else {
            print!("{}", report::scale_sweep::terminal(&swept.summary));
            println!("{at}");
        }
        return swept.outcome();
    }
    let finished = run_scenario(&scenario, &options, &args.out, observer)?;
    let summary = report::terminal::render(&finished.result, &finished.folder);
    if args.json {
        print!("{}", finished.result.to_json());
        eprint!("{summary}");
    } else if args.quiet {
        for banner in report::verdict::banners(&finished.result.run, report::verdict::Style::Plain) {
            println!("{banner}");
        }
        for v in &finished.result.comparison.verdicts {
            println!("{}", report::verdict::sentence(v, report::verdict::Style::Plain));
        }
        println!("Report: {}", finished.folder.join("report.md").display());
    } else {
        print!("{summary}");
    }
    finished.outcome()
}

impl From<report::WriteError> for Error {
    fn from(e: report::WriteError) -> Self {
        Error::WriteReport {
            path: e.path,
            source: e.source,
        }
    }
}

/// A run's result and where its folder is.
#[derive(Debug)]
pub struct Finished {
    pub result: RunResult,
    pub folder: PathBuf,
}

impl Finished {
    /// Maps the result to an outcome: incomplete runs are errors (their
    /// folder is kept); differing answers and failed operations are findings.
    pub fn outcome(&self) -> Result<Exit, Error> {
        let r = &self.result;
        if !r.run.complete {
            let reason = r.run.failure.clone().unwrap_or_else(|| "interrupted".into());
            return Err(Error::Incomplete {
                reason,
                report: self.folder.clone(),
            });
        }
        let findings = r.backends.iter().any(|b| {
            !b.answers.mismatches.is_empty() || b.variants.iter().any(|v| v.ops.iter().any(|o| !o.errors.is_empty()))
        });
        Ok(if findings { Exit::Findings } else { Exit::Success })
    }
}

/// Plans, runs and reports one scenario into a new folder under `out`.
pub fn run_scenario(
    scenario: &Scenario,
    options: &RunOptions,
    out: &Path,
    observer: &dyn Observer,
) -> Result<Finished, Error> {
    let id = report::run_id(OffsetDateTime::now_utc(), &scenario.name);
    run_scenario_as(scenario, options, out, &id, observer)
}

/// [`run_scenario`] into the folder `out/id` (`id-2`, … when taken).
pub(crate) fn run_scenario_as(
    scenario: &Scenario,
    options: &RunOptions,
    out: &Path,
    id: &str,
    observer: &dyn Observer,
) -> Result<Finished, Error> {
    let plan = run::plan(scenario, options)?;
    check_statements(&plan)?;
    if !options.force {
        run::footprint::check(&plan, options)?;
    }
    let folder = RunFolder::create(out, id).map_err(|source| Error::Output {
        path: out.to_path_buf(),
        source,
    })?;
    let records = run::execute(&plan, options, observer);
    let mut result = crate::result::summarise(&plan, &records, folder.id(), Environment::detect());
    judge(&mut result, scenario);
    let folder = write_folder(folder, &result)?;
    Ok(Finished { result, folder })
}

/// Compares `result`'s variants by `scenario`'s verdict rule.
pub(crate) fn judge(result: &mut RunResult, scenario: &Scenario) {
    let op_names: Vec<String> = scenario.workload.ops.iter().map(|o| o.name.clone()).collect();
    result.comparison = crate::compare::compare(result, &scenario.verdict, &op_names);
}

/// Writes `result` and its reports into `folder` and gives it its final
/// name; a file that cannot be written (a full disk) is named, with where
/// the result is kept and how to finish the folder from it.
pub(crate) fn write_folder(folder: RunFolder, result: &RunResult) -> Result<PathBuf, Error> {
    let partial = folder.partial_path().to_path_buf();
    let final_name = folder.id().to_string();
    let kept = |e: report::WriteError, result_at: Option<PathBuf>| {
        let recovery = match result_at {
            Some(at) => format!(
                "the run's result is kept in `{}`: free some space, move it into `{}` as result.json if it is not \
                 there, run `schemabench report {}` to render the reports and the manifest, then rename that \
                 folder to `{final_name}`",
                at.display(),
                partial.display(),
                partial.display()
            ),
            None => format!(
                "the result could not be kept anywhere (the temp folder is full too); what was written is in `{}`",
                partial.display()
            ),
        };
        Error::Unwritten {
            path: e.path,
            recovery,
            source: e.source,
        }
    };
    for (name, bytes) in report::files(result) {
        if let Err(e) = folder.write(&name, &bytes) {
            let result_at = if name == "result.json" {
                // The data itself: try the temp folder (often another disk).
                let spare = std::env::temp_dir().join(format!("schemabench-{final_name}-result.json"));
                std::fs::write(&spare, &bytes).ok().map(|()| spare)
            } else {
                Some(partial.join("result.json"))
            };
            return Err(kept(e, result_at));
        }
    }
    folder.finish().map_err(|e| kept(e, Some(partial.join("result.json"))))
}

fn statements_message(errors: &[run::statements::Located]) -> String {
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    lines.join("\n")
}

/// [`run::statements::check_plan`] as a result.
fn check_statements(plan: &run::RunPlan) -> Result<(), Error> {
    let errors = run::statements::check_plan(plan);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Statements(errors))
    }
}

/// Lists scenarios and workloads found in `dirs`.
pub fn list(dirs: &[PathBuf], out: &mut dyn std::io::Write) -> Result<Exit, Error> {
    // The rules library is listed when it is there (this repository).
    let defaults: Vec<PathBuf> = ["scenarios", "scenarios/rules", "workloads"]
        .iter()
        .map(PathBuf::from)
        .filter(|d| d.as_os_str() != "scenarios/rules" || d.is_dir())
        .collect();
    let dirs = if dirs.is_empty() { &defaults[..] } else { dirs };
    for dir in dirs {
        let files = toml_files(dir).map_err(|source| Error::Folder {
            path: dir.clone(),
            source,
        })?;
        let _ = writeln!(out, "{}:", dir.display());
        for path in files {
            let line = match load_any(&path) {
                Ok(Document::Scenario(sc)) => format!("  {:24} scenario  {}", sc.name, sc.question),
                Ok(Document::Workload(w)) => {
                    format!("  {:24} workload  {}", w.name, w.description.as_deref().unwrap_or(""))
                }
                Err(e) => format!(
                    "  {:24} INVALID   {}",
                    path.file_stem().unwrap_or_default().to_string_lossy(),
                    e.0.first()
                        .map(|e| e.to_string().lines().next().unwrap_or("").to_string())
                        .unwrap_or_default()
                ),
            };
            let _ = writeln!(out, "{line}");
        }
    }
    Ok(Exit::Success)
}
