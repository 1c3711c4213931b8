//! One client connection on the [`Wire`] client. Every statement the session
//! will run is prepared when it opens (before anything can be pipelined),
//! transactions use prepared BEGIN/COMMIT (as `pgbench -M prepared` does)
//! with ROLLBACK on error, and errors are classified by SQLSTATE.

use super::value::{decode, encode, format, write_text_for};
use crate::backend::{
    BackendError, BackendKind, ErrorClass, OpError, OpPlan, Pipeline, QueryPlan, Session, SessionOptions,
};
use crate::cancel::CancelToken;
use crate::datagen::Value;
use crate::pgwire::{
    ConnInfo, Limits, Prepared, Row, Wire, WireError, WireErrorKind, cell, quote_ident, quote_literal, sqlstate,
};
use std::collections::HashMap;
use std::time::Duration;

/// Extra time the client gives the server past `op_timeout` before it
/// cancels the statement itself: the server's `statement_timeout` should
/// normally end it first.
pub const CLIENT_GRACE: Duration = Duration::from_secs(1);

/// Executions before EXPLAIN: PostgreSQL's plan cache decides between
/// custom and generic plans after the fifth.
const PLAN_CACHE_WARMUP: usize = 6;

pub struct PgSession {
    wire: Wire,
    /// Prepared statements by SQL text.
    statements: HashMap<String, Prepared>,
}

fn session_error(context: String) -> impl FnOnce(WireError) -> BackendError {
    move |e| BackendError::Database {
        backend: BackendKind::Postgres,
        context,
        message: e.to_string(),
    }
}

impl PgSession {
    /// Connects, runs the session statements, sets the operation timeout
    /// and prepares every statement of `options.ops`.
    pub fn open(info: &ConnInfo, options: &SessionOptions<'_>, cancel: &CancelToken) -> Result<Self, BackendError> {
        let wire = Wire::connect(info).map_err(|e| match e.kind {
            // Nothing answered: the reconnect logic tells this apart from a
            // server that answered with an error.
            WireErrorKind::Io(_) | WireErrorKind::Connect(_) => BackendError::Unavailable {
                backend: BackendKind::Postgres,
                message: format!("connecting to {}: {e}", info.display()),
            },
            _ => session_error(format!("connecting to {}", info.display()))(e),
        })?;
        let mut s = PgSession {
            wire,
            statements: HashMap::new(),
        };
        for (i, statement) in options.statements.iter().enumerate() {
            s.wire
                .batch(statement)
                .map_err(session_error(format!("session statement {}", i + 1)))?;
        }
        if let Some(t) = options.op_timeout {
            s.wire
                .batch(&format!("SET statement_timeout = {}", t.as_millis().max(1)))
                .map_err(session_error("setting statement_timeout".into()))?;
        }
        s.wire.set_limits(Limits {
            reply_timeout: options.op_timeout.map(|t| t + CLIENT_GRACE),
            cancel: Some(cancel.clone()),
        });
        let mut sqls: Vec<&str> = vec!["BEGIN", "COMMIT", "ROLLBACK"];
        sqls.extend(options.ops.iter().flat_map(|o| o.steps.iter().map(|s| s.sql.as_str())));
        for sql in sqls {
            s.prepared(sql)
                .map_err(session_error(format!("preparing `{}`", crate::util::one_line(sql, 80))))?;
        }
        Ok(s)
    }

    /// The statement prepared for `sql`, preparing it now if the session
    /// was not told about it (only possible with nothing in flight).
    fn prepared(&mut self, sql: &str) -> Result<&Prepared, WireError> {
        if !self.statements.contains_key(sql) {
            let p = self.wire.prepare(sql, &[], format)?;
            return Ok(self.statements.entry(sql.to_string()).or_insert(p));
        }
        Ok(&self.statements[sql])
    }

