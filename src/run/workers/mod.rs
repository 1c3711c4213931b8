//! Measuring one target: one thread and one connection per client. In a
//! closed loop each client issues its next operation when the last one ends;
//! in an open loop each client follows its own arrival schedule (uniform or
//! Poisson, seeded so every variant gets the same schedule) and latency is
//! measured from the intended start, so a stall shows up in every operation
//! that should have started during it (no coordinated omission). Workers
//! never print and touch no shared state per operation: each owns a
//! [`Recorder`] that is merged when the window closes.

mod client;
mod multiplex;
mod pacing;
mod reconnect;

pub use client::{Client, OpStream};
pub use pacing::Pacer;
pub use reconnect::{Reconnect, SERVER_GONE_AFTER};

use super::plan::{RunPlan, Target};
use crate::backend::{BackendError, Counters, Engine, Session};
use crate::record::Recorder;
use crate::scenario::LoadModel;
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What one target's measured window produced.
#[derive(Debug, Clone)]
pub struct Window {
    pub records: Recorder,
    /// When the measured part began (warmup excluded), on the wall clock:
    /// where merged shards line their timelines up.
    pub started_at: std::time::SystemTime,
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
    /// Busy fraction of all the machine's CPUs over the measured part
    /// (server, client and anything else running), where /proc/stat exists.
    pub machine_busy: Option<f64>,
    /// Sessions reopened after the server closed their connection
    /// (warmup included).
    pub reconnects: u64,
    /// Per group of the plan (`RunPlan::groups`), in order.
    pub groups: Vec<GroupWindow>,
}

/// What one operation group's clients did in a window.
#[derive(Debug, Clone)]
pub struct GroupWindow {
    /// Open loop: how far starts lagged the schedule.
    pub schedule: Option<crate::record::Schedule>,
    /// From the start of the measured part until the group's last
    /// operation ended (at least the planned duration's worth when it kept
    /// up; longer when an open loop ran behind its schedule).
    pub seconds: f64,
}

