//! Table and index sizes of a database, every partition and TimescaleDB
//! chunk counted with the table (and index) it belongs to.

use super::cell;
use crate::backend::{ObjectKind, ObjectSize, Sizes};
use crate::pgwire::{Wire, WireError};
use std::collections::BTreeMap;

/// TimescaleDB names each chunk's copy of a hypertable index: chunk index
/// name → the hypertable's index name (empty without TimescaleDB).
fn chunk_indexes(c: &mut Wire) -> Result<BTreeMap<String, String>, WireError> {
    Ok(
        match c.simple_query("SELECT to_regclass('_timescaledb_catalog.chunk_index') IS NOT NULL") {
            Ok(r) if cell(&r, 0) == Some("t") => c
                .simple_query("SELECT index_name, hypertable_index_name FROM _timescaledb_catalog.chunk_index")?
                .into_iter()
                .filter_map(|r| Some((r.first()?.clone()?, r.get(1)?.clone()?)))
                .collect(),
            _ => BTreeMap::new(),
        },
    )
}

/// The index each of `names` belongs to at the top: a partition's index
/// → the partitioned table's, a chunk's → the hypertable's, any other →
/// itself. Plans name the index they scan; a variant's indexes are the
/// top ones.
pub(super) fn root_indexes(c: &mut Wire, names: &[String]) -> Result<BTreeMap<String, String>, WireError> {
    let chunks = chunk_indexes(c)?;
    let listed: Vec<String> = names.iter().map(|n| crate::pgwire::quote_literal(n)).collect();
    let mut out = BTreeMap::new();
    if !listed.is_empty() {
        let rows = c.simple_query(&format!(
            "WITH RECURSIVE up(idx, start) AS ( \
               SELECT c.oid, c.relname FROM pg_class c WHERE c.relkind IN ('i', 'I') AND c.relname IN ({}) \
               UNION ALL \
               SELECT h.inhparent, up.start FROM pg_inherits h JOIN up ON h.inhrelid = up.idx) \
             SELECT up.start, c.relname FROM up JOIN pg_class c ON c.oid = up.idx \
             WHERE NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = up.idx)",
            listed.join(", ")
        ))?;
        out.extend(
            rows.into_iter()
                .filter_map(|r| Some((r.first()?.clone()?, r.get(1)?.clone()?))),
        );
    }
    for n in names {
        if let Some(parent) = chunks.get(n) {
            out.insert(n.clone(), parent.clone());
        }
    }
    Ok(out)
}

/// Sizes of every user table and index in the connected database.
pub(super) fn read(c: &mut Wire) -> Result<Sizes, WireError> {
    // Every relation rolls up to the top of its inheritance tree:
    // partitions to their partitioned table, TimescaleDB chunks to their
    // hypertable, partition indexes to the partitioned index.
    let rows = c
        .simple_query(
            "WITH RECURSIVE tree(relid, root) AS ( \
               SELECT c.oid, c.oid FROM pg_class c \
               WHERE c.relkind IN ('r', 'p', 'm', 'i', 'I') \
                 AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = c.oid) \
               UNION ALL \
               SELECT h.inhrelid, t.root FROM pg_inherits h JOIN tree t ON h.inhparent = t.relid) \
             SELECT r.relname, CASE WHEN c.relkind IN ('i', 'I') THEN 'index' ELSE 'table' END, \
                    COALESCE(tr.relname, r.relname), \
                    CASE WHEN c.relkind IN ('i', 'I') THEN pg_relation_size(c.oid) \
                         ELSE pg_relation_size(c.oid, 'main') + pg_relation_size(c.oid, 'fsm') + pg_relation_size(c.oid, 'vm') END, \
                    CASE WHEN c.reltoastrelid <> 0 THEN pg_total_relation_size(c.reltoastrelid) ELSE 0 END \
             FROM tree t \
             JOIN pg_class c ON c.oid = t.relid \
             JOIN pg_class r ON r.oid = t.root \
             LEFT JOIN pg_index i ON i.indexrelid = c.oid \
             LEFT JOIN tree tt ON tt.relid = i.indrelid \
             LEFT JOIN pg_class tr ON tr.oid = tt.root \
             JOIN pg_namespace n ON n.oid = COALESCE(tr.relnamespace, r.relnamespace) \
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') \
               AND n.nspname NOT LIKE '\\_timescaledb%'",
        )
        ?;
    let chunk_index = chunk_indexes(c)?;
    // (bytes, TOAST bytes, relations rolled up)
    let mut grouped: BTreeMap<(String, String, String), (u64, u64, u64)> = BTreeMap::new();
    for r in rows {
        let text = |i: usize| r.get(i).cloned().flatten().unwrap_or_default();
        let num = |i: usize| text(i).parse::<u64>().unwrap_or(0);
        let name = chunk_index.get(&text(0)).cloned().unwrap_or_else(|| text(0));
        // Indexes sort before tables within a table, as before.
        let e = grouped.entry((text(2), text(1), name)).or_default();
        e.0 += num(3);
        e.1 += num(4);
        e.2 += 1;
    }
    let mut objects: Vec<ObjectSize> = grouped
        .into_iter()
        .map(|((table, kind, name), (bytes, toast_bytes, relations))| ObjectSize {
            name,
            kind: ObjectKind::from_catalog(&kind),
            table,
            bytes,
            toast_bytes,
            // The parent itself is one of the relations of a partitioned
            // table or hypertable.
            parts: relations.saturating_sub(1),
        })
        .collect();
    objects.sort_by(|a, b| (&a.table, &b.kind, &a.name).cmp(&(&b.table, &a.kind, &b.name)));
    Ok(Sizes {
        total_bytes: objects.iter().map(|o| o.bytes + o.toast_bytes).sum(),
        objects,
    })
}
