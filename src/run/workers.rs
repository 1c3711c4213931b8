//! Measuring one target: one thread and one connection per client. In a
//! closed loop each client issues its next operation when the last one ends;
//! in an open loop each client follows its own arrival schedule (uniform or
//! Poisson, seeded so every variant gets the same schedule) and latency is
//! measured from the intended start, so a stall shows up in every operation
//! that should have started during it (no coordinated omission). Workers
//! never print and touch no shared state per operation: each owns a
//! [`Recorder`] that is merged when the window closes.

use super::plan::{RunPlan, Target};
use crate::backend::{BackendError, Counters, Engine, OpError, Session};
use crate::record::Recorder;
use crate::scenario::Arrivals;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What one target's measured window produced.
#[derive(Debug, Clone)]
pub struct Window {
    pub records: Recorder,
    /// Length of the measured window (warmup excluded), seconds.
    pub seconds: f64,
    /// Whether the window was cut short by an interrupt.
    pub interrupted: bool,
    /// Server counters at the start and end of the measured part (engines
    /// that have them).
    pub counters: Option<(Counters, Counters)>,
    /// The busiest client thread's CPU time as a fraction of the window
    /// (near 1.0: the load generator itself may be the bottleneck).
    pub client_cpu_max: f64,
    /// Notices the server sent the window's sessions (warmup included).
    pub notices: u64,
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Waits until `t`: sleeps while far, spins for the last stretch so
/// arrivals keep sub-millisecond precision.
#[inline]
fn wait_until(t: Instant) {
    loop {
        let now = Instant::now();
        if now >= t {
            return;
        }
        let left = t - now;
        if left > Duration::from_micros(250) {
            std::thread::sleep(left - Duration::from_micros(150));
        } else {
            std::hint::spin_loop();
        }
    }
}

/// One client's open-loop arrival schedule.
pub struct Pacer {
    next: Instant,
    mean_gap_s: f64,
    arrivals: Arrivals,
    rng: ChaCha8Rng,
    clients: u32,
}

impl Pacer {
    /// Client `client` of `clients` sharing `rate` arrivals per second from
    /// `begin`; uniform schedules are staggered across clients.
    pub fn new(begin: Instant, rate: f64, clients: u32, client: u32, arrivals: Arrivals, seed: u64) -> Self {
        let mean_gap_s = clients as f64 / rate;
        let mut pacer = Pacer {
            next: begin,
            mean_gap_s,
            arrivals,
            rng: ChaCha8Rng::seed_from_u64(seed),
            clients,
        };
        pacer.next = match arrivals {
            Arrivals::Uniform => begin + Duration::from_secs_f64(mean_gap_s * client as f64 / clients as f64),
            Arrivals::Poisson => begin + pacer.gap(),
        };
        pacer
    }

    fn gap(&mut self) -> Duration {
        match self.arrivals {
            Arrivals::Uniform => Duration::from_secs_f64(self.mean_gap_s),
            // Exponential gaps by inversion: -ln(U) * mean.
            Arrivals::Poisson => {
                let u: f64 = self.rng.random::<f64>().max(f64::MIN_POSITIVE);
                Duration::from_secs_f64(-u.ln() * self.mean_gap_s)
            }
        }
    }

    /// Changes the rate (arrivals per second over all clients) from the next gap on.
    pub fn set_rate(&mut self, rate: f64) {
        self.mean_gap_s = self.clients as f64 / rate;
    }

    /// The next intended start; advances the schedule.
    pub fn next_start(&mut self) -> Instant {
        let t = self.next;
        let gap = self.gap();
        self.next += gap;
        t
    }
}

/// Records a closed-loop operation (latency from its start) if it started
/// inside the measured window.
#[inline]
fn record_closed(
    recorder: &mut Recorder,
    op: usize,
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

/// One client: its connection, its seeded stream of operations and
/// parameters, and its recorder. `step` is the whole per-operation path.
pub struct Client<'a> {
    plan: &'a RunPlan,
    target: &'a Target,
    session: Box<dyn Session>,
    rng: ChaCha8Rng,
    n: u64,
    /// The current operation's parameters (reused: no allocation per operation).
    params: Vec<crate::datagen::Value>,
    pub recorder: Recorder,
}

impl<'a> Client<'a> {
    /// Client `client` of `round`: the same operation and parameter sequence
    /// for every variant.
    pub fn new(plan: &'a RunPlan, target: &'a Target, session: Box<dyn Session>, round: u32, client: u32) -> Self {
        Client {
            plan,
            target,
            session,
            rng: ChaCha8Rng::seed_from_u64(plan.client_seed(round, client)),
            n: 0,
            params: Vec::new(),
            recorder: Recorder::new(target.ops.len()),
        }
    }

