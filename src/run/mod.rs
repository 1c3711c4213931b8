//! Running a plan: load each backend's base once, prepare every variant,
//! check answers, then measure in rounds with the variants in a fresh random
//! order each round. Produces [`Records`]; it never prints (progress goes to
//! an [`Observer`]) and never gives up what was measured when a later step
//! fails or the user interrupts.

pub mod answers;
pub mod evidence;
pub mod explain;
mod follow;
pub mod footprint;
pub mod neighbours;
pub mod partitions;
pub mod plan;
pub mod recall;
pub mod shard;
pub mod slo;
pub mod statements;
pub mod workers;

pub use answers::{AnswerReport, CheckPhase, Mismatch};
pub use plan::{Mix, PlanError, RunOptions, RunPlan, Target, plan};
pub use workers::{Client, Window};

use crate::backend::{
    self, BackendError, BackendKind, BaseSpec, Engine, EngineOptions, ObjectKind, Sizes, TableLoad, VariantSetup,
};
use crate::datagen::{combine_checksums, mix64};
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// Progress notifications, called from the coordinating thread only.
pub trait Observer: Sync {
    fn provisioned(&self, _backend: BackendKind, _description: &str) {}
    fn loading(&self, _backend: BackendKind, _total_rows: u64) {}
    /// Rows loaded so far on the current backend.
    fn loaded_rows(&self, _rows: u64) {}
    fn preparing(&self, _backend: BackendKind, _variant: &str) {}
    fn checking_answers(&self, _backend: BackendKind) {}
    fn measuring(&self, _round: u32, _rounds: u32, _backend: BackendKind, _variant: &str, _total: Duration) {}
    fn measure_tick(&self, _elapsed: Duration) {}
    fn searching_slo(&self, _backend: BackendKind, _variant: &str) {}
    /// The equal-load phase starts: every variant open-loop at `rate_per_s`.
    fn equal_load(&self, _backend: BackendKind, _rate_per_s: u32) {}
    fn finished(&self) {}
}

/// An observer that ignores everything (`--quiet`, tests).
pub struct Silent;
impl Observer for Silent {}

/// One variant's records on one backend.
#[derive(Debug, Clone, Default)]
pub struct VariantRecords {
    /// Index into `RunPlan::targets`.
    pub target: usize,
    pub setup: VariantSetup,
    pub sizes: Sizes,
    /// The plan of every operation in the mix on a sample parameter.
    pub plans: Vec<explain::OpQueryPlan>,
    /// Indexes this variant has that the base does not.
    pub added_indexes: Vec<String>,
    /// Added indexes that no operation's plan uses.
    pub unused_indexes: Vec<String>,
    /// Measured windows, one per completed round.
    pub rounds: Vec<Window>,
    /// Windows of the equal-load phase, one per completed round (empty when
    /// the plan has none).
    pub equal_load_rounds: Vec<Window>,
    /// The setup of each round's fresh copy (round 1 measures the copy made
    /// and checked before the rounds: `setup`).
    pub round_setups: Vec<VariantSetup>,
    /// `[[evidence]]` readings of each main round's copy after its setup and
    /// after its window (one inner vector per round, queries in order).
    pub evidence_after_setup: Vec<Vec<Option<f64>>>,
    pub evidence_after_run: Vec<Vec<Option<f64>>>,
    /// The maximum-throughput-at-SLO search, if the scenario asks for one.
    pub slo: Option<slo::SloResult>,
    /// Recall of the similarity searches measured before each main round's
    /// window (one inner vector per round; empty without `[op.neighbours]`).
    pub recall_rounds: Vec<Vec<recall::RecallRound>>,
    /// The load of the variant's own base (a variant with its own schema;
    /// shared with the variants of the same schema).
    pub own_load: Option<BaseLoad>,
}

/// One base's load: per table, and the whole load's wall time.
#[derive(Debug, Clone)]
pub struct BaseLoad {
    pub loads: Vec<TableLoad>,
    pub seconds: f64,
}

/// Everything measured on one backend.
#[derive(Debug, Clone)]
pub struct BackendRecords {
    pub backend: BackendKind,
    pub version: String,
    /// Where the engine ran (provisioner and server for PostgreSQL).
    pub server: String,
    pub placement: crate::backend::Placement,
    pub settings: Vec<(String, String)>,
    pub loads: Vec<TableLoad>,
    /// Checksum over all generated tables: equal on every backend and run for
    /// the same scenario, scale and seed.
    pub data_checksum: String,
    pub load_seconds: f64,
    pub variants: Vec<VariantRecords>,
    pub answers: AnswerReport,
    /// Variant names in the order they ran, per round.
    pub round_order: Vec<Vec<String>>,
    /// The open-loop rate of the equal-load phase, if it ran.
    pub equal_load_rate: Option<u32>,
}

