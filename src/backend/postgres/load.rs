//! Loading one generated table with binary COPY. Generator threads produce
//! chunks in parallel while one connection streams them, like `pgbench -i`,
//! into a table truncated in the same transaction so the COPY can use
//! `FREEZE`: rows arrive frozen and all-visible, and the VACUUM after the
//! load has almost nothing to do. (Tables that foreign keys reference cannot
//! be truncated; they load without FREEZE.)

use super::db_error;
use super::value::Param;
use crate::backend::{BackendError, Progress};
use crate::datagen::TablePlan;
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
    let mut client = endpoint.config(db).connect(NoTls).map_err(db_error(context.clone()))?;
    let types: Vec<Type> = client
        .prepare(&format!("SELECT {} FROM {} LIMIT 0", columns.join(", "), table.name))
        .map_err(db_error(context.clone()))?
        .columns()
        .iter()
        .map(|c| c.type_().clone())
        .collect();
    // TRUNCATE (and so FREEZE) is impossible on a table other tables reference.
    let referenced: bool = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE contype = 'f' AND confrelid = $1::text::regclass)",
            &[&table.name],
        )
        .map_err(db_error(context.clone()))?
        .get(0);
    let mut tx = client.transaction().map_err(db_error(context.clone()))?;
    let freeze = if referenced {
        ""
    } else {
        tx.batch_execute(&format!("TRUNCATE {}", table.name))
            .map_err(db_error(context.clone()))?;
        ", FREEZE"
    };
    let copy = format!(
        "COPY {} ({}) FROM STDIN (FORMAT binary{freeze})",
        table.name,
        columns.join(", ")
    );
    let writer = tx.copy_in(copy.as_str()).map_err(db_error(context.clone()))?;
    let mut writer = BinaryCopyInWriter::new(writer, &types);
    let sink = |chunk: crate::datagen::Chunk| {
        for r in 0..chunk.len() {
            writer
                .write_raw(chunk.columns.iter().map(|c| Param(&c[r])))
                .map_err(db_error(context.clone()))?;
        }
        progress(chunk.len() as u64);
        Ok::<(), BackendError>(())
    };
    let checksum = table.generate(seed, threads, sink)?;
    writer.finish().map_err(db_error(context.clone()))?;
    tx.commit().map_err(db_error(context))?;
    Ok(checksum)
}