    /// Queues one execution of `sql` with `args` drawn from `params`.
    fn queue(&mut self, sql: &str, args: &[usize], params: &[Value]) -> Result<(), WireError> {
        let statement = match self.statements.get(sql) {
            Some(s) => s,
            None if self.wire.in_flight() == 0 => {
                self.prepared(sql)?;
                &self.statements[sql]
            }
            None => {
                return Err(WireError {
                    closed: false,
                    ..WireError::protocol("a statement the session was not opened with cannot join a pipeline")
                });
            }
        };
        self.wire
            .queue(statement, |i, ty, buf| encode(&params[args[i]], ty, buf))
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
        let result = op.steps.iter().enumerate().try_for_each(|(i, step)| {
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

    /// `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE` of the statement
    /// this session prepared for each step of `op`, inside a transaction
    /// that is rolled back; each plan says whether the plan cache chose a
    /// generic or a custom plan for it.
    pub fn explain(&mut self, op: &OpPlan, params: &[Value]) -> Result<Vec<QueryPlan>, WireError> {
        // The plan cache chooses between custom and generic plans after five
        // executions: run each statement as a measured session would have,
        // inside a transaction that is rolled back.
        self.wire.batch("BEGIN")?;
        'warm: for step in &op.steps {
            for _ in 0..PLAN_CACHE_WARMUP {
                if self.round_trip(&step.sql, &step.args, params, |_| {}).is_err() {
                    break 'warm;
                }
            }
        }
        self.wire.batch("ROLLBACK")?;
        self.wire.batch("BEGIN")?;
        let result = op
            .steps
            .iter()
            .map(|step| self.explain_step(&step.sql, &step.args, params))
            .collect();
        let _ = self.wire.batch("ROLLBACK");
        result
    }

    fn explain_step(&mut self, sql: &str, args: &[usize], params: &[Value]) -> Result<QueryPlan, WireError> {
        let statement = self.prepared(sql)?.clone();
        // EXECUTE takes its arguments as SQL expressions (a utility statement
        // has no protocol parameters): each value as a typed literal.
        let literals: Vec<String> = statement
            .params
            .iter()
            .zip(args)
            .map(|(ty, &a)| literal(&params[a], ty))
            .collect();
        let explain_sql = format!(
            "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE {}{}",
            statement.name,
            if literals.is_empty() {
                String::new()
            } else {
                format!("({})", literals.join(", "))
            }
        );
        let counts = |wire: &mut Wire| -> Result<(i64, i64), WireError> {
            let rows = wire.simple_query(&format!(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = '{}'",
                statement.name
            ))?;
            let n = |i: usize| cell(&rows, i).and_then(|v| v.parse().ok()).unwrap_or(0);
            Ok((n(0), n(1)))
        };
        let before = counts(&mut self.wire)?;
        let rows = self.wire.simple_query(&explain_sql)?;
        let text = rows
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next().flatten())
            .unwrap_or_default();
        let after = counts(&mut self.wire)?;
        let cache = if after.0 > before.0 {
            Some("generic")
        } else if after.1 > before.1 {
            Some("custom")
        } else {
            None
        };
        let json: serde_json::Value = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        let mut plan = super::query_plan::summarise(json);
        plan.plan_cache = cache.map(str::to_string);
        Ok(plan)
    }
}

/// `value` as an SQL literal of type `ty`, e.g. `CAST('42' AS pg_catalog.int8)`.
fn literal(value: &Value, ty: &postgres_types::Type) -> String {
    if matches!(value, Value::Null) {
        return format!("CAST(NULL AS {}.{})", quote_ident(ty.schema()), quote_ident(ty.name()));
    }
    let mut text = bytes::BytesMut::new();
    write_text_for(value, ty, &mut text);
    format!(
        "CAST({} AS {}.{})",
        quote_literal(&String::from_utf8_lossy(&text)),
        quote_ident(ty.schema()),
        quote_ident(ty.name())
    )
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
            .map(|s| {
                self.prepared(&s.sql)
                    .map(|p| (p.columns.clone(), p.column_formats.clone()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| classify(&e))?;
        let mut out = Vec::new();
        self.run(op, params, |step, r| {
            let (types, formats) = &columns[step];
            out.push(
                r.columns()
                    .zip(types.iter().zip(formats))
                    .map(|(raw, (ty, &f))| decode(raw, ty, f))
                    .collect(),
            );
        })?;
        Ok(out)
    }

    fn notices(&self) -> u64 {
        self.wire.notices()
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

    fn complete_arrived(&mut self) -> Result<u64, OpError> {
        self.wire.mark_readable();
        self.complete()
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

    fn cancel(&mut self) {
        let _ = self.wire.cancel();
    }

    fn abandon(&mut self) -> OpError {
        self.wire.close();
        OpError {
            class: ErrorClass::Timeout,
            message: "no reply after the operation timeout and a cancel request; the connection was closed".into(),
        }
    }
}

/// Reads every column without decoding it (the timed path only touches values).
#[inline]
fn touch(row: Row<'_>) {
    for c in row.columns() {
        std::hint::black_box(c.map_or(0, <[u8]>::len));
    }
}

/// Classifies a failure by SQLSTATE (or by what the client saw).
pub fn classify(e: &WireError) -> OpError {
    let class = match &e.kind {
        WireErrorKind::Server(s) => match s.code.as_str() {
            sqlstate::SERIALIZATION_FAILURE => ErrorClass::SerializationFailure,
            sqlstate::DEADLOCK_DETECTED => ErrorClass::Deadlock,
            sqlstate::QUERY_CANCELED | sqlstate::LOCK_NOT_AVAILABLE => ErrorClass::Timeout,
            c if c.starts_with(sqlstate::CLASS_INTEGRITY_CONSTRAINT) => ErrorClass::Constraint,
            c if c.starts_with(sqlstate::CLASS_CONNECTION_EXCEPTION)
                || c.starts_with(sqlstate::PREFIX_OPERATOR_INTERVENTION) =>
            {
                ErrorClass::ConnectionLost
            }
            _ if e.closed => ErrorClass::ConnectionLost,
            _ => ErrorClass::Other,
        },
        WireErrorKind::Timeout(_) => ErrorClass::Timeout,
        WireErrorKind::Io(_) | WireErrorKind::Connect(_) => ErrorClass::ConnectionLost,
        WireErrorKind::Interrupted | WireErrorKind::Protocol(_) | WireErrorKind::Encode(_) => ErrorClass::Other,
    };
    OpError {
        class,
        message: e.to_string(),
    }
}

/// Unix-socket sessions need a server whose socket schemabench can reach.
pub(super) fn check_transport(
    server: &dyn crate::provision::Server,
    transport: crate::provision::Transport,
) -> Result<(), BackendError> {
    if transport == crate::provision::Transport::Unix && server.endpoint().socket_dir.is_none() {
        return Err(BackendError::Unavailable {
            backend: BackendKind::Postgres,
            message: format!(
                "--transport unix needs a server with a unix socket schemabench can reach; the {} provisioner's \
                 server has none (use --provisioner local, or --transport tcp)",
                server.provisioner()
            ),
        });
    }
    Ok(())
}