impl BackendRecords {
    /// An engine's description, before anything is loaded or measured.
    pub(crate) fn of(engine: &dyn Engine, kind: BackendKind) -> Self {
        BackendRecords {
            backend: kind,
            version: engine.version(),
            server: engine.describe(),
            placement: engine.placement(),
            settings: engine.settings(),
            data_checksum: String::new(),
            loads: Vec::new(),
            load_seconds: 0.0,
            variants: Vec::new(),
            answers: AnswerReport::default(),
            round_order: Vec::new(),
            equal_load_rate: None,
        }
    }
}

/// The raw outcome of a run.
#[derive(Debug, Clone)]
pub struct Records {
    pub started_at: OffsetDateTime,
    pub finished_at: OffsetDateTime,
    pub backends: Vec<BackendRecords>,
    /// Set when the user interrupted the run.
    pub interrupted: bool,
    /// Set when a step failed; what was measured before it is kept.
    pub failure: Option<String>,
}

impl Records {
    pub fn complete(&self) -> bool {
        !self.interrupted && self.failure.is_none()
    }
}

/// Runs `plan` on every backend it names.
pub fn execute(plan: &RunPlan, options: &RunOptions, observer: &dyn Observer) -> Records {
    let mut records = Records {
        started_at: OffsetDateTime::now_utc(),
        finished_at: OffsetDateTime::now_utc(),
        backends: Vec::new(),
        interrupted: false,
        failure: None,
    };
    // A sharded run's shards meet in the target database before anything.
    let opened = plan
        .shard
        .as_ref()
        .map(|run| shard::Barrier::open(&options.postgres, run.clone(), options.cancel.clone()))
        .transpose();
    let mut barrier = None;
    match opened {
        Err(e) => keep_failure(&mut records, options, &e),
        Ok(b) => {
            barrier = b;
            for &kind in &plan.scenario.backends {
                let ran = match barrier.as_mut() {
                    Some(b) if !b.run().shard.leads() => follow::follow(plan, options, kind, observer, &mut records, b),
                    b => run_backend(plan, options, kind, observer, &mut records, b),
                };
                if let Err(e) = ran {
                    keep_failure(&mut records, options, &e);
                    break;
                }
                if options.cancel.is_cancelled() {
                    break;
                }
            }
        }
    }
    records.interrupted = options.cancel.is_cancelled();
    if let Some(b) = barrier.as_mut().filter(|b| b.run().shard.leads()) {
        let why = records.failure.clone().or_else(|| {
            records
                .interrupted
                .then(|| "the leading shard was interrupted".to_string())
        });
        if let Err(e) = b.end(why.as_deref()) {
            tracing::warn!(error = %e, "could not tell the other shards the run ended");
        }
    }
    drop(barrier);
    records.finished_at = OffsetDateTime::now_utc();
    observer.finished();
    records
}

/// Records why a step failed; a step cut short by a signal is an
/// interruption, not a failure.
fn keep_failure(records: &mut Records, options: &RunOptions, e: &BackendError) {
    if !(options.cancel.is_cancelled() && matches!(e, BackendError::Interrupted { .. })) {
        records.failure = Some(crate::util::error_chain(e));
    }
}

