//! schemabench: settles database design questions with measurements.
//!
//! Data flows one way: scenario → plan → run → records → comparison → reports.

mod app;
pub mod backend;
pub mod builder;
pub mod cli;
pub mod compare;
pub mod datagen;
pub mod evidence;
pub mod expr;
pub mod provision;
pub mod record;
pub mod report;
pub mod result;
pub mod run;
pub mod scenario;
pub mod sqltext;
pub mod suggest;
pub mod util;

pub use app::{Error, Finished, Outcome, list, run, run_scenario, validate};
