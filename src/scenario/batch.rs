//! `batch = { table = "metrics", rows = 500 }`: an operation that inserts a
//! batch of generated rows in one multi-row `INSERT ... VALUES` statement.
//! The rows are the table's own generators at row numbers past the loaded
//! ones (batch `b` holds rows `loaded + b * rows ..`), so ingest continues
//! every series where the load left it and no two batches repeat a row.

use super::diag::SourceRef;
use super::model::{AnswerCheck, OpDef, OpKind, Step, TableDef};
use super::per_backend::PerBackend;
use super::raw::{RawOp, RawOpKind, S};
use super::resolve_workload::Problems;

/// Most values one batch binds (SQLite allows 32,766 parameters).
pub const MAX_BATCH_VALUES: usize = 30_000;

/// `[op] batch`: which table's generators make the rows, and how many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchDecl {
    pub table: String,
    pub rows: u32,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBatch {
    pub table: S<String>,
    pub rows: S<u32>,
}

/// Resolves an operation with `batch`: its statement is generated from the
/// table's columns.
pub(super) fn resolve(p: &mut Problems, _source: &SourceRef, op: &RawOp, tables: &[TableDef]) -> Option<OpDef> {
    let raw = op.batch.as_ref()?;
    let name = op.name.get_ref();
    let field = format!("op.{name}.batch");
    if op.sql.is_some() || !op.params.is_empty() || !op.vars.is_empty() || !op.step.is_empty() {
        p.at(
            raw,
            &field,
            "a batch operation's statement is generated from its table; leave out `sql`, `params`, `vars` and `[[op.step]]`",
        );
        return None;
    }
    if op.kind == Some(RawOpKind::Read) || op.neighbours.is_some() {
        p.at(
            raw,
            &field,
            "a batch inserts rows: it is a write (leave out `kind = \"read\"` and `[op.neighbours]`)",
        );
        return None;
    }
    let r = raw.get_ref();
    let table = super::resolve_workload::generated_table(p, tables, &r.table, &format!("{field}.table"))?;
    let rows = *r.rows.get_ref() as usize;
    let columns: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    if rows == 0 || rows * columns.len() > MAX_BATCH_VALUES {
        p.at(
            &r.rows,
            format!("{field}.rows"),
            format!(
                "a batch binds 1 to {MAX_BATCH_VALUES} values; {rows} rows of {} columns is {}",
                columns.len(),
                rows * columns.len()
            ),
        );
        return None;
    }
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let row: Vec<String> = (0..columns.len())
                .map(|c| format!("${}", r * columns.len() + c + 1))
                .collect();
            format!("({})", row.join(", "))
        })
        .collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES {}",
        table.name,
        columns.join(", "),
        values.join(", ")
    );
    Some(OpDef {
        name: name.clone(),
        description: op.description.clone(),
        kind: OpKind::Write,
        vars: Vec::new(),
        steps: vec![Step {
            sql: PerBackend::all(sql),
            args: (0..rows * columns.len()).collect(),
        }],
        transaction: false,
        check: match op.check {
            Some(super::raw::RawCheck::None) => AnswerCheck::None,
            _ => AnswerCheck::Unordered,
        },
        neighbours: None,
        batch: Some(BatchDecl {
            table: table.name.clone(),
            rows: rows as u32,
        }),
    })
}
