//! What can be checked without data: every statement of a scenario run on
//! an empty in-memory SQLite database (schema, `after_load`, each variant's
//! setup and session statements), and every operation in the mix prepared
//! there. `validate` and `run` both do this before any work, so a typo in a
//! table name fails in milliseconds instead of after the load.

use super::super::{BaseSpec, OpPlan};
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

/// Runs one variant's statements on an empty in-memory database: the
/// base schema and `after_load`, the variant's `setup` and `session`, then
/// prepares every statement of `ops`. The first failure is returned.
pub fn statements(
    spec: &BaseSpec,
    variant: &str,
    setup: &[String],
    session: &[String],
    ops: &[&OpPlan],
) -> Result<(), StatementError> {
    let fail = |field: String, sql: &str| {
        let sql = sql.to_string();
        move |e: rusqlite::Error| StatementError {
            field,
            sql,
            message: e.to_string(),
        }
    };
    let conn = Connection::open_in_memory().map_err(fail("sqlite".into(), ""))?;
    let batches = [
        ("schema".to_string(), &spec.schema),
        ("after_load".to_string(), &spec.after_load),
        (format!("variant.{variant}.setup"), &setup.to_vec()),
        (format!("variant.{variant}.session"), &session.to_vec()),
    ];
    for (field, list) in batches {
        for (i, sql) in list.iter().enumerate() {
            conn.execute_batch(sql).map_err(fail(format!("{field}[{i}]"), sql))?;
        }
    }
    for op in ops {
        for (i, step) in op.steps.iter().enumerate() {
            let field = if op.steps.len() == 1 {
                format!("op.{}.sql", op.name)
            } else {
                format!("op.{}.steps[{i}]", op.name)
            };
            conn.prepare(&step.sql).map_err(fail(field, &step.sql))?;
        }
    }
    Ok(())
}
