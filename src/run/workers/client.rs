//! One client: its connection, its seeded stream of operations and
//! parameters, and its recorder, with the loops that drive one connection
//! (closed, pipelined, open) and the statement-by-statement steps the
//! multiplexed loop uses.

use super::pacing::wait_until;
use super::reconnect::Reconnect;
use crate::backend::{ErrorClass, OpError, Session};
use crate::record::Recorder;
use crate::run::plan::{RunPlan, Target};
use crate::scenario::OpId;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Records a closed-loop operation (latency from its start) if it started
/// inside the measured window.
#[inline]
fn record_closed(
    recorder: &mut Recorder,
    op: OpId,
    started: Instant,
    done: Instant,
    record_from: Instant,
    outcome: Result<u64, OpError>,
) {
    if started >= record_from {
        let at = done.saturating_duration_since(record_from);
        recorder.record(op, at, (done - started).as_nanos() as u64, outcome);
    }
}

/// Whether an operation failed because the connection was lost (the client
/// reopens it before its next operation).
#[inline]
fn lost_connection(outcome: &Result<u64, OpError>) -> bool {
    matches!(outcome, Err(e) if e.class == ErrorClass::ConnectionLost)
}

/// A client's seeded stream of operations and their parameters: the same
/// sequence for every variant.
pub struct OpStream<'a> {
    plan: &'a RunPlan,
    /// The mix of the client's group.
    mix: &'a crate::run::Mix,
    rng: ChaCha8Rng,
    n: u64,
    /// The current operation's parameters (reused: no allocation per operation).
    params: Vec<crate::datagen::Value>,
    /// Batches this client inserted, its number and the number of clients:
    /// its `k`th batch is batch `k * clients + client` of the table, so no
    /// two clients insert the same rows.
    batches: u64,
    client: u64,
    clients: u64,
}

impl OpStream<'_> {
    /// Picks the next operation and samples its parameters into
    /// [`OpStream::params`].
    #[inline]
    pub fn next_op(&mut self) -> OpId {
        let op = self.mix.pick(&mut self.rng);
        let n = if self.plan.is_batch(op) {
            self.batches += 1;
            (self.batches - 1) * self.clients + self.client
        } else {
            self.n
        };
        self.plan.sample_params_into(op, &mut self.rng, n, &mut self.params);
        self.n += 1;
        op
    }

    /// The parameters of the operation [`OpStream::next_op`] last picked.
    pub fn params(&self) -> &[crate::datagen::Value] {
        &self.params
    }
}

/// One client: its connection, its stream of operations, and its recorder.
/// `step` is the whole per-operation path. A connection the server closed is
/// reopened (see [`Reconnect`]) before the next operation.
pub struct Client<'a> {
    target: &'a Target,
    pub(super) session: Box<dyn Session>,
    stream: OpStream<'a>,
    pub recorder: Recorder,
    reconnect: Option<&'a Reconnect<'a>>,
    /// The last operation lost the connection: reopen it before the next.
    lost: bool,
    /// Sessions reopened after a lost connection.
    pub reconnects: u64,
}

impl<'a> Client<'a> {
    /// Client `client` of `round`: the same operation and parameter sequence
    /// for every variant.
    pub fn new(plan: &'a RunPlan, target: &'a Target, session: Box<dyn Session>, round: u32, client: u32) -> Self {
        Client {
            target,
            session,
            stream: OpStream {
                plan,
                mix: plan.mix_of(client),
                rng: ChaCha8Rng::seed_from_u64(plan.client_seed(round, client)),
                n: 0,
                params: Vec::new(),
                batches: 0,
                // Numbered within the group: its batches follow each other.
                client: plan.group_of(client).index_of(client) as u64,
                clients: plan.group_of(client).clients.len() as u64,
            },
            recorder: Recorder::new(target.ops.len()),
            reconnect: None,
            lost: false,
            reconnects: 0,
        }
    }

    /// Reopens the session through `reconnect` when the server closes it.
    pub fn with_reconnect(mut self, reconnect: &'a Reconnect<'a>) -> Self {
        self.reconnect = Some(reconnect);
        self
    }

    /// Whether the connection was lost and not reopened yet.
    pub(super) fn lost(&self) -> bool {
        self.lost
    }

