//! What can be checked without data: statements run or prepared on an
//! empty in-memory SQLite database (see `run::statements` for what a plan
//! or a workload checks).

use super::super::BaseSpec;
use rusqlite::Connection;

/// A statement that SQLite rejected on the empty schema.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("`{field}`: SQLite rejects this statement on an empty schema: {message}\n    {sql}")]
pub struct StatementError {
    /// Where the statement comes from, e.g. `op.place_order.sql` or
    /// `variant.covering.setup[0]`.
    pub field: String,
    pub sql: String,
    pub message: String,
}

/// What to check on one empty in-memory database.
#[derive(Debug, Default)]
pub struct Statements<'a> {
    /// The variant whose `setup` and `session` these are (empty: none).
    pub variant: &'a str,
    pub setup: &'a [String],
    pub session: &'a [String],
    /// Generated tables and their columns: each must exist in the schema.
    pub tables: Vec<(&'a str, Vec<&'a str>)>,
    /// Statements to prepare, each with the field it comes from
    /// (`op.get.sql`).
    pub prepare: Vec<(String, &'a str)>,
}

/// Runs the base schema and `after_load` of `spec`, then the variant's
/// `setup` and `session`, on an empty in-memory database; checks that every
/// generated table and column exists; prepares every statement. The first
/// failure is returned.
pub fn statements(spec: &BaseSpec, check: &Statements<'_>) -> Result<(), StatementError> {
    let fail = |field: String, sql: &str| {
        let sql = sql.to_string();
        move |e: rusqlite::Error| StatementError {
            field,
            sql,
            message: e.to_string(),
        }
    };
    super::vec::register();
    let conn = Connection::open_in_memory().map_err(fail("sqlite".into(), ""))?;
    let v = check.variant;
    let batches = [
        ("schema".to_string(), spec.schema.as_slice()),
        ("after_load".to_string(), spec.after_load.as_slice()),
        (format!("variant.{v}.setup"), check.setup),
        (format!("variant.{v}.session"), check.session),
    ];
    for (field, list) in batches {
        for (i, sql) in list.iter().enumerate() {
            conn.execute_batch(sql).map_err(fail(format!("{field}[{i}]"), sql))?;
        }
    }
    for (table, columns) in &check.tables {
        // Brackets, not double quotes: SQLite reads an unknown "name" as a
        // string literal, which would hide a missing column.
        let quote = |n: &str| format!("[{}]", n.replace(']', "]]"));
        let list: Vec<String> = columns.iter().map(|c| quote(c)).collect();
        let sql = format!("SELECT {} FROM {}", list.join(", "), quote(table));
        conn.prepare(&sql).map_err(fail(format!("table.{table}"), &sql))?;
    }
    for (field, sql) in &check.prepare {
        conn.prepare(sql).map_err(fail(field.clone(), sql))?;
    }
    Ok(())
}