fn run_backend(
    plan: &RunPlan,
    options: &RunOptions,
    kind: BackendKind,
    observer: &dyn Observer,
    records: &mut Records,
    barrier: Option<&mut shard::Barrier>,
) -> Result<(), BackendError> {
    let stop = options.cancel.flag();
    let mut engine = backend::open(kind, &engine_options(plan, options))?;
    observer.provisioned(kind, &engine.describe());
    let targets: Vec<usize> = (0..plan.targets.len())
        .filter(|&i| plan.targets[i].backend == kind)
        .collect();
    let base_loads = load_bases(engine.as_mut(), plan, kind, observer, stop)?;
    let (_, first) = base_loads.first().cloned().ok_or_else(|| BackendError::Database {
        backend: kind,
        context: "loading".into(),
        message: "the plan has no variant on this backend".into(),
    })?;
    let checksum = |b: &BaseLoad| combine_checksums(b.loads.iter().map(|l| l.checksum.as_str()));
    if let Some((name, other)) = base_loads.iter().find(|(_, b)| checksum(b) != checksum(&first)) {
        return Err(BackendError::Database {
            backend: kind,
            context: format!("loading base `{name}`"),
            message: format!(
                "its data checksum {} differs from the first base's {}: the generated data was not identical",
                checksum(other),
                checksum(&first)
            ),
        });
    }
    records.backends.push(BackendRecords {
        data_checksum: checksum(&first),
        loads: first.loads.clone(),
        load_seconds: first.seconds,
        ..BackendRecords::of(engine.as_ref(), kind)
    });
    let rec = records.backends.last_mut().expect("just pushed");

    // Each base's own indexes, read once: what a variant adds is beyond them.
    let mut base_indexes: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for (name, _) in &base_loads {
        base_indexes.insert(name, engine.indexes_of_base(name)?);
    }
    for &ti in &targets {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let t = &plan.targets[ti];
        observer.preparing(kind, &t.name);
        let setup = engine.create_variant_from(&t.name, &t.base, &t.setup)?;
        tracing::debug!(backend = %kind, variant = %t.name, setup_seconds = setup.setup_seconds, "variant ready");
        let sizes = engine.sizes(&t.name)?;
        let evidence_after_setup = vec![evidence::read(engine.as_ref(), plan, t)?];
        let plans = explain::query_plans(engine.as_ref(), plan, t)?;
        let of_base = base_indexes.get(t.base.as_str()).map_or(&[][..], Vec::as_slice);
        let added_indexes: Vec<String> = sizes
            .objects
            .iter()
            .filter(|o| o.kind == ObjectKind::Index && !of_base.contains(&o.name))
            .map(|o| o.name.clone())
            .collect();
        let unused_indexes = added_indexes
            .iter()
            .filter(|i| !plans.iter().any(|p| p.steps.iter().any(|s| s.indexes.contains(i))))
            .cloned()
            .collect();
        rec.variants.push(VariantRecords {
            target: ti,
            setup,
            sizes,
            plans,
            added_indexes,
            unused_indexes,
            rounds: Vec::new(),
            equal_load_rounds: Vec::new(),
            round_setups: Vec::new(),
            evidence_after_setup,
            evidence_after_run: Vec::new(),
            slo: None,
            recall_rounds: Vec::new(),
            own_load: base_loads
                .iter()
                .find(|(n, _)| *n == t.base && n != backend::DEFAULT_BASE)
                .map(|(_, b)| b.clone()),
        });
    }

    if stop.load(Ordering::Relaxed) {
        return Ok(());
    }
    observer.checking_answers(kind);
    let baseline = targets
        .iter()
        .map(|&i| &plan.targets[i])
        .find(|t| t.variant == plan.scenario.verdict.baseline)
        .unwrap_or(&plan.targets[targets[0]]);
    rec.answers = answers::check_answers(engine.as_ref(), plan, kind, baseline, stop)?;
    let mut recall = recall::RecallCheck::new(plan, kind)?;

    measure_rounds(
        engine.as_mut(),
        plan,
        observer,
        rec,
        Phase::Main(recall.as_mut()),
        stop,
        barrier,
    )?;
    let measured = |rec: &BackendRecords| rec.variants.iter().all(|v| !v.rounds.is_empty());
    if !stop.load(Ordering::Relaxed) && measured(rec) {
        observer.checking_answers(kind);
        if let Some(after) = answers::check_after_writes(engine.as_mut(), plan, kind, baseline, stop)? {
            rec.answers.writes_applied = after.writes_applied;
            rec.answers.mismatches.extend(after.mismatches);
        }
    }
    if plan.equal_load
        && !stop.load(Ordering::Relaxed)
        && measured(rec)
        && let Some(rate) = equal_load_rate(rec)
    {
        rec.equal_load_rate = Some(rate.get());
        observer.equal_load(kind, rate.get());
        let parts = plan.load.model.parts();
        let open = plan.with_model(crate::scenario::LoadModel::Open {
            clients: parts.clients,
            rate_per_s: rate,
            arrivals: parts.arrivals,
            ramp: Vec::new(),
        });
        measure_rounds(engine.as_mut(), &open, observer, rec, Phase::EqualLoad, stop, None)?;
    }
    // The SLO search is a long series of probes: not part of a smoke run.
    if let Some(search) = plan.scenario.slo.as_ref().filter(|_| !plan.quick) {
        for v in &mut rec.variants {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            let target = &plan.targets[v.target];
            observer.searching_slo(kind, &target.name);
            v.slo = Some(slo::search(engine.as_ref(), target, plan, search, stop)?);
        }
    }
    Ok(())
}

