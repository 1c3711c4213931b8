//! The closed-loop measurement of one target: one thread and one connection
//! per client, each issuing its next operation when the last one ends.
//! Workers never print and touch no shared state per operation: each owns a
//! [`Recorder`] that is merged when the window closes.

use super::plan::{RunPlan, Target};
use crate::backend::{BackendError, Counters, Engine, Session};
use crate::record::Recorder;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
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
}

/// One client: its connection, its seeded stream of operations and
/// parameters, and its recorder. `step` is the whole per-operation path.
pub struct Client<'a> {
    plan: &'a RunPlan,
    target: &'a Target,
    session: Box<dyn Session>,
    rng: ChaCha8Rng,
    n: u64,
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
            recorder: Recorder::new(target.ops.len()),
        }
    }

    /// Picks the next operation, samples its parameters, runs it, and records
    /// its latency if it started at or after `record_from`. Returns when it
    /// ended.
    #[inline]
    pub fn step(&mut self, record_from: Instant) -> Instant {
        let op = self.plan.mix.pick(&mut self.rng);
        let params = self.plan.sample_params(op, &mut self.rng, self.n);
        self.n += 1;
        let started = Instant::now();
        let outcome = self.session.execute(&self.target.ops[op], &params);
        let done = Instant::now();
        if started >= record_from {
            self.recorder.record(op, (done - started).as_nanos() as u64, outcome);
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
                    let (measure_from, end) = (begin + warmup, begin + warmup + duration);
                    let mut last = begin;
                    while last < end && !stop.load(Ordering::Relaxed) {
                        last = client.step(measure_from);
                    }
                    running.fetch_sub(1, Ordering::Release);
                    (client.recorder, last)
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
        let recorders: Vec<(Recorder, Instant)> = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect();
        (recorders, start, first)
    });

    let measure_from = start + warmup;
    let last = recorders.iter().map(|(_, t)| *t).max().unwrap_or(measure_from);
    let mut records = Recorder::new(target.ops.len());
    for (r, _) in &recorders {
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
    })
}
