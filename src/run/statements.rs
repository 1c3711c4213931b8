//! SQL checked before any work: every SQLite statement of a plan (or of a
//! workload alone) run or prepared on an empty in-memory schema, each
//! failure located in the file the statement comes from. `validate` and
//! `run` both call this, so a typo in a table name fails in milliseconds
//! instead of after the load.

use crate::backend::BackendKind;
use crate::backend::sqlite::check::{self, StatementError, Statements};
use crate::run::RunPlan;
use crate::scenario::{Source, Workload};
use std::path::Path;

/// A statement SQLite rejected, with where it is written:
/// `path:line:column` of its text, or the path alone when the text is not
/// in the file verbatim (escapes, continuation lines).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{at}: {error}")]
pub struct Located {
    pub at: String,
    pub error: StatementError,
}

/// The plan's SQLite statements: each variant's setup and session, the
/// generated tables and columns, and the statements of the mix.
pub fn check_plan(plan: &RunPlan) -> Vec<Located> {
    let sc = &plan.scenario;
    let spec = crate::backend::BaseSpec::for_workload(&sc.workload, BackendKind::Sqlite);
    let mut errors = Vec::new();
    for t in plan.targets.iter().filter(|t| t.backend == BackendKind::Sqlite) {
        let mut prepare = Vec::new();
        for id in plan.mix.ops() {
            let op = &t.ops[id];
            // A variant's own SQL for the operation is written in the scenario.
            let overridden = sc.variants[t.variant.0].overrides.contains_key(&id);
            for (i, step) in op.steps.iter().enumerate() {
                let mut f = field(&op.name, op.steps.len(), i);
                if overridden {
                    f = format!("variant.{}.ops.{}", t.name, &f["op.".len()..]);
                }
                prepare.push((f, step.sql.as_str()));
            }
        }
        let statements = Statements {
            variant: &t.name,
            setup: &t.setup,
            session: &t.session,
            tables: generated_tables(&sc.workload),
            prepare,
        };
        if let Err(e) = check::statements(&spec, &statements)
            && !errors.contains(&e)
        {
            errors.push(e);
        }
    }
    located(errors, &sc.path, &sc.workload.path)
}

/// A workload's SQLite statements alone: its schema, tables and every
/// operation (a workload has no mix). Nothing for a workload without a
/// SQLite schema.
pub fn check_workload(w: &Workload) -> Vec<Located> {
    if w.schema.get(BackendKind::Sqlite).is_none_or(|s| s.is_empty()) {
        return Vec::new();
    }
    let spec = crate::backend::BaseSpec::for_workload(w, BackendKind::Sqlite);
    let mut prepare = Vec::new();
    for op in &w.ops {
        for (i, step) in op.steps.iter().enumerate() {
            if let Some(sql) = step.sql.get(BackendKind::Sqlite) {
                prepare.push((field(&op.name, op.steps.len(), i), sql.as_str()));
            }
        }
    }
    let statements = Statements {
        tables: generated_tables(w),
        prepare,
        ..Default::default()
    };
    let errors = check::statements(&spec, &statements).err().into_iter().collect();
    located(errors, &w.path, &w.path)
}

/// `op.get.sql`, or `op.get.step[1]` for an operation of several statements.
fn field(op: &str, steps: usize, i: usize) -> String {
    if steps == 1 {
        format!("op.{op}.sql")
    } else {
        format!("op.{op}.step[{i}]")
    }
}

/// Every generated table with its generated columns.
fn generated_tables(w: &Workload) -> Vec<(&str, Vec<&str>)> {
    w.tables
        .iter()
        .map(|t| (t.name.as_str(), t.columns.iter().map(|c| c.name.as_str()).collect()))
        .collect()
}

/// SQL as the files write it: the SQLite plan numbers placeholders `?1`;
/// workloads write `$1`.
fn as_written(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// Locates each error in the scenario (variant statements) or the workload.
fn located(errors: Vec<StatementError>, scenario: &Path, workload: &Path) -> Vec<Located> {
    errors
        .into_iter()
        .map(|mut error| {
            error.sql = as_written(&error.sql);
            let file = if error.field.starts_with("variant.") {
                scenario
            } else {
                workload
            };
            let source = Source::read(file).ok();
            // A generated table is found by its quoted name.
            let quoted;
            let needle = match error.field.strip_prefix("table.") {
                Some(table) => {
                    quoted = format!("\"{table}\"");
                    quoted.as_str()
                }
                None => error.sql.as_str(),
            };
            let at = match source
                .as_ref()
                .and_then(|s| Some((s, s.text.find(needle).filter(|_| !needle.is_empty())?)))
            {
                Some((s, offset)) => {
                    let (line, column) = s.position(offset);
                    format!("{}:{line}:{column}", file.display())
                }
                None => file.display().to_string(),
            };
            Located { at, error }
        })
        .collect()
}
