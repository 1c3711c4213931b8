//! Loading one generated table with COPY on the [`Wire`] client. Generator
//! threads produce chunks in parallel while one connection streams them in
//! 256 KiB CopyData messages, like `pgbench -i`, into a table truncated in
//! the same transaction so the COPY can use `FREEZE`: rows arrive frozen and
//! all-visible, and the VACUUM after the load has almost nothing to do.
//! (Tables that foreign keys reference cannot be truncated; they load
//! without FREEZE.) Binary COPY when every column's type has a binary codec;
//! text COPY otherwise (numeric, enum, interval or extension columns), so
//! any column type loads. A server error ends the stream within one message.

use super::value::{encode, format, is_binary, write_text_for};
use crate::backend::{BackendError, BackendKind, LoadProgress};
use crate::datagen::TablePlan;
use crate::pgwire::{ConnInfo, Limits, Wire, WireError, cell, quote_literal};
use bytes::{BufMut, BytesMut};
use postgres_protocol::IsNull;

/// Bytes of COPY data sent per message.
const COPY_MESSAGE: usize = 256 * 1024;

pub fn copy_table(
    info: &ConnInfo,
    limits: Limits,
    table: &TablePlan,
    seed: u64,
    threads: usize,
    progress: LoadProgress<'_>,
    cancel: &crate::cancel::CancelToken,
) -> Result<String, BackendError> {
    let context = format!("loading table `{}`", table.name);
    let fail = |message: String| BackendError::Database {
        backend: BackendKind::Postgres,
        context: context.clone(),
        message,
    };
    let wire_err = |e: WireError| fail(e.to_string());
    let columns: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    let mut wire = Wire::connect(info).map_err(wire_err)?;
    wire.set_limits(limits);
    let types = wire
        .prepare(
            &format!("SELECT {} FROM {} LIMIT 0", columns.join(", "), table.name),
            &[],
            format,
        )
        .map_err(wire_err)?
        .columns;
    let binary = types.iter().all(is_binary);
    // FREEZE needs a plain table truncated in the same transaction: not a
    // table other tables reference (no TRUNCATE), not a partitioned table,
    // not a TimescaleDB hypertable (rows go to chunks).
    let name = quote_literal(&table.name);
    let rows = wire
        .simple_query(&format!(
            "SELECT c.relkind = 'r' \
                AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE contype = 'f' AND confrelid = c.oid) \
                AND NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid \
                                AND t.tgname = 'ts_insert_blocker') \
             FROM pg_class c WHERE c.oid = {name}::regclass"
        ))
        .map_err(wire_err)?;
    let can_freeze = cell(&rows, 0) == Some("t");
    wire.batch("BEGIN").map_err(wire_err)?;
    let freeze = if !can_freeze {
        ""
    } else {
        wire.batch(&format!("TRUNCATE {}", table.name)).map_err(wire_err)?;
        ", FREEZE"
    };
    wire.copy_in(&format!(
        "COPY {} ({}) FROM STDIN (FORMAT {}{freeze})",
        table.name,
        columns.join(", "),
        if binary { "binary" } else { "text" }
    ))
    .map_err(wire_err)?;

    let mut buf = BytesMut::with_capacity(COPY_MESSAGE + 64 * 1024);
    if binary {
        buf.put_slice(b"PGCOPY\n\xff\r\n\0");
        buf.put_i32(0); // flags
        buf.put_i32(0); // header extension length
    }
    let ncols = types.len() as i16;
    let mut field = BytesMut::new();
    let sink = |chunk: crate::datagen::Chunk| {
        // Between chunks: the open COPY and its transaction are dropped
        // with the connection.
        if cancel.is_cancelled() {
            return Err(BackendError::Interrupted {
                backend: BackendKind::Postgres,
                during: context.clone(),
            });
        }
        for r in 0..chunk.len() {
            if binary {
                buf.put_i16(ncols);
                for (column, ty) in chunk.columns.iter().zip(&types) {
                    let at = buf.len();
                    buf.put_i32(0);
                    let len = match encode(&column[r], ty, &mut buf).map_err(|e| fail(e.to_string()))? {
                        IsNull::Yes => -1,
                        IsNull::No => (buf.len() - at - 4) as i32,
                    };
                    buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
                }
            } else {
                for (i, (column, ty)) in chunk.columns.iter().zip(&types).enumerate() {
                    if i > 0 {
                        buf.put_u8(b'\t');
                    }
                    if matches!(column[r], crate::datagen::Value::Null) {
                        buf.put_slice(b"\\N");
                        continue;
                    }
                    field.clear();
                    write_text_for(&column[r], ty, &mut field);
                    escape_copy_text(&field, &mut buf);
                }
                buf.put_u8(b'\n');
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
    if binary {
        buf.put_i16(-1);
    }
    wire.copy_data(&buf).map_err(wire_err)?;
    wire.copy_done().map_err(wire_err)?;
    wire.batch("COMMIT").map_err(wire_err)?;
    Ok(checksum)
}

/// Escapes a field for COPY's text format: backslash, tab, newline and
/// carriage return.
fn escape_copy_text(field: &[u8], out: &mut BytesMut) {
    for &b in field {
        match b {
            b'\\' => out.put_slice(b"\\\\"),
            b'\t' => out.put_slice(b"\\t"),
            b'\n' => out.put_slice(b"\\n"),
            b'\r' => out.put_slice(b"\\r"),
            b => out.put_u8(b),
        }
    }
}
