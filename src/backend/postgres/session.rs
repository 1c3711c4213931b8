//! One client connection on the [`Wire`] client: statements prepared once
//! per session, every row and column read, transactions with BEGIN/COMMIT
//! (prepared too, as `pgbench -M prepared` does) and ROLLBACK on error,
//! errors classified by SQLSTATE.

use super::value::{Out, Param};
use super::wire::{Prepared, Row, Wire, WireError};
use crate::backend::{BackendError, BackendKind, ErrorClass, OpError, OpPlan, Pipeline, Session, StatementPlan};
use crate::datagen::Value;
use postgres::types::{IsNull, ToSql, Type};
use std::collections::HashMap;

pub struct PgSession {
    wire: Wire,
    /// Prepared statements by SQL text.
    statements: HashMap<String, Prepared>,
}

impl PgSession {
    pub fn new(mut wire: Wire, session: &[String]) -> Result<Self, BackendError> {
        for (i, statement) in session.iter().enumerate() {
            wire.simple(statement).map_err(|e| BackendError::Database {
                backend: BackendKind::Postgres,
                context: format!("session statement {}", i + 1),
                message: e.to_string(),
            })?;
        }
        Ok(PgSession {
            wire,
            statements: HashMap::new(),
        })
    }

    /// Queues one execution of `sql` with `args` drawn from `params`.
    fn queue(&mut self, sql: &str, args: &[usize], params: &[Value]) -> Result<(), WireError> {
        let statement = prepared(&mut self.statements, &mut self.wire, sql)?;
        self.wire.queue(statement, |i, ty, buf| bind(&params[args[i]], ty, buf))
    }

    /// Runs one statement and waits for its reply.
    fn round_trip(
        &mut self,
        sql: &str,
        args: &[usize],
        params: &[Value],
        row: impl FnMut(Row<'_>),
    ) -> Result<u64, WireError> {
        self.queue(sql, args, params)?;
        self.wire.send()?;
        self.wire.reply(row)
    }

    /// Runs every step of `op`; `row` gets the step index and each row.
    fn run(&mut self, op: &OpPlan, params: &[Value], mut row: impl FnMut(usize, Row<'_>)) -> Result<u64, OpError> {
        if op.transaction {
            self.round_trip("BEGIN", &[], params, |_| {})
                .map_err(|e| classify(&e))?;
        }
        let mut rows = 0;
        let result = op
            .steps
            .iter()
            .enumerate()
            .try_for_each(|(i, step): (usize, &StatementPlan)| {
                rows += self.round_trip(&step.sql, &step.args, params, |r| row(i, r))?;
                Ok::<_, WireError>(())
            });
        let result = match result {
            Ok(()) if op.transaction => self.round_trip("COMMIT", &[], params, |_| {}).map(|_| ()),
            other => other,
        };
        match result {
            Ok(()) => Ok(rows),
            Err(e) => {
                if op.transaction && !self.wire.is_closed() {
                    let _ = self.round_trip("ROLLBACK", &[], params, |_| {});
                }
                Err(classify(&e))
            }
        }
    }

    /// Column types of `sql` (prepared if it is not yet).
    fn columns_of(&mut self, sql: &str) -> Result<Vec<Option<Type>>, WireError> {
        Ok(prepared(&mut self.statements, &mut self.wire, sql)?.columns.clone())
    }
}

/// The statement prepared for `sql` on this connection, preparing it the
/// first time.
fn prepared<'a>(
    statements: &'a mut HashMap<String, Prepared>,
    wire: &mut Wire,
    sql: &str,
) -> Result<&'a Prepared, WireError> {
    if !statements.contains_key(sql) {
        let p = wire.prepare(sql)?;
        return Ok(statements.entry(sql.to_string()).or_insert(p));
    }
    Ok(&statements[sql])
}

