//! schemabench: settles database design questions with measurements.
pub mod backend;
pub mod datagen;
pub mod expr;
pub mod scenario;
pub mod sqltext;
pub mod suggest;
pub mod util;