    /// Reopens a lost connection (with backoff). False when it stays lost:
    /// no way to reconnect, the window stopped, or the server is gone.
    pub(super) fn recover(&mut self) -> bool {
        if !self.lost {
            return true;
        }
        match self.reconnect.and_then(Reconnect::session) {
            Some(session) => {
                self.session = session;
                self.lost = false;
                self.reconnects += 1;
                true
            }
            None => false,
        }
    }

    /// Picks the next operation and samples its parameters.
    #[inline]
    pub fn next_op(&mut self) -> OpId {
        self.stream.next_op()
    }

    /// Picks the next operation, samples its parameters, runs it, and records
    /// its latency if it started at or after `record_from`. Returns when it
    /// ended.
    #[inline]
    pub fn step(&mut self, record_from: Instant) -> Instant {
        let op = self.next_op();
        let started = Instant::now();
        let outcome = self.session.execute(&self.target.ops[op], self.stream.params());
        let done = Instant::now();
        self.record(op, started, done, record_from, outcome);
        self.recover();
        done
    }

    /// Starts this client's next operation: sends its first statement
    /// without waiting for the reply. `None` if sending failed (the failure
    /// is recorded).
    pub(super) fn start_next(&mut self, record_from: Instant) -> Option<InProgress> {
        let op = self.next_op();
        let started = Instant::now();
        let progress = InProgress {
            op,
            started,
            statement: 0,
            rows: 0,
            failed: None,
        };
        self.send_statement(progress, record_from)
    }

    /// Sends statement `progress.statement` of the operation in progress.
    fn send_statement(&mut self, progress: InProgress, record_from: Instant) -> Option<InProgress> {
        let (sql, args) = statement(&self.target.ops[progress.op], progress.statement);
        let sent = match self.session.pipeline() {
            Some(p) => p.submit_sql(sql, args, self.stream.params()).and_then(|()| p.send()),
            None => return None,
        };
        match sent {
            Ok(()) => Some(progress),
            Err(e) => {
                self.record(progress.op, progress.started, Instant::now(), record_from, Err(e));
                None
            }
        }
    }

    /// Takes the reply to the statement in flight: sends the operation's
    /// next statement, or a ROLLBACK after a failure inside a transaction,
    /// or records the finished operation. `Some` while statements remain.
    pub(super) fn advance(
        &mut self,
        mut p: InProgress,
        reply: Result<u64, OpError>,
        record_from: Instant,
    ) -> Option<InProgress> {
        let op = &self.target.ops[p.op];
        let total = statement_count(op);
        let rolling_back = p.failed.is_some();
        match reply {
            Ok(rows) if !rolling_back => {
                let is_step = !op.transaction || (1..=op.steps.len()).contains(&p.statement);
                if is_step {
                    p.rows += rows;
                }
                if p.statement + 1 < total {
                    p.statement += 1;
                    return self.send_statement(p, record_from);
                }
                let rows = p.rows;
                self.record(p.op, p.started, Instant::now(), record_from, Ok(rows));
                None
            }
            Err(e) if !rolling_back && op.transaction && p.statement > 0 => {
                // Inside the transaction: roll back, then record the failure.
                p.failed = Some(e);
                p.statement = usize::MAX;
                self.send_statement(p, record_from)
            }
            other => {
                let e = p.failed.take().or(other.err()).unwrap_or_else(|| OpError {
                    class: crate::backend::ErrorClass::Other,
                    message: "the operation failed".into(),
                });
                self.record(p.op, p.started, Instant::now(), record_from, Err(e));
                None
            }
        }
    }

    #[inline]
    pub(super) fn record(
        &mut self,
        op: OpId,
        started: Instant,
        done: Instant,
        record_from: Instant,
        outcome: Result<u64, OpError>,
    ) {
        self.lost |= lost_connection(&outcome);
        record_closed(&mut self.recorder, op, started, done, record_from, outcome);
    }

    /// Pipelined closed loop: keeps `depth` requests in flight on the
    /// connection until `end`, each recorded from when it was queued to when
    /// its reply was read. Sessions that cannot pipeline run one at a time.
    /// A lost connection fails the requests in flight and is reopened.
    /// Returns when the last reply was read.
    pub fn run_pipelined(&mut self, depth: usize, record_from: Instant, end: Instant, stop: &AtomicBool) -> Instant {
        if self.session.pipeline().is_none() {
            let mut last = Instant::now();
            while last < end && !stop.load(Ordering::Relaxed) {
                last = self.step(record_from);
            }
            return last;
        }
        let mut last = Instant::now();
        loop {
            last = self.pipeline_until_lost(depth, record_from, end, stop, last);
            if !self.lost || !self.recover() {
                return last;
            }
        }
    }

