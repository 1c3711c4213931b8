//! Table data generation in fixed-size chunks. Every column of every chunk has
//! its own random stream derived from (seed, table, column, chunk), so the data
//! is identical whatever the thread count, and adding a column does not change
//! the values of the others.

use super::generator::Generator;
use super::value::{Checksum, Value};
use super::words::mix64;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::sync::mpsc::sync_channel;

/// Rows per chunk: the unit of parallel generation and of checksumming.
pub const CHUNK_ROWS: u64 = 16_384;

/// A table ready to generate: its row count and one generator per column.
#[derive(Debug, Clone)]
pub struct TablePlan {
    pub name: String,
    pub rows: u64,
    pub columns: Vec<ColumnPlan>,
}

#[derive(Debug, Clone)]
pub struct ColumnPlan {
    pub name: String,
    pub generator: Generator,
    /// The expression as written, for reports.
    pub expr: String,
}

/// A block of consecutive rows, stored column by column.
#[derive(Debug, Clone)]
pub struct Chunk {
    pub index: u64,
    pub first_row: u64,
    pub columns: Vec<Vec<Value>>,
    pub checksum: u64,
}

impl Chunk {
    pub fn len(&self) -> usize {
        self.columns.first().map_or(0, Vec::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl TablePlan {
    pub fn chunk_count(&self) -> u64 {
        self.rows.div_ceil(CHUNK_ROWS)
    }

    /// Generates chunk `index` (deterministic for a given seed).
    pub fn chunk(&self, seed: u64, index: u64) -> Chunk {
        let first_row = index * CHUNK_ROWS;
        let n = CHUNK_ROWS.min(self.rows.saturating_sub(first_row));
        let mut sum = Checksum::default();
        let columns = self
            .columns
            .iter()
            .map(|col| {
                let mut rng = ChaCha8Rng::seed_from_u64(stream_seed(seed, &self.name, &col.name, index));
                let values: Vec<Value> = (0..n).map(|r| col.generator.sample(&mut rng, first_row + r)).collect();
                for v in &values {
                    v.checksum_into(&mut sum);
                }
                values
            })
            .collect();
        Chunk {
            index,
            first_row,
            columns,
            checksum: sum.value(),
        }
    }

    /// Generates the whole table on `threads` threads and hands chunks to
    /// `sink` in order. Returns the table checksum (a hash over the ordered
    /// chunk checksums). Stops early, without waiting for generation to
    /// finish, if `sink` fails.
    pub fn generate<E: Send>(
        &self,
        seed: u64,
        threads: usize,
        mut sink: impl FnMut(Chunk) -> Result<(), E>,
    ) -> Result<String, E> {
        let chunks = self.chunk_count();
        let threads = threads.clamp(1, chunks.max(1) as usize);
        let mut total = TableChecksum::new(&self.name);
        std::thread::scope(|scope| {
            let receivers: Vec<_> = (0..threads as u64)
                .map(|t| {
                    let (tx, rx) = sync_channel::<Chunk>(2);
                    scope.spawn(move || {
                        let mut index = t;
                        while index < chunks {
                            if tx.send(self.chunk(seed, index)).is_err() {
                                return; // the consumer stopped
                            }
                            index += threads as u64;
                        }
                    });
                    rx
                })
                .collect();
            for index in 0..chunks {
                let Ok(chunk) = receivers[(index % threads as u64) as usize].recv() else {
                    break;
                };
                total.add(chunk.checksum);
                sink(chunk)?;
            }
            Ok(total.finish())
        })
    }
}

/// A table's checksum: its name, then every chunk's checksum in chunk order.
pub struct TableChecksum(Checksum);

impl TableChecksum {
    pub fn new(table: &str) -> Self {
        let mut c = Checksum::default();
        c.update(table.as_bytes());
        TableChecksum(c)
    }

    /// Adds the next chunk's checksum (chunks must come in order).
    pub fn add(&mut self, chunk_checksum: u64) {
        self.0.update(&chunk_checksum.to_le_bytes());
    }

    pub fn finish(&self) -> String {
        self.0.hex()
    }
}

/// Seed of one column's stream within one chunk.
pub fn stream_seed(seed: u64, table: &str, column: &str, chunk: u64) -> u64 {
    let name_hash = |s: &str| {
        let mut c = Checksum::default();
        c.update(s.as_bytes());
        c.value()
    };
    mix64(seed ^ mix64(name_hash(table) ^ mix64(name_hash(column) ^ mix64(chunk))))
}

/// Combines table checksums into one data checksum for a run.
pub fn combine_checksums<'a>(tables: impl IntoIterator<Item = &'a str>) -> String {
    let mut c = Checksum::default();
    for t in tables {
        c.update(t.as_bytes());
    }
    c.hex()
}