/// How a run starts its engines: its work folder, a PostgreSQL request
/// with the workload's extensions (TimescaleDB preloaded, as it must be),
/// and its cancellation.
pub fn engine_options(plan: &RunPlan, options: &RunOptions) -> EngineOptions {
    let workload = &plan.scenario.workload;
    let mut postgres = options.postgres.clone();
    postgres.work_dir = postgres.work_dir.or_else(|| options.work_dir.clone());
    postgres.extensions = workload.extensions.clone();
    if workload.extensions.iter().any(|e| e == "timescaledb") {
        postgres.preload.push("timescaledb".into());
    }
    EngineOptions {
        work_dir: options.work_dir.clone(),
        postgres,
        cancel: options.cancel.clone(),
    }
}

/// Loads every base the plan's targets on `kind` are cloned from, once
/// each: the workload's, and those of variants with a schema of their own,
/// each with the same generated data. Stops after the base being loaded
/// when `stop` is set.
pub fn load_bases(
    engine: &mut dyn Engine,
    plan: &RunPlan,
    kind: BackendKind,
    observer: &dyn Observer,
    stop: &AtomicBool,
) -> Result<Vec<(String, BaseLoad)>, BackendError> {
    let mut bases: Vec<(&str, &BaseSpec)> = Vec::new();
    for t in plan.targets_on(kind) {
        if !bases.iter().any(|(name, _)| *name == t.base) {
            bases.push((&t.base, &t.base_spec));
        }
    }
    let mut base_loads: Vec<(String, BaseLoad)> = Vec::new();
    for (name, spec) in &bases {
        observer.loading(kind, plan.tables().iter().map(|t| t.rows).sum());
        let loaded = AtomicU64::new(0);
        let start = Instant::now();
        let loads = engine.load_named_base(name, spec, plan.tables(), plan.seed, &|n| {
            let total = loaded.fetch_add(n, Ordering::Relaxed) + n;
            observer.loaded_rows(total);
        })?;
        let seconds = start.elapsed().as_secs_f64();
        tracing::debug!(backend = %kind, base = name, seconds, "base loaded");
        base_loads.push((name.to_string(), BaseLoad { loads, seconds }));
        if stop.load(Ordering::Relaxed) {
            break;
        }
    }
    Ok(base_loads)
}

/// The share of the slowest variant's closed-loop throughput the
/// equal-load phase offers every variant: below what each sustained, so the
/// schedule is kept and latency measures the design, not a queue.
pub const EQUAL_LOAD_FRACTION: f64 = 0.5;

/// [`EQUAL_LOAD_FRACTION`] of the lowest total throughput (median over its
/// rounds) of any variant.
fn equal_load_rate(rec: &BackendRecords) -> Option<std::num::NonZeroU32> {
    let slowest = rec
        .variants
        .iter()
        .map(|v| {
            let mut per_round: Vec<f64> = v
                .rounds
                .iter()
                .map(|w| w.records.ops.iter().map(|o| o.count()).sum::<u64>() as f64 / w.seconds.max(1e-9))
                .collect();
            per_round.sort_by(f64::total_cmp);
            per_round.get(per_round.len() / 2).copied().unwrap_or(0.0)
        })
        .fold(f64::INFINITY, f64::min);
    std::num::NonZeroU32::new((slowest * EQUAL_LOAD_FRACTION).floor().min(u32::MAX as f64) as u32)
}

/// Which measurements a series of rounds produces.
enum Phase<'a> {
    /// The scenario's load model; decides goals. Recall is measured before
    /// each window when the mix has similarity searches.
    Main(Option<&'a mut recall::RecallCheck>),
    /// Every variant open-loop at one rate; decides guards.
    EqualLoad,
}

