//! User-defined evidence: each `[[evidence]]` query returns one number,
//! read on a variant's copy after its setup and again after each measured
//! window (`evidence.NAME` in verdicts). A query that fails or returns
//! something other than one number stops the run with an error naming it:
//! it is the scenario's SQL, like a setup statement.

use super::plan::{RunPlan, Target};
use crate::backend::{BackendError, Engine, OpPlan, StatementPlan};
use crate::datagen::Value;
use crate::scenario::OpKind;

/// One reading of every evidence query on `target`'s current copy, in the
/// scenario's order; `None` where the query has no SQL for this backend or
/// returned NULL. Empty when the scenario has no evidence.
pub fn read(engine: &dyn Engine, plan: &RunPlan, target: &Target) -> Result<Vec<Option<f64>>, BackendError> {
    let queries = &plan.scenario.evidence;
    if queries.is_empty() {
        return Ok(Vec::new());
    }
    let mut session = engine.open_session(&target.name, &target.session_options(plan))?;
    queries
        .iter()
        .map(|q| {
            let Some(sql) = q.sql.get(target.backend) else {
                return Ok(None);
            };
            let op = OpPlan {
                name: format!("evidence.{}", q.name),
                kind: OpKind::Read,
                transaction: false,
                steps: vec![StatementPlan {
                    sql: target.backend.translate(sql),
                    args: Vec::new(),
                }],
            };
            let fail = |message: String| BackendError::Database {
                backend: target.backend,
                context: format!("evidence `{}` on variant `{}`", q.name, target.name),
                message,
            };
            let rows = session.fetch(&op, &[]).map_err(|e| fail(e.message))?;
            number(&rows).map_err(fail)
        })
        .collect()
}

/// The one number in `rows`: a single row with a single numeric column.
fn number(rows: &[Vec<Value>]) -> Result<Option<f64>, String> {
    let [row] = rows else {
        return Err(format!(
            "returned {} rows; an evidence query returns one row with one number",
            rows.len()
        ));
    };
    let [value] = row.as_slice() else {
        return Err(format!(
            "returned {} columns; an evidence query returns one number",
            row.len()
        ));
    };
    match value {
        Value::Null => Ok(None),
        Value::Int(i) => Ok(Some(*i as f64)),
        Value::Float(f) => Ok(Some(*f)),
        Value::Decimal { units, scale } => Ok(Some(*units as f64 / 10f64.powi(*scale as i32))),
        Value::Text(t) => t
            .trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| format!("returned `{t}`, not a number")),
        other => Err(format!("returned `{other}`, not a number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_number_is_read_from_one_row_and_anything_else_is_named() {
        assert_eq!(number(&[vec![Value::Int(40)]]), Ok(Some(40.0)));
        assert_eq!(
            number(&[vec![Value::Decimal { units: 1234, scale: 2 }]]),
            Ok(Some(12.34))
        );
        assert_eq!(number(&[vec![Value::Text(" 0.5 ".into())]]), Ok(Some(0.5)));
        assert_eq!(number(&[vec![Value::Null]]), Ok(None));
        assert!(number(&[]).unwrap_err().contains("0 rows"));
        assert!(
            number(&[vec![Value::Int(1), Value::Int(2)]])
                .unwrap_err()
                .contains("2 columns")
        );
        assert!(
            number(&[vec![Value::Text("many".into())]])
                .unwrap_err()
                .contains("`many`, not a number")
        );
    }
}