/// What one client thread hands back when its window ends.
struct ThreadResult {
    records: Recorder,
    /// When its last operation ended.
    last: Instant,
    /// Its CPU time as a fraction of its wall time.
    cpu: f64,
    notices: u64,
    reconnects: u64,
    /// Index of its clients' group in `RunPlan::groups`.
    group: usize,
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Which clients share a thread. One thread per client, except in a closed
/// loop with more clients than CPUs on sessions that can have a request in
/// flight (PostgreSQL): then one thread per CPU drives its share of the
/// connections, statement by statement (BEGIN, the steps, COMMIT), waking in
/// `poll` for whichever reply comes first, as `pgbench -j` does. Eight threads ping-ponging with eight backends on two
/// CPUs pay a context switch per operation; a thread with four connections
/// often finds a second reply waiting.
fn thread_groups(mut sessions: Vec<(u32, Box<dyn Session>)>, plan: &RunPlan, target: &Target) -> Vec<Group> {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let has_steps = plan.mix.ops().all(|op| !target.ops[op].steps.is_empty());
    let multiplex = plan.groups.len() == 1
        && matches!(plan.load.model, LoadModel::Closed { .. })
        && sessions.len() > cpus
        && has_steps
        && sessions
            .iter_mut()
            .all(|(_, s)| s.pipeline().is_some_and(|p| p.fd().is_some()));
    if !multiplex {
        return sessions.into_iter().map(|(i, s)| Group::One(i, s)).collect();
    }
    let mut groups: Vec<Vec<(u32, Box<dyn Session>)>> = (0..cpus).map(|_| Vec::new()).collect();
    for (n, (i, s)) in sessions.into_iter().enumerate() {
        groups[n % cpus].push((i, s));
    }
    groups.into_iter().map(Group::Multiplexed).collect()
}

/// The connections one thread drives.
enum Group {
    /// One client on its own thread, in the plan's load model.
    One(u32, Box<dyn Session>),
    /// Closed-loop clients sharing a thread (see [`thread_groups`]).
    Multiplexed(Vec<(u32, Box<dyn Session>)>),
}

/// Drives one client on its own thread from `begin` until `end` in the
/// plan's load model; returns when its last operation ended.
fn drive_one(client: &mut Client, id: u32, plan: &RunPlan, round: u32, begin: Instant, stop: &AtomicBool) -> Instant {
    let (measure_from, end) = (begin + plan.load.warmup, begin + plan.load.warmup + plan.load.duration);
    let mut last = begin;
    let group = plan.group_of(id);
    match &group.model {
        LoadModel::Closed { .. } => {
            while last < end && !stop.load(Ordering::Relaxed) {
                last = client.step(measure_from);
            }
        }
        LoadModel::Pipelined { depth, .. } => {
            last = client.run_pipelined(depth.get() as usize, measure_from, end, stop);
        }
        LoadModel::Open { clients, arrivals, .. } => {
            let seed = plan.client_seed(round, id) ^ 0x6172_7269_7661_6c73;
            let rate_at = |elapsed| group.model.rate_at(plan.load.warmup, elapsed);
            let first = rate_at(Duration::ZERO).unwrap_or(1.0);
            let mut pacer = Pacer::new(begin, first, clients.get(), group.index_of(id), *arrivals, seed);
            loop {
                if let Some(r) = rate_at(pacer.next.saturating_duration_since(begin)) {
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
    last
}

/// The `start` of [`measure`] for a window that starts as soon as its
/// sessions are open.
pub fn at_once() -> Result<Option<Instant>, BackendError> {
    Ok(None)
}

/// Measures `target` for one round: warmup, then the measured duration.
/// `tick` is called from the coordinating thread about ten times a second
/// with the time elapsed since the start of warmup. `start` is called once
/// every session is open: `Some` is when the window starts (a sharded
/// run's common start), `None` at once.
pub fn measure(
    engine: &dyn Engine,
    target: &Target,
    plan: &RunPlan,
    round: u32,
    stop: &AtomicBool,
    tick: &dyn Fn(Duration),
    start: &mut dyn FnMut() -> Result<Option<Instant>, BackendError>,
) -> Result<Window, BackendError> {
    let mut sessions: Vec<(u32, Box<dyn Session>)> = Vec::new();
    for i in plan.local_clients() {
        sessions.push((i, engine.open_session(&target.name, &target.session_options(plan))?));
    }
    let start_at = start()?;
    let wait_for_start = || {
        if let Some(t) = start_at {
            std::thread::sleep(t.saturating_duration_since(Instant::now()));
        }
        start_at.unwrap_or_else(Instant::now)
    };
    let groups = thread_groups(sessions, plan, target);
    // The clients stop on `halt`: set from `stop` (the user) by the
    // coordinating thread, or by a client that finds the server gone.
    let halt = AtomicBool::new(false);
    let open = || engine.open_session(&target.name, &target.session_options(plan));
    let reconnect = Reconnect::new(&open, &halt);
    let barrier = Barrier::new(groups.len() + 1);
    let running = AtomicUsize::new(groups.len());
    let (warmup, duration) = (plan.load.warmup, plan.load.duration);

    let (recorders, start, wall_start, first, machine_busy) = std::thread::scope(|scope| {
        let handles: Vec<_> = groups
            .into_iter()
            .map(|group| {
                let (barrier, running, halt, reconnect) = (&barrier, &running, &halt, &reconnect);
                scope.spawn(move || {
                    let client = |i, session| {
                        (
                            i,
                            Client::new(plan, target, session, round, i).with_reconnect(reconnect),
                        )
                    };
                    let mut clients: Vec<(u32, Client)> = match group {
                        Group::One(i, session) => vec![client(i, session)],
                        Group::Multiplexed(sessions) => sessions.into_iter().map(|(i, s)| client(i, s)).collect(),
                    };
                    let multiplexed = clients.len() > 1;
                    barrier.wait();
                    let begin = wait_for_start();
                    reconnect.window_ends(begin + warmup + duration);
                    let cpu_start = thread_cpu();
                    let last = match clients.as_mut_slice() {
                        [(i, client)] if !multiplexed => drive_one(client, *i, plan, round, begin, halt),
                        several => {
                            let mut group: Vec<&mut Client> = several.iter_mut().map(|(_, c)| c).collect();
                            let limit = plan.load.op_timeout.map(|t| t + crate::backend::postgres::CLIENT_GRACE);
                            multiplex::run(&mut group, begin + warmup, begin + warmup + duration, halt, limit)
                        }
                    };
                    let cpu = (thread_cpu() - cpu_start).as_secs_f64();
                    let wall = last.saturating_duration_since(begin).as_secs_f64().max(1e-9);
                    running.fetch_sub(1, Ordering::Release);
                    let mut records = Recorder::new(target.ops.len());
                    for (_, c) in &clients {
                        records.merge(&c.recorder);
                    }
                    ThreadResult {
                        records,
                        last,
                        cpu: cpu / wall,
                        notices: clients.iter().map(|(_, c)| c.session.notices()).sum(),
                        reconnects: clients.iter().map(|(_, c)| c.reconnects).sum(),
                        // A thread drives clients of one group only (several
                        // share a thread only when there is one group).
                        group: clients.first().map_or(0, |(i, _)| plan.group_index(*i)),
                    }
                })
            })
            .collect();
        barrier.wait();
        let start = wait_for_start();
        let wall_start = std::time::SystemTime::now() - start.elapsed();
        let mut first: Option<Result<Option<Counters>, BackendError>> = None;
        let mut jiffies = None;
        while running.load(Ordering::Acquire) > 0 {
            if stop.load(Ordering::Relaxed) {
                halt.store(true, Ordering::Relaxed);
            }
            let elapsed = start.elapsed();
            let to_boundary = warmup.saturating_sub(elapsed);
            if first.is_none() && to_boundary < Duration::from_millis(100) {
                std::thread::sleep(to_boundary);
                jiffies = crate::environment::machine_jiffies();
                first = Some(engine.counters(&target.name));
            } else {
                std::thread::sleep(Duration::from_millis(100));
            }
            tick(start.elapsed());
        }
        let recorders: Vec<ThreadResult> = handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect();
        let machine_busy = jiffies
            .zip(crate::environment::machine_jiffies())
            .and_then(|(a, b)| crate::environment::busy_between(a, b));
        (recorders, start, wall_start, first, machine_busy)
    });

    let measure_from = start + warmup;
    if let Some(why) = reconnect.gone() {
        return Err(BackendError::Unavailable {
            backend: engine.kind(),
            message: format!(
                "the server stopped answering while variant `{}` was measured: sessions lost their connection and \
                 no new one opened for {} ms ({why})",
                target.name,
                SERVER_GONE_AFTER.as_millis()
            ),
        });
    }
    let last = recorders.iter().map(|r| r.last).max().unwrap_or(measure_from);
    let client_cpu_max = recorders.iter().map(|r| r.cpu).fold(0.0, f64::max);
    let notices = recorders.iter().map(|r| r.notices).sum();
    let reconnects = recorders.iter().map(|r| r.reconnects).sum();
    let mut records = Recorder::new(target.ops.len());
    let mut by_group: Vec<(Recorder, Instant)> = plan.groups.iter().map(|_| (Recorder::new(0), measure_from)).collect();
    for r in &recorders {
        records.merge(&r.records);
        let g = &mut by_group[r.group];
        g.0.merge(&r.records); // no operations: the schedule only
        g.1 = g.1.max(r.last);
    }
    let counters = match first {
        Some(Ok(Some(a))) => engine.counters(&target.name)?.map(|b| (a, b)),
        Some(Err(e)) => return Err(e),
        _ => None,
    };
    Ok(Window {
        records,
        started_at: wall_start + warmup,
        seconds: last.saturating_duration_since(measure_from).as_secs_f64(),
        interrupted: stop.load(Ordering::Relaxed),
        counters,
        client_cpu_max,
        notices,
        machine_busy,
        reconnects,
        groups: by_group
            .into_iter()
            .map(|(r, ended)| GroupWindow {
                schedule: r.schedule,
                seconds: ended.saturating_duration_since(measure_from).as_secs_f64(),
            })
            .collect(),
    })
}
