//! Parallel binary COPY of one generated table: each thread owns a
//! connection and a COPY stream and generates every n-th chunk itself, so
//! generation and the server's parsing run side by side. The table checksum
//! is computed over chunks in order, exactly as for every other backend.

use super::db_error;
use super::value::Param;
use crate::backend::{BackendError, Progress};
use crate::datagen::{TableChecksum, TablePlan};
use crate::provision::Endpoint;
use postgres::NoTls;
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::Type;

pub fn copy_table(
    endpoint: &Endpoint,
    db: &str,
    table: &TablePlan,
    seed: u64,
    threads: usize,
    progress: Progress<'_>,
) -> Result<String, BackendError> {
    let context = format!("loading table `{}`", table.name);
    let columns: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    let types: Vec<Type> = {
        let mut c = endpoint.config(db).connect(NoTls).map_err(db_error(context.clone()))?;
        let stmt = c
            .prepare(&format!("SELECT {} FROM {} LIMIT 0", columns.join(", "), table.name))
            .map_err(db_error(context.clone()))?;
        stmt.columns().iter().map(|c| c.type_().clone()).collect()
    };
    let copy_sql = format!(
        "COPY {} ({}) FROM STDIN (FORMAT binary)",
        table.name,
        columns.join(", ")
    );
    let chunks = table.chunk_count();
    let threads = threads.clamp(1, chunks.max(1) as usize) as u64;
    let results: Vec<Result<Vec<(u64, u64)>, BackendError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (types, copy_sql, context) = (&types, &copy_sql, &context);
                scope.spawn(move || -> Result<Vec<(u64, u64)>, BackendError> {
                    let mut client = endpoint.config(db).connect(NoTls).map_err(db_error(context.clone()))?;
                    let writer = client.copy_in(copy_sql.as_str()).map_err(db_error(context.clone()))?;
                    let mut writer = BinaryCopyInWriter::new(writer, types);
                    let mut sums = Vec::new();
                    let mut index = t;
                    while index < chunks {
                        let chunk = table.chunk(seed, index);
                        for r in 0..chunk.len() {
                            writer
                                .write_raw(chunk.columns.iter().map(|c| Param(&c[r])))
                                .map_err(db_error(context.clone()))?;
                        }
                        progress(chunk.len() as u64);
                        sums.push((index, chunk.checksum));
                        index += threads;
                    }
                    writer.finish().map_err(db_error(context.clone()))?;
                    Ok(sums)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    let mut sums = Vec::new();
    for r in results {
        sums.extend(r?);
    }
    sums.sort_unstable();
    let mut total = TableChecksum::new(&table.name);
    for (_, s) in sums {
        total.add(s);
    }
    Ok(total.finish())
}
