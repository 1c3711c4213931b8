//! One client connection: statements prepared once per session, every row
//! and column read, transactions with BEGIN/COMMIT and ROLLBACK on error,
//! errors classified by SQLSTATE.

use super::db_error;
use super::value::{Out, Param, Touch};
use crate::backend::{BackendError, ErrorClass, OpError, OpPlan, Session, StatementPlan};
use crate::datagen::Value;
use fallible_iterator::FallibleIterator;
use postgres::error::SqlState;
use postgres::{Client, Row, Statement};
use std::collections::HashMap;

pub struct PgSession {
    client: Client,
    statements: HashMap<String, Statement>,
}

impl PgSession {
    pub fn new(mut client: Client, session: &[String]) -> Result<Self, BackendError> {
        for (i, statement) in session.iter().enumerate() {
            client
                .batch_execute(statement)
                .map_err(db_error(format!("session statement {}", i + 1)))?;
        }
        Ok(PgSession {
            client,
            statements: HashMap::new(),
        })
    }

    fn statement(&mut self, step: &StatementPlan) -> Result<Statement, postgres::Error> {
        if let Some(s) = self.statements.get(&step.sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(&step.sql)?;
        self.statements.insert(step.sql.clone(), s.clone());
        Ok(s)
    }

    fn run(&mut self, op: &OpPlan, params: &[Value], mut row: impl FnMut(&Row)) -> Result<(), OpError> {
        if op.transaction {
            self.client.batch_execute("BEGIN").map_err(|e| classify(&e))?;
        }
        let result = op.steps.iter().try_for_each(|step| -> Result<(), postgres::Error> {
            let statement = self.statement(step)?;
            let mut rows = self
                .client
                .query_raw(&statement, step.args.iter().map(|&a| Param(&params[a])))?;
            while let Some(r) = rows.next()? {
                row(&r);
            }
            Ok(())
        });
        match result {
            Ok(()) if op.transaction => self.client.batch_execute("COMMIT").map_err(|e| {
                let _ = self.client.batch_execute("ROLLBACK");
                classify(&e)
            }),
            Ok(()) => Ok(()),
            Err(e) => {
                if op.transaction && !self.client.is_closed() {
                    let _ = self.client.batch_execute("ROLLBACK");
                }
                Err(classify(&e))
            }
        }
    }
}

impl Session for PgSession {
    fn execute(&mut self, op: &OpPlan, params: &[Value]) -> Result<u64, OpError> {
        let mut count = 0;
        self.run(op, params, |r| {
            for i in 0..r.len() {
                std::hint::black_box(r.try_get::<_, Touch>(i).ok());
            }
            count += 1;
        })?;
        Ok(count)
    }

    fn fetch(&mut self, op: &OpPlan, params: &[Value]) -> Result<Vec<Vec<Value>>, OpError> {
        let mut out = Vec::new();
        self.run(op, params, |r| {
            out.push(
                (0..r.len())
                    .map(|i| {
                        r.try_get::<_, Out>(i)
                            .map_or_else(|e| Value::Text(format!("<{e}>")), |o| o.0)
                    })
                    .collect(),
            );
        })?;
        Ok(out)
    }
}

/// Classifies an error by SQLSTATE.
pub fn classify(e: &postgres::Error) -> OpError {
    let class = match e.code() {
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE => ErrorClass::SerializationFailure,
        Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED => ErrorClass::Deadlock,
        Some(c) if *c == SqlState::QUERY_CANCELED || *c == SqlState::LOCK_NOT_AVAILABLE => ErrorClass::Timeout,
        Some(c) if c.code().starts_with("23") => ErrorClass::Constraint,
        Some(c) if c.code().starts_with("08") || c.code().starts_with("57P") => ErrorClass::ConnectionLost,
        None if e.is_closed() => ErrorClass::ConnectionLost,
        _ => ErrorClass::Other,
    };
    OpError {
        class,
        message: super::pg_message(e),
    }
}
