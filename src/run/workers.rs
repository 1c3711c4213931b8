//! The closed-loop measurement of one target: one thread and one connection
//! per client, each issuing its next operation when the last one ends.
//! Workers never print and touch no shared state per operation: each owns a
//! [`Recorder`] that is merged when the window closes.

use super::plan::{RunPlan, Target};
use crate::backend::{BackendError, Engine, Session};
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
    let ops = target.ops.len();
    let (warmup, duration) = (plan.load.warmup, plan.load.duration);

    let (recorders, start) = std::thread::scope(|scope| {
        let handles: Vec<_> = sessions
            .into_iter()
            .enumerate()
            .map(|(client, mut session)| {
                let (barrier, running) = (&barrier, &running);
                scope.spawn(move || {
                    let mut rng = ChaCha8Rng::seed_from_u64(plan.client_seed(round, client as u32));
                    let mut recorder = Recorder::new(ops);
                    barrier.wait();
                    let begin = Instant::now();
                    let (measure_from, end) = (begin + warmup, begin + warmup + duration);
                    let mut last = begin;
                    for n in 0u64.. {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let op = plan.mix.pick(&mut rng);
                        let params = plan.sample_params(op, &mut rng, n);
                        let started = Instant::now();
                        if started >= end {
                            break;
                        }
                        let outcome = session.execute(&target.ops[op], &params);
                        last = Instant::now();
                        if started >= measure_from {
                            recorder.record(op, (last - started).as_nanos() as u64, outcome);
                        }
                    }
                    running.fetch_sub(1, Ordering::Release);
                    (recorder, last)
                })
            })
            .collect();
        barrier.wait();
        let start = Instant::now();
        while running.load(Ordering::Acquire) > 0 {
            std::thread::sleep(Duration::from_millis(100));
            tick(start.elapsed());
        }
        let recorders: Vec<(Recorder, Instant)> = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect();
        (recorders, start)
    });

    let measure_from = start + warmup;
    let last = recorders
        .iter()
        .map(|(_, t)| *t)
        .max()
        .unwrap_or(measure_from);
    let mut records = Recorder::new(ops);
    for (r, _) in &recorders {
        records.merge(r);
    }
    Ok(Window {
        records,
        seconds: last.saturating_duration_since(measure_from).as_secs_f64(),
        interrupted: stop.load(Ordering::Relaxed),
    })
}