    /// Picks the next operation, samples its parameters, runs it, and records
    /// its latency if it started at or after `record_from`. Returns when it
    /// ended.
    #[inline]
    pub fn step(&mut self, record_from: Instant) -> Instant {
        let op = self.plan.mix.pick(&mut self.rng);
        self.plan
            .sample_params_into(op, &mut self.rng, self.n, &mut self.params);
        self.n += 1;
        let started = Instant::now();
        let outcome = self.session.execute(&self.target.ops[op], &self.params);
        let done = Instant::now();
        self.record(op, started, done, record_from, outcome);
        done
    }

    /// Starts this client's next operation: sends its first statement
    /// without waiting for the reply. `None` if sending failed (the failure
    /// is recorded).
    fn start_next(&mut self, record_from: Instant) -> Option<InProgress> {
        let op = self.plan.mix.pick(&mut self.rng);
        self.plan
            .sample_params_into(op, &mut self.rng, self.n, &mut self.params);
        self.n += 1;
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
            Some(p) => p.submit_sql(sql, args, &self.params).and_then(|()| p.send()),
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
    fn advance(&mut self, mut p: InProgress, reply: Result<u64, OpError>, record_from: Instant) -> Option<InProgress> {
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
    fn record(
        &mut self,
        op: usize,
        started: Instant,
        done: Instant,
        record_from: Instant,
        outcome: Result<u64, OpError>,
    ) {
        record_closed(&mut self.recorder, op, started, done, record_from, outcome);
    }

    /// Pipelined closed loop: keeps `depth` requests in flight on the
    /// connection until `end`, each recorded from when it was queued to when
    /// its reply was read. Sessions that cannot pipeline run one at a time.
    /// Returns when the last reply was read.
    pub fn run_pipelined(&mut self, depth: usize, record_from: Instant, end: Instant, stop: &AtomicBool) -> Instant {
        let Client {
            plan,
            target,
            session,
            rng,
            n,
            params,
            recorder,
        } = self;
        let Some(pipe) = session.pipeline() else {
            let mut last = Instant::now();
            while last < end && !stop.load(Ordering::Relaxed) {
                last = self.step(record_from);
            }
            return last;
        };
        let mut in_flight: VecDeque<(usize, Instant)> = VecDeque::with_capacity(depth);
        let mut last = Instant::now();
        let mut record = |op, started, done, outcome| record_closed(recorder, op, started, done, record_from, outcome);
        loop {
            let open = last < end && !stop.load(Ordering::Relaxed);
            while open && in_flight.len() < depth {
                let op = plan.mix.pick(rng);
                plan.sample_params_into(op, rng, *n, params);
                *n += 1;
                let started = Instant::now();
                match pipe.submit(&target.ops[op], params) {
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
        let op = self.plan.mix.pick(&mut self.rng);
        self.plan
            .sample_params_into(op, &mut self.rng, self.n, &mut self.params);
        self.n += 1;
        wait_until(intended);
        let started = Instant::now();
        let outcome = self.session.execute(&self.target.ops[op], &self.params);
        let done = Instant::now();
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
        done
    }
}

/// An operation a multiplexed client has started: which statement is out,
/// rows so far, and the failure being rolled back, if any.
struct InProgress {
    op: usize,
    started: Instant,
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

/// Which clients share a thread. One thread per client, except in a closed
/// loop with more clients than CPUs on sessions that can have a request in
/// flight (PostgreSQL): then one thread per CPU drives its share of the
/// connections, statement by statement (BEGIN, the steps, COMMIT), waking in
/// `poll` for whichever reply comes first, as `pgbench -j` does. Eight threads ping-ponging with eight backends on two
/// CPUs pay a context switch per operation; a thread with four connections
/// often finds a second reply waiting.
fn thread_groups(
    mut sessions: Vec<Box<dyn Session>>,
    plan: &RunPlan,
    target: &Target,
) -> Vec<Vec<(u32, Box<dyn Session>)>> {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let has_steps = plan.mix.ops().all(|op| !target.ops[op].steps.is_empty());
    let multiplex = plan.load.rate_per_s.is_none()
        && plan.load.pipeline.is_none()
        && sessions.len() > cpus
        && has_steps
        && sessions
            .iter_mut()
            .all(|s| s.pipeline().is_some_and(|p| p.fd().is_some()));
    let threads = if multiplex { cpus } else { sessions.len() };
    let mut groups: Vec<Vec<(u32, Box<dyn Session>)>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, s) in sessions.into_iter().enumerate() {
        groups[i % threads].push((i as u32, s));
    }
    groups
}

/// Multiplexed closed loop: each client keeps one request in flight; the
/// thread sleeps in `poll` until a reply arrives, records it and sends that
/// client's next request. A request still out after `limit` (the operation
/// timeout plus the client's grace), or when the user interrupts, gets a
/// cancel request; one still out a second after that is abandoned and
/// recorded as a timeout. Returns when the last reply was read.
fn run_multiplexed(
    clients: &mut [&mut Client],
    record_from: Instant,
    end: Instant,
    stop: &AtomicBool,
    limit: Option<Duration>,
) -> Instant {
    let mut pending: Vec<Option<InProgress>> = clients.iter_mut().map(|c| c.start_next(record_from)).collect();
    let mut cancelled: Vec<Option<Instant>> = vec![None; clients.len()];
    let sockets: Vec<i32> = clients
        .iter_mut()
        .map(|c| c.session.pipeline().and_then(|p| p.fd()).unwrap_or(-1))
        .collect();
    let mut fds: Vec<libc::pollfd> = sockets
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let mut last = Instant::now();
    let mut checked = last;
    loop {
        let interrupted = stop.load(Ordering::Relaxed);
        let open = last < end && !interrupted;
        if pending.iter().all(Option::is_none) {
            return last;
        }
        for ((fd, &socket), p) in fds.iter_mut().zip(&sockets).zip(&pending) {
            // poll ignores a negative fd: clients with nothing in flight.
            fd.fd = if p.is_some() { socket } else { -1 };
            fd.revents = 0;
        }
        // SAFETY: poll reads and writes the pollfd array we own.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 100) };
        // Deadlines are looked at on a quiet tick and at least every tick
        // while others keep replying (a busy group must not hide a hung
        // client).
        let now = Instant::now();
        if ready == 0 || now - checked >= crate::pgwire::stream::TICK {
            checked = now;
            for (i, client) in clients.iter_mut().enumerate() {
                let Some(progress) = &pending[i] else { continue };
                let overdue = interrupted || limit.is_some_and(|l| now - progress.started >= l);
                match cancelled[i] {
                    None if overdue => {
                        if let Some(p) = client.session.pipeline() {
                            p.cancel();
                        }
                        cancelled[i] = Some(now);
                    }
                    Some(at) if now - at >= crate::pgwire::CANCEL_GRACE => {
                        let progress = pending[i].take().expect("checked above");
                        if let Some(p) = client.session.pipeline() {
                            let e = p.abandon();
                            client.record(progress.op, progress.started, now, record_from, Err(e));
                        }
                        // Its socket is closed: poll must not watch it.
                        fds[i].revents = 0;
                    }
                    _ => {}
                }
            }
        }
        for (i, client) in clients.iter_mut().enumerate() {
            if fds[i].revents == 0 {
                continue;
            }
            let Some(progress) = pending[i].take() else {
                continue;
            };
            let reply = match client.session.pipeline() {
                Some(p) => p.complete(),
                None => continue,
            };
            cancelled[i] = None;
            pending[i] = client.advance(progress, reply, record_from);
            last = Instant::now();
            if pending[i].is_none() && open {
                pending[i] = client.start_next(record_from);
            }
        }
    }
}

/// Measures `target` for one round: warmup, then the measured duration.
/// `tick` is called from the coordinating thread about ten times a second
/// with the time elapsed since the start of warmup.
pub fn measure(
    engine: &dyn Engine,
    target: &Target,
    plan: &RunPlan,
    round: u32,
    stop: &AtomicBool,
    tick: &dyn Fn(Duration),
) -> Result<Window, BackendError> {
    let clients = plan.load.clients.get();
    let mut sessions: Vec<Box<dyn Session>> = Vec::with_capacity(clients as usize);
    for _ in 0..clients {
        sessions.push(engine.open_session(&target.name, &target.session_options(plan))?);
    }
    let groups = thread_groups(sessions, plan, target);
    let barrier = Barrier::new(groups.len() + 1);
    let running = AtomicUsize::new(groups.len());
    let (warmup, duration) = (plan.load.warmup, plan.load.duration);

    let (recorders, start, first) = std::thread::scope(|scope| {
        let handles: Vec<_> = groups
            .into_iter()
            .map(|group| {
                let (barrier, running) = (&barrier, &running);
                scope.spawn(move || {
                    let mut group: Vec<(u32, Client)> = group
                        .into_iter()
                        .map(|(i, session)| (i, Client::new(plan, target, session, round, i)))
                        .collect();
                    barrier.wait();
                    let begin = Instant::now();
                    let cpu_start = thread_cpu();
                    let (measure_from, end) = (begin + warmup, begin + warmup + duration);
                    let mut last = begin;
                    match (plan.load.rate_per_s, group.as_mut_slice()) {
                        (None, several) if several.len() > 1 => {
                            let mut clients: Vec<&mut Client> = several.iter_mut().map(|(_, c)| c).collect();
                            let limit = plan.load.op_timeout.map(|t| t + crate::backend::postgres::CLIENT_GRACE);
                            last = run_multiplexed(&mut clients, measure_from, end, stop, limit);
                        }
                        (None, [(_, client)]) if let Some(depth) = plan.load.pipeline => {
                            last = client.run_pipelined(depth.get() as usize, measure_from, end, stop);
                        }
                        (None, [(_, client)]) => {
                            while last < end && !stop.load(Ordering::Relaxed) {
                                last = client.step(measure_from);
                            }
                        }
                        (Some(rate), [(i, client)]) => {
                            let i = *i;
                            let seed = plan.client_seed(round, i) ^ 0x6172_7269_7661_6c73;
                            let first = plan.rate_at(Duration::ZERO).unwrap_or(rate.get() as f64);
                            let mut pacer = Pacer::new(begin, first, clients, i, plan.load.arrivals, seed);
                            loop {
                                if let Some(r) = plan.rate_at(pacer.next.saturating_duration_since(begin)) {
                                    pacer.set_rate(r);
                                }
                                let intended = pacer.next_start();
                                if intended >= end || stop.load(Ordering::Relaxed) {
                                    break;
                                }
                                last = client.step_at(intended, measure_from);
                            }
                            last = last.max(end.min(Instant::now()));
                        }
                        _ => unreachable!("groups of several clients are closed loops"),
                    }
                    let cpu = (thread_cpu() - cpu_start).as_secs_f64();
                    let wall = last.saturating_duration_since(begin).as_secs_f64().max(1e-9);
                    running.fetch_sub(1, Ordering::Release);
                    let mut records = Recorder::new(target.ops.len());
                    for (_, c) in &group {
                        records.merge(&c.recorder);
                    }
                    let notices: u64 = group.iter().map(|(_, c)| c.session.notices()).sum();
                    (records, last, cpu / wall, notices)
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        let mut first: Option<Result<Option<Counters>, BackendError>> = None;
        while running.load(Ordering::Acquire) > 0 {
            let elapsed = start.elapsed();
            let to_boundary = warmup.saturating_sub(elapsed);
            if first.is_none() && to_boundary < Duration::from_millis(100) {
                std::thread::sleep(to_boundary);
                first = Some(engine.counters(&target.name));
            } else {
                std::thread::sleep(Duration::from_millis(100));
            }
            tick(start.elapsed());
        }
        let recorders: Vec<(Recorder, Instant, f64, u64)> = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect();
        (recorders, start, first)
    });

    let measure_from = start + warmup;
    let last = recorders.iter().map(|(_, t, _, _)| *t).max().unwrap_or(measure_from);
    let client_cpu_max = recorders.iter().map(|(_, _, c, _)| *c).fold(0.0, f64::max);
    let notices = recorders.iter().map(|(_, _, _, n)| n).sum();
    let mut records = Recorder::new(target.ops.len());
    for (r, _, _, _) in &recorders {
        records.merge(r);
    }
    let counters = match first {
        Some(Ok(Some(a))) => engine.counters(&target.name)?.map(|b| (a, b)),
        Some(Err(e)) => return Err(e),
        _ => None,
    };
    Ok(Window {
        records,
        seconds: last.saturating_duration_since(measure_from).as_secs_f64(),
        interrupted: stop.load(Ordering::Relaxed),
        counters,
        client_cpu_max,
        notices,
    })
}
