//! schemabench: settles database design questions with measurements.
//!
//! Data flows one way: scenario → plan → run → records → comparison → reports.

mod app;
pub mod backend;
pub mod bench;
pub mod builder;
pub mod cancel;
pub mod cli;
pub mod compare;
pub mod datagen;
pub mod environment;
pub mod expr;
pub mod leftovers;
pub mod pgwire;
pub mod provision;
pub mod record;
pub mod report;
pub mod result;
pub mod run;
pub mod scenario;
pub mod selfbench;
pub mod sqltext;
pub mod suggest;
pub mod util;
pub mod vectors;

pub use app::{Error, Exit, Finished, list, read_result, run, run_scenario, validate};

/// Unit tests that time things, or that start servers and load data, run
/// one at a time: on two cores either would be noise in the other's timings.
#[cfg(test)]
pub(crate) mod test_support {
    static EXCLUSIVE: std::sync::Mutex<()> = std::sync::Mutex::new(());

    pub fn exclusive() -> std::sync::MutexGuard<'static, ()> {
        EXCLUSIVE.lock().unwrap_or_else(|p| p.into_inner())
    }
}