    /// [`Client::run_pipelined`] on the current connection, until `end`, a
    /// stop, or the connection is lost (then every request in flight is
    /// recorded as failed with the loss).
    fn pipeline_until_lost(
        &mut self,
        depth: usize,
        record_from: Instant,
        end: Instant,
        stop: &AtomicBool,
        mut last: Instant,
    ) -> Instant {
        let Client {
            target,
            session,
            stream,
            recorder,
            lost,
            ..
        } = self;
        let Some(pipe) = session.pipeline() else {
            return last;
        };
        let mut in_flight: VecDeque<(OpId, Instant)> = VecDeque::with_capacity(depth);
        let mut record = |op, started, done, outcome: Result<u64, OpError>| {
            *lost |= lost_connection(&outcome);
            record_closed(recorder, op, started, done, record_from, outcome)
        };
        loop {
            let open = last < end && !stop.load(Ordering::Relaxed);
            while open && in_flight.len() < depth {
                let op = stream.next_op();
                let started = Instant::now();
                match pipe.submit(&target.ops[op], stream.params()) {
                    Ok(()) => in_flight.push_back((op, started)),
                    Err(e) => record(op, started, Instant::now(), Err(e)),
                }
            }
            if let Err(e) = pipe.send() {
                for (op, started) in in_flight.drain(..) {
                    record(op, started, Instant::now(), Err(e.clone()));
                }
                return Instant::now();
            }
            let Some((op, started)) = in_flight.pop_front() else {
                return last;
            };
            let outcome = pipe.complete();
            last = Instant::now();
            if let Some(e) = outcome.as_ref().err().filter(|e| e.class == ErrorClass::ConnectionLost) {
                let e = e.clone();
                record(op, started, last, Err(e.clone()));
                for (op, started) in in_flight.drain(..) {
                    record(op, started, last, Err(e.clone()));
                }
                return last;
            }
            record(op, started, last, outcome);
            // Replies that arrived together are read together, and their
            // replacements go out in one write.
            while pipe.reply_arrived()
                && let Some((op, started)) = in_flight.pop_front()
            {
                let outcome = pipe.complete();
                last = Instant::now();
                record(op, started, last, outcome);
            }
        }
    }

    /// Open loop: waits for `intended`, runs the next operation, and records
    /// its response time from `intended`, its service time and its start lag
    /// if it was due at or after `record_from`. Returns when it ended.
    #[inline]
    pub fn step_at(&mut self, intended: Instant, record_from: Instant) -> Instant {
        let op = self.next_op();
        wait_until(intended);
        let started = Instant::now();
        let outcome = self.session.execute(&self.target.ops[op], self.stream.params());
        let done = Instant::now();
        self.lost |= lost_connection(&outcome);
        if intended >= record_from {
            let at = done.saturating_duration_since(record_from);
            let ns = |d: Duration| d.as_nanos() as u64;
            self.recorder.record_open(
                op,
                at,
                ns(done - intended),
                ns(done - started),
                ns(started.saturating_duration_since(intended)),
                outcome,
            );
        }
        self.recover();
        done
    }
}

/// An operation a multiplexed client has started: which statement is out,
/// rows so far, and the failure being rolled back, if any.
pub(super) struct InProgress {
    pub(super) op: OpId,
    pub(super) started: Instant,
    /// Index into the operation's statements (`usize::MAX`: the ROLLBACK).
    statement: usize,
    rows: u64,
    failed: Option<OpError>,
}

/// Statements an operation sends: its steps, inside BEGIN and COMMIT when
/// it is a transaction.
fn statement_count(op: &crate::backend::OpPlan) -> usize {
    op.steps.len() + if op.transaction { 2 } else { 0 }
}

/// Statement `k` of an operation as SQL and parameter indexes.
fn statement(op: &crate::backend::OpPlan, k: usize) -> (&str, &[usize]) {
    let step = |i: usize| (op.steps[i].sql.as_str(), op.steps[i].args.as_slice());
    match (op.transaction, k) {
        (false, k) => step(k),
        (true, usize::MAX) => ("ROLLBACK", &[]),
        (true, 0) => ("BEGIN", &[]),
        (true, k) if k <= op.steps.len() => step(k - 1),
        (true, _) => ("COMMIT", &[]),
    }
}
