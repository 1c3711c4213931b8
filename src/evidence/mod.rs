//! Evidence beyond latency that explains a result later: where it ran.

pub mod environment;

pub use environment::{Environment, peak_rss_bytes};
