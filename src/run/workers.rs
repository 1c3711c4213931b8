//! Measuring one target: one thread and one connection per client. In a
//! closed loop each client issues its next operation when the last one ends;
//! in an open loop each client follows its own arrival schedule (uniform or
//! Poisson, seeded so every variant gets the same schedule) and latency is
//! measured from the intended start, so a stall shows up in every operation
//! that should have started during it (no coordinated omission). Workers
//! never print and touch no shared state per operation: each owns a
//! [`Recorder`] that is merged when the window closes.

use super::plan::{RunPlan, Target};
use crate::backend::{BackendError, Counters, Engine, Session};
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
        if started >= record_from {
            let at = done.saturating_duration_since(record_from);
            self.recorder
                .record(op, at, (done - started).as_nanos() as u64, outcome);
        }
        done
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
        let mut record = |op: usize, started: Instant, done: Instant, outcome| {
            if started >= record_from {
                let at = done.saturating_duration_since(record_from);
                recorder.record(op, at, (done - started).as_nanos() as u64, outcome);
            }
        };
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
        sessions.push(engine.open_session(&target.name, &target.session)?);
    }
    let barrier = Barrier::new(clients as usize + 1);
    let running = AtomicUsize::new(clients as usize);
    let (warmup, duration) = (plan.load.warmup, plan.load.duration);

    let (recorders, start, first) = std::thread::scope(|scope| {
        let handles: Vec<_> = sessions
            .into_iter()
            .enumerate()
            .map(|(i, session)| {
                let (barrier, running) = (&barrier, &running);
                scope.spawn(move || {
                    let mut client = Client::new(plan, target, session, round, i as u32);
                    barrier.wait();
                    let begin = Instant::now();
                    let cpu_start = thread_cpu();
                    let (measure_from, end) = (begin + warmup, begin + warmup + duration);
                    let mut last = begin;
                    match plan.load.rate_per_s {
                        None if let Some(depth) = plan.load.pipeline => {
                            last = client.run_pipelined(depth.get() as usize, measure_from, end, stop);
                        }
                        None => {
                            while last < end && !stop.load(Ordering::Relaxed) {
                                last = client.step(measure_from);
                            }
                        }
                        Some(rate) => {
                            let seed = plan.client_seed(round, i as u32) ^ 0x6172_7269_7661_6c73;
                            let first = plan.rate_at(Duration::ZERO).unwrap_or(rate.get() as f64);
                            let mut pacer = Pacer::new(begin, first, clients, i as u32, plan.load.arrivals, seed);
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
                    }
                    let cpu = (thread_cpu() - cpu_start).as_secs_f64();
                    let wall = last.saturating_duration_since(begin).as_secs_f64().max(1e-9);
                    running.fetch_sub(1, Ordering::Release);
                    (client.recorder, last, cpu / wall)
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
        let recorders: Vec<(Recorder, Instant, f64)> = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect();
        (recorders, start, first)
    });

    let measure_from = start + warmup;
    let last = recorders.iter().map(|(_, t, _)| *t).max().unwrap_or(measure_from);
    let client_cpu_max = recorders.iter().map(|(_, _, c)| *c).fold(0.0, f64::max);
    let mut records = Recorder::new(target.ops.len());
    for (r, _, _) in &recorders {
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
    })
}
