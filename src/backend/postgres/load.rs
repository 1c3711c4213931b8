//! Loading one generated table with binary COPY on the [`Wire`] client.
//! Generator threads produce chunks in parallel while one connection streams
//! them in 256 KiB CopyData messages, like `pgbench -i`, into a table
//! truncated in the same transaction so the COPY can use `FREEZE`: rows
//! arrive frozen and all-visible, and the VACUUM after the load has almost
//! nothing to do. (Tables that foreign keys reference cannot be truncated;
//! they load without FREEZE.)

use super::value::Param;
use super::wire::{Wire, WireError};
use crate::backend::{BackendError, BackendKind, Progress};
use crate::datagen::TablePlan;
use crate::provision::{Endpoint, Transport};
use bytes::{BufMut, BytesMut};
use postgres::types::{IsNull, ToSql};

/// Bytes of COPY data sent per message.
const COPY_MESSAGE: usize = 256 * 1024;

pub fn copy_table(
    endpoint: &Endpoint,
    db: &str,
    table: &TablePlan,
    seed: u64,
    threads: usize,
    progress: Progress<'_>,
) -> Result<String, BackendError> {
    let context = format!("loading table `{}`", table.name);
    let fail = |message: String| BackendError::Database {
        backend: BackendKind::Postgres,
        context: context.clone(),
        message,
    };
    let wire_err = |e: WireError| fail(e.to_string());
    let columns: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    let mut wire = Wire::connect(endpoint, db, Transport::Tcp).map_err(wire_err)?;
    let types = wire
        .prepare(&format!("SELECT {} FROM {} LIMIT 0", columns.join(", "), table.name))
        .map_err(wire_err)?
        .columns;
    let types = types
        .into_iter()
        .zip(&columns)
        .map(|(t, c)| t.ok_or_else(|| fail(format!("column `{c}` has a type binary COPY cannot write"))))
        .collect::<Result<Vec<_>, _>>()?;
    // TRUNCATE (and so FREEZE) is impossible on a table other tables reference.
    let referenced = wire
        .prepare(&format!(
            "SELECT 1 FROM pg_constraint WHERE contype = 'f' AND confrelid = '{}'::regclass",
            table.name.replace('\'', "''")
        ))
        .and_then(|s| {
            wire.queue(&s, |_, _, _| Ok(IsNull::Yes))?;
            wire.send()?;
            wire.reply(|_| {})
        })
        .map_err(wire_err)?
        > 0;
    wire.simple("BEGIN").map_err(wire_err)?;
    let freeze = if referenced {
        ""
    } else {
        wire.simple(&format!("TRUNCATE {}", table.name)).map_err(wire_err)?;
        ", FREEZE"
    };
    wire.copy_in(&format!(
        "COPY {} ({}) FROM STDIN (FORMAT binary{freeze})",
        table.name,
        columns.join(", ")
    ))
    .map_err(wire_err)?;

    let mut buf = BytesMut::with_capacity(COPY_MESSAGE + 64 * 1024);
    buf.put_slice(b"PGCOPY\n\xff\r\n\0");
    buf.put_i32(0); // flags
    buf.put_i32(0); // header extension length
    let ncols = types.len() as i16;
    let sink = |chunk: crate::datagen::Chunk| {
        for r in 0..chunk.len() {
            buf.put_i16(ncols);
            for (column, ty) in chunk.columns.iter().zip(&types) {
                let at = buf.len();
                buf.put_i32(0);
                let len = match Param(&column[r])
                    .to_sql(ty, &mut buf)
                    .map_err(|e| fail(e.to_string()))?
                {
                    IsNull::Yes => -1,
                    IsNull::No => (buf.len() - at - 4) as i32,
                };
                buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
            }
            if buf.len() >= COPY_MESSAGE {
                wire.copy_data(&buf).map_err(wire_err)?;
                buf.clear();
            }
        }
        progress(chunk.len() as u64);
        Ok::<(), BackendError>(())
    };
    let checksum = table.generate(seed, threads, sink)?;
    buf.put_i16(-1);
    wire.copy_data(&buf).map_err(wire_err)?;
    wire.copy_done().map_err(wire_err)?;
    wire.simple("COMMIT").map_err(wire_err)?;
    Ok(checksum)
}
