//! Deterministic data generation: the same scenario and seed give identical
//! data on every run and every backend, proven by a checksum.

mod generator;
mod series_gen;
mod signatures;
mod size;
mod table;
mod value;
mod vector_gen;
mod words;

pub use generator::{BuildCtx, Generator, Key, KeyRange, Place};
pub use series_gen::{SeriesGen, walk_at};
pub use signatures::SIGNATURES;
pub use size::{MAX_VALUE_LEN, data_bytes};
pub use table::{CHUNK_ROWS, Chunk, ColumnPlan, TableChecksum, TablePlan, combine_checksums, stream_seed};
pub use value::{Checksum, MICROS, Value, write_pg_timestamp, write_timestamp};
pub use vector_gen::{MAX_DIM, SearchColumn, VectorFile};
pub use words::{email, mix64, person_name};

#[cfg(test)]
mod tests;
