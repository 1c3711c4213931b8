//! The bench's command line and where its files go.

use clap::Parser;
use std::path::{Path, PathBuf};

/// `cargo bench --bench NAME -- [FILTER...] [OPTIONS]`: runs the crate's
/// scenarios, as criterion users run their benches.
#[derive(Debug, Parser)]
#[command(
    name = "cargo bench --",
    about = "Runs this crate's scenarios/ (those whose name contains a FILTER, or all)",
    disable_version_flag = true
)]
pub struct BenchArgs {
    /// Run only scenarios whose name contains one of these.
    pub filters: Vec<String>,
    /// List the scenarios that would run, and run none.
    #[arg(long)]
    pub list: bool,
    /// Use each scenario's smoke profile (`[quick]`: small scale, short
    /// phases, one round).
    #[arg(long)]
    pub quick: bool,
    /// Prove each scenario runs end to end: quick profile, 300 ms windows,
    /// one round, reports in a temp folder. The default under `cargo test
    /// --benches` (which does not pass `--bench`).
    #[arg(long)]
    pub smoke: bool,
    /// Save each scenario's result as baseline NAME (in
    /// `target/schemabench/baselines/<scenario>/NAME`), replacing one of that
    /// name.
    #[arg(long, value_name = "NAME")]
    pub save_baseline: Option<String>,
    /// Compare each scenario's result with its saved baseline NAME; a
    /// regression fails the bench.
    #[arg(long, value_name = "NAME")]
    pub baseline: Option<String>,
    /// A metric's threshold instead of the noise band when comparing with a
    /// baseline, e.g. `p99=10%` (repeatable).
    #[arg(long = "threshold", value_name = "METRIC=PCT", value_parser = crate::cli::parse_threshold)]
    pub thresholds: Vec<(crate::scenario::Metric, f64)>,
    /// An existing PostgreSQL server for scenarios that need one.
    #[arg(long, env = "SCHEMABENCH_POSTGRES_URL", hide_env_values = true)]
    pub postgres_url: Option<String>,
    /// Passed by `cargo bench` (and not by `cargo test --benches`).
    #[arg(long, hide = true)]
    pub bench: bool,
}

impl BenchArgs {
    /// Short windows into a temp folder: asked for, or run by `cargo test`.
    pub fn smoke(&self) -> bool {
        self.smoke || !self.bench
    }
}

/// Where the bench reads scenarios and writes runs and baselines.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The crate's root: `scenarios/` and `workloads/` are read here.
    pub root: PathBuf,
    /// `<target>/schemabench`: `runs/` and `baselines/` go here.
    pub out: PathBuf,
}

impl Layout {
    /// The crate cargo runs the bench for (`CARGO_MANIFEST_DIR`, else the
    /// working folder, which cargo sets to the crate's root) and its target
    /// folder (`CARGO_TARGET_DIR`, else the one the bench executable was
    /// built into: `<target>/<profile>/deps/<bench>-<hash>`).
    pub fn discover() -> Layout {
        let root = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .or_else(|| std::env::current_dir().ok())
            .unwrap_or_else(|| PathBuf::from("."));
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(|t| root.join(t))
            .or_else(|| std::env::current_exe().ok().and_then(|exe| target_of(&exe)))
            .unwrap_or_else(|| root.join("target"));
        Layout {
            root,
            out: target.join("schemabench"),
        }
    }

    pub fn scenarios(&self) -> PathBuf {
        self.root.join("scenarios")
    }

    pub fn runs(&self) -> PathBuf {
        self.out.join("runs")
    }

    /// Baselines of one scenario, as criterion keeps them per benchmark.
    pub fn baselines(&self, scenario: &str) -> PathBuf {
        self.out.join("baselines").join(scenario)
    }
}

/// `<target>` of an executable at `<target>/<profile>/deps/<name>`.
fn target_of(exe: &Path) -> Option<PathBuf> {
    let deps = exe.parent()?;
    if deps.file_name()? != "deps" {
        return None;
    }
    Some(deps.parent()?.parent()?.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_folder_is_found_from_the_bench_executable() {
        let exe = Path::new("/src/app/target/release/deps/schemabench-0123abcd");
        assert_eq!(target_of(exe), Some(PathBuf::from("/src/app/target")));
        assert_eq!(target_of(Path::new("/usr/bin/schemabench")), None);
    }

    #[test]
    fn cargo_test_runs_the_bench_in_smoke_mode_and_cargo_bench_does_not() {
        let parse = |a: &[&str]| BenchArgs::try_parse_from(std::iter::once("bench").chain(a.iter().copied())).unwrap();
        assert!(parse(&[]).smoke());
        assert!(!parse(&["--bench"]).smoke());
        assert!(parse(&["--bench", "--smoke"]).smoke());
        let a = parse(&["--bench", "orders", "--baseline", "main", "--threshold", "p99=10%"]);
        assert_eq!(a.filters, ["orders"]);
        assert_eq!(a.baseline.as_deref(), Some("main"));
        assert_eq!(a.thresholds.len(), 1);
        let e = BenchArgs::try_parse_from(["bench", "--bench", "--save-baselin", "x"]).unwrap_err();
        assert!(e.to_string().contains("--save-baseline"), "{e}");
    }
}