/// Writes one parameter: binary for a type the server named, text otherwise.
fn bind(
    value: &Value,
    ty: Option<&Type>,
    buf: &mut bytes::BytesMut,
) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
    match ty {
        Some(ty) => Param(value).to_sql(ty, buf),
        None if matches!(value, Value::Null) => Ok(IsNull::Yes),
        None => {
            buf.extend_from_slice(value.to_string().as_bytes());
            Ok(IsNull::No)
        }
    }
}

impl Session for PgSession {
    fn execute(&mut self, op: &OpPlan, params: &[Value]) -> Result<u64, OpError> {
        if let [step] = op.steps.as_slice()
            && !op.transaction
        {
            // The common case, without the per-statement column list.
            return self
                .round_trip(&step.sql, &step.args, params, touch)
                .map_err(|e| classify(&e));
        }
        self.run(op, params, |_, r| touch(r))
    }

    fn fetch(&mut self, op: &OpPlan, params: &[Value]) -> Result<Vec<Vec<Value>>, OpError> {
        let columns = op
            .steps
            .iter()
            .map(|s| self.columns_of(&s.sql))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| classify(&e))?;
        let mut out = Vec::new();
        self.run(op, params, |step, r| {
            out.push(
                r.columns()
                    .zip(&columns[step])
                    .map(|(raw, ty)| decode(raw, ty.as_ref()))
                    .collect(),
            );
        })?;
        Ok(out)
    }

    fn pipeline(&mut self) -> Option<&mut dyn Pipeline> {
        Some(self)
    }
}

impl Pipeline for PgSession {
    fn submit(&mut self, op: &OpPlan, params: &[Value]) -> Result<(), OpError> {
        let [step] = op.steps.as_slice() else {
            return Err(OpError {
                class: ErrorClass::Other,
                message: format!("`{}` has several statements and cannot be pipelined", op.name),
            });
        };
        self.submit_sql(&step.sql, &step.args, params)
    }

    fn submit_sql(&mut self, sql: &str, args: &[usize], params: &[Value]) -> Result<(), OpError> {
        self.queue(sql, args, params).map_err(|e| classify(&e))
    }

    fn send(&mut self) -> Result<(), OpError> {
        self.wire.send().map_err(|e| classify(&e))
    }

    fn complete(&mut self) -> Result<u64, OpError> {
        self.wire.reply(touch).map_err(|e| classify(&e))
    }

    fn in_flight(&self) -> usize {
        self.wire.in_flight()
    }

    fn reply_arrived(&self) -> bool {
        self.wire.has_input()
    }

    fn fd(&self) -> Option<i32> {
        Some(self.wire.fd())
    }
}

/// Reads every column without decoding it (the timed path only touches values).
#[inline]
fn touch(row: Row<'_>) {
    for c in row.columns() {
        std::hint::black_box(c.map_or(0, <[u8]>::len));
    }
}

/// A column as a [`Value`] for answer comparison.
fn decode(raw: Option<&[u8]>, ty: Option<&Type>) -> Value {
    use postgres::types::FromSql;
    match (raw, ty) {
        (None, _) => Value::Null,
        (Some(raw), Some(ty)) => Out::from_sql(ty, raw).map_or_else(|e| Value::Text(format!("<{e}>")), |o| o.0),
        (Some(raw), None) => Value::Text(String::from_utf8_lossy(raw).into_owned()),
    }
}

/// Classifies a failure by SQLSTATE.
pub fn classify(e: &WireError) -> OpError {
    let code = e.code.as_deref().unwrap_or("");
    let class = match code {
        "40001" => ErrorClass::SerializationFailure,
        "40P01" => ErrorClass::Deadlock,
        "57014" | "55P03" => ErrorClass::Timeout,
        c if c.starts_with("23") => ErrorClass::Constraint,
        c if c.starts_with("08") || c.starts_with("57P") => ErrorClass::ConnectionLost,
        "" if e.closed => ErrorClass::ConnectionLost,
        _ => ErrorClass::Other,
    };
    OpError {
        class,
        message: e.to_string(),
    }
}