fn measure_rounds(
    engine: &mut dyn Engine,
    plan: &RunPlan,
    observer: &dyn Observer,
    rec: &mut BackendRecords,
    mut phase: Phase<'_>,
    stop: &AtomicBool,
    mut barrier: Option<&mut shard::Barrier>,
) -> Result<(), BackendError> {
    let main = matches!(phase, Phase::Main(_));
    let baseline = plan.scenario.variants[plan.scenario.verdict.baseline.0].name.clone();
    let rounds = plan.load.rounds.get();
    let total = plan.load.warmup + plan.load.duration;
    let salt = if main { 0x726f_756e_6400 } else { 0x6571_6c6f_6164 };
    // A balanced order: a random order for the first round, rotated by one
    // place each round after, so every variant runs in every position
    // equally often over as many rounds as variants (a cyclic Latin square).
    // Fully random orders put one variant first in every round of a run one
    // time in four with two variants, and whatever the first (or second)
    // window of a round pays then lands on one design.
    let mut rng = ChaCha8Rng::seed_from_u64(mix64(plan.order_seed ^ salt));
    let mut first: Vec<usize> = (0..rec.variants.len()).collect();
    first.shuffle(&mut rng);
    let offset = rng.random_range(0..first.len().max(1));
    for round in 0..rounds {
        let mut order = first.clone();
        let n = order.len().max(1);
        order.rotate_left((offset + round as usize) % n);
        if main {
            rec.round_order.push(Vec::new());
        }
        for v in order {
            let target = &plan.targets[rec.variants[v].target];
            // Replicate the design, not the copy: every round after the first
            // measures a fresh clone of the base with the setup run again, so
            // copy-to-copy differences (file and page layout, index build)
            // land in the interval instead of posing as design effects. The
            // equal-load phase starts from fresh copies too: the main
            // rounds' writes changed the last one.
            if round > 0 || !main {
                observer.preparing(rec.backend, &target.name);
                let setup = engine.create_variant_from(&target.name, &target.base, &target.setup)?;
                if main {
                    rec.variants[v].round_setups.push(setup);
                    let readings = evidence::read(&*engine, plan, target)?;
                    rec.variants[v].evidence_after_setup.push(readings);
                }
            }
            // Recall on the copy as set up, before the window's writes.
            if let Phase::Main(Some(check)) = &mut phase {
                let (readings, mismatches) = check.measure(&*engine, plan, target, &baseline, round, stop)?;
                rec.variants[v].recall_rounds.push(readings);
                for m in mismatches {
                    let known = |k: &answers::Mismatch| k.variant == m.variant && k.op == m.op;
                    if !rec.answers.mismatches.iter().any(known) {
                        rec.answers.mismatches.push(m);
                    }
                }
            }
            if plan.load.cache == crate::scenario::CachePolicy::Cold {
                engine.restart()?;
            }
            engine.before_window();
            observer.measuring(round + 1, rounds, rec.backend, &target.name, total);
            // Shard 1 of a sharded run: the others measure this copy too.
            let step = match barrier.as_deref_mut() {
                Some(b) => {
                    let db = engine.variant_database(&target.name).unwrap_or_default();
                    Some(b.announce(&target.name, round, &db)?)
                }
                None => None,
            };
            let mut start = || match (barrier.as_deref_mut(), step) {
                (Some(b), Some(step)) => b.ready(step).map(Some),
                _ => Ok(None),
            };
            let window = workers::measure(
                &*engine,
                target,
                plan,
                round,
                stop,
                &|e| observer.measure_tick(e),
                &mut start,
            )?;
            if let (Some(b), Some(step)) = (barrier.as_deref_mut(), step) {
                b.done(step)?;
            }
            if window.interrupted {
                return Ok(()); // a cut-short window would bias the comparison
            }
            // A window in which nothing completed measured nothing: a
            // statement that never ends, a server that stopped answering.
            // The run stops there, incomplete, rather than call it a result.
            if window.records.ops.iter().all(|o| o.count() == 0) {
                let errors: u64 = window.records.ops.iter().map(|o| o.errors.iter().sum::<u64>()).sum();
                return Err(BackendError::Database {
                    backend: rec.backend,
                    context: format!("variant `{}`, round {}", target.name, round + 1),
                    message: format!(
                        "no operation completed in the {:.1} s measured window ({errors} failed); a statement may \
                         never end (lower `[load] op_timeout`) or the server stopped answering",
                        plan.load.duration.as_secs_f64()
                    ),
                });
            }
            match phase {
                Phase::Main(_) => {
                    let readings = evidence::read(&*engine, plan, target)?;
                    rec.variants[v].evidence_after_run.push(readings);
                    rec.variants[v].rounds.push(window);
                    rec.round_order[round as usize].push(target.name.clone());
                }
                Phase::EqualLoad => rec.variants[v].equal_load_rounds.push(window),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
