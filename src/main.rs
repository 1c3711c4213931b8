//! The `schemabench` binary: parse arguments, run, map the outcome to an exit
//! code (0 ok, 1 findings such as differing answers or failed operations,
//! 2 error).

use clap::Parser;
use schemabench::{Exit, cli::Cli};
use std::process::ExitCode;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::prelude::*;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match schemabench::run(cli) {
        Ok(Exit::Success) => ExitCode::SUCCESS,
        Ok(Exit::Findings) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {:#}", anyhow::Error::from(e));
            ExitCode::from(2)
        }
    }
}

/// Diagnostics on stderr, filtered by `SCHEMABENCH_LOG` (`debug`,
/// `schemabench::run=debug,warn`, ...); warnings and errors by default.
fn init_logging() {
    let default = || Targets::new().with_default(LevelFilter::WARN);
    let filter = match std::env::var("SCHEMABENCH_LOG") {
        Ok(text) => text.parse::<Targets>().unwrap_or_else(|e| {
            eprintln!(
                "warning: SCHEMABENCH_LOG={text:?} is not a filter ({e}); write a level such as `debug` \
                 or `target=level` pairs separated by commas"
            );
            default()
        }),
        Err(_) => default(),
    };
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
        .with(filter)
        .init();
}
