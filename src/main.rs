//! The `schemabench` binary: parse arguments, run, map the outcome to an exit
//! code (0 ok, 1 findings such as differing answers or failed operations,
//! 2 error).

use clap::Parser;
use schemabench::{Exit, cli::Cli};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("SCHEMABENCH_LOG"))
        .with_writer(std::io::stderr)
        .init();
    match schemabench::run(cli) {
        Ok(Exit::Success) => ExitCode::SUCCESS,
        Ok(Exit::Findings) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {:#}", anyhow::Error::from(e));
            ExitCode::from(2)
        }
    }
}
