//! From a resolved scenario and command-line options to a concrete plan:
//! scale and load shape with precedence CLI > `--quick` profile > scenario >
//! defaults, bound generators, and every (backend, variant) target with its
//! operations translated into the backend's dialect.

use crate::backend::{BackendKind, OpPlan, StatementPlan};
use crate::datagen::{TablePlan, Value, mix64};
use crate::expr::Params;
use crate::scenario::{
    BoundWorkload, ConfigErrors, LoadModel, LoadModelError, LoadShape, OpId, Scenario, VariantId, bind,
};
use crate::suggest::did_you_mean;
use rand::Rng;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

/// Typed run options (the CLI's flags, or a library caller's choices).
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub seed: Option<u64>,
    /// Seed of the order variants run in each round; drawn afresh for every
    /// run when unset, so a rerun does not repeat the same order.
    pub order_seed: Option<u64>,
    /// Shard K of N of a sharded run (`--shard K/N --run-key KEY`).
    pub shard: Option<super::shard::ShardRun>,
    /// Run only these of the scenario's backends (all when empty).
    pub backends: Vec<crate::scenario::BackendKind>,
    pub clients: Option<NonZeroU32>,
    pub warmup: Option<Duration>,
    pub duration: Option<Duration>,
    pub rounds: Option<NonZeroU32>,
    /// Open loop: arrivals per second over all clients.
    pub rate: Option<NonZeroU32>,
    pub arrivals: Option<crate::scenario::Arrivals>,
    /// Warm or cold caches before each window.
    pub cache: Option<crate::scenario::CachePolicy>,
    /// Pipelined mode: requests in flight per connection (1: off).
    pub pipeline: Option<NonZeroU32>,
    /// Per-operation time limit (zero: none).
    pub op_timeout: Option<Duration>,
    /// Overrides `[verdict] equal_load` (the equal-load phase for guards).
    pub equal_load: Option<bool>,
    /// Run even when the data looks too large for the free disk space.
    pub force: bool,
    /// Scale parameter overrides, applied last.
    pub params: Vec<(String, f64)>,
    /// Use the scenario's smoke profile: small scale, short phases, one round.
    pub quick: bool,
    /// Where backends keep their temporary files (system temp folder if unset).
    pub work_dir: Option<PathBuf>,
    /// Where a PostgreSQL server comes from, and its settings.
    pub postgres: crate::provision::Request,
    /// Cancelled to stop the run early, keeping what was measured (the
    /// binary cancels it on Ctrl-C).
    pub cancel: crate::cancel::CancelToken,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("pipelined mode (`--pipeline` or `[load] pipeline`, {depth} in flight): {reason}")]
    Pipeline { depth: u32, reason: String },
    #[error("the load options on the command line (--clients, --rate, --arrivals, --pipeline)")]
    Load(#[source] LoadModelError),
    #[error("--param {name}: the workload has no scale parameter `{name}`{hint} (it has: {known})")]
    UnknownParam { name: String, hint: String, known: String },
    #[error("binding the workload to its scale parameters:\n{0}")]
    Bind(ConfigErrors),
    #[error(
        "cold-cache windows (--cold, or `[load] cache = \"cold\"`) restart the server before each window; a server \
         given by URL is not schemabench's to restart (use --provisioner local or docker, or a warm cache)"
    )]
    ColdOnUrl,
    #[error(
        "--clients, --rate, --arrivals and --pipeline set one load model; this scenario has `[load.groups]`, each with \
         its own (change them in the scenario file)"
    )]
    GroupsOverridden,
    #[error("--shard {shard}: {reason}")]
    Shard { shard: super::shard::Shard, reason: String },
    #[error("variant `{variant}`: partitions: {message}")]
    Partitions { variant: String, message: String },
    #[error("--backend {backend}: the scenario runs on {scenario} only")]
    Backend {
        backend: crate::scenario::BackendKind,
        scenario: String,
    },
}

/// Whether PostgreSQL is a server given by URL (not one schemabench starts).
fn given_by_url(postgres: &crate::provision::Request) -> bool {
    match postgres.choice {
        crate::provision::Choice::Url => true,
        crate::provision::Choice::Auto => postgres.url.is_some(),
        _ => false,
    }
}

/// A sharded run measures one PostgreSQL server given by URL, with at
/// least one client per shard, and without the phases only one process can
/// run (the SLO search, the equal-load phase: guards are judged on the main
/// windows).
fn check_shard(scenario: &Scenario, load: &LoadShape, options: &RunOptions) -> Result<(), PlanError> {
    let Some(run) = &options.shard else {
        return Ok(());
    };
    let refuse = |reason: String| {
        Err(PlanError::Shard {
            shard: run.shard,
            reason,
        })
    };
    if !given_by_url(&options.postgres) {
        return refuse(
            "shards measure one server that all of them reach: give it with --postgres-url (or \
             SCHEMABENCH_POSTGRES_URL)"
                .into(),
        );
    }
    if scenario.backends != [BackendKind::Postgres] {
        return refuse(
            "a sharded run measures PostgreSQL only; this scenario also runs on SQLite (add --backend postgres)".into(),
        );
    }
    if scenario.slo.is_some() && !options.quick {
        return refuse("the scenario's [slo] search probes rates one process at a time and is not sharded".into());
    }
    // With `[load.groups]` the load model's clients are every group's.
    let clients = load.clients().get();
    if clients < run.shard.count {
        return refuse(format!(
            "{clients} client(s) cannot be shared by {} shards: every shard needs at least one (raise --clients)",
            run.shard.count
        ));
    }
    if run.key.is_empty() || run.key.len() > 200 {
        return refuse("--run-key must be 1 to 200 characters, the same on every shard".into());
    }
    Ok(())
}

/// Cold caches need a server schemabench may restart: refused before any
/// work when PostgreSQL comes from a URL.
fn check_cold_on_url(
    scenario: &Scenario,
    load: &LoadShape,
    postgres: &crate::provision::Request,
) -> Result<(), PlanError> {
    if given_by_url(postgres)
        && load.cache == crate::scenario::CachePolicy::Cold
        && scenario.backends.contains(&BackendKind::Postgres)
    {
        return Err(PlanError::ColdOnUrl);
    }
    Ok(())
}

impl Target {
    /// How this target's sessions open: its session statements, its
    /// operations prepared, and the plan's operation time limit.
    pub fn session_options<'a>(&'a self, plan: &RunPlan) -> crate::backend::SessionOptions<'a> {
        crate::backend::SessionOptions {
            statements: &self.session,
            ops: &self.ops,
            op_timeout: plan.load.op_timeout,
        }
    }
}

/// One variant on one backend.
#[derive(Debug, Clone)]
pub struct Target {
    pub backend: BackendKind,
    pub variant: VariantId,
    pub name: String,
    pub setup: Vec<String>,
    pub session: Vec<String>,
    /// Indexed by [`OpId`], like `Workload::ops`.
    pub ops: Vec<OpPlan>,
    /// The base its copies are cloned from: [`crate::backend::DEFAULT_BASE`]
    /// (the workload's schema), or one of its own (shared by variants on
    /// the same backend with the same schema).
    pub base: String,
    pub base_spec: crate::backend::BaseSpec,
}

/// The weighted operation mix, sampled with one uniform draw.
#[derive(Debug, Clone)]
pub struct Mix {
    /// (operation, cumulative weight) for weights above zero.
    cumulative: Vec<(OpId, u64)>,
}

impl Mix {
    pub fn new(weights: &[(OpId, u32)]) -> Self {
        let mut total = 0u64;
        let cumulative = weights
            .iter()
            .filter(|(_, w)| *w > 0)
            .map(|&(op, w)| {
                total += w as u64;
                (op, total)
            })
            .collect();
        Mix { cumulative }
    }

    pub fn pick<R: Rng + ?Sized>(&self, rng: &mut R) -> OpId {
        let total = self.cumulative.last().map_or(1, |c| c.1);
        let x = rng.next_u64() % total;
        self.cumulative
            .iter()
            .find(|(_, c)| x < *c)
            .map_or(self.cumulative[0].0, |(op, _)| *op)
    }

    /// Operations that take part, in mix order.
    pub fn ops(&self) -> impl Iterator<Item = OpId> + '_ {
        self.cumulative.iter().map(|(op, _)| *op)
    }
}

/// Everything a run needs, resolved.
#[derive(Debug, Clone)]
pub struct RunPlan {
    pub scenario: Scenario,
    pub params: Params,
    pub load: LoadShape,
    pub seed: u64,
    /// Seed of the variants' order in each round (recorded in the result).
    pub order_seed: u64,
    pub quick: bool,
    pub bound: BoundWorkload,
    pub mix: Mix,
    pub targets: Vec<Target>,
    /// Whether guards are judged in an equal-load phase after the rounds
    /// (see [`Scenario::wants_equal_load`]).
    pub equal_load: bool,
    /// Who runs what: `[load.groups]`, or one group of the whole mix in
    /// the plan's load model. Clients are numbered across groups.
    pub groups: Vec<GroupPlan>,
    /// Shard K of N: this process runs only its share of the clients.
    pub shard: Option<super::shard::ShardRun>,
}

/// One operation group as run: its mix, load model and clients.
#[derive(Debug, Clone)]
pub struct GroupPlan {
    pub name: String,
    /// The group's own mix; `None` for the one implicit group of a plan
    /// without `[load.groups]`, which runs `RunPlan::mix` (so a caller
    /// that narrows the plan's mix narrows what runs).
    pub mix: Option<Mix>,
    pub model: LoadModel,
    /// Its clients' numbers among all the window's clients.
    pub clients: std::ops::Range<u32>,
    pub rows_per_op: Option<u32>,
}

impl GroupPlan {
    /// The groups `load` runs `mix` in.
    fn of(scenario: &Scenario, load: &LoadShape) -> Vec<GroupPlan> {
        if load.groups.is_empty() {
            return vec![GroupPlan {
                name: "all".into(),
                mix: None,
                model: load.model.clone(),
                clients: 0..load.clients().get(),
                rows_per_op: None,
            }];
        }
        let mut first = 0;
        load.groups
            .iter()
            .map(|g| {
                let n = g.model.clients().get();
                let weights: Vec<(OpId, u32)> = scenario
                    .mix
                    .iter()
                    .filter(|(op, _)| g.ops.iter().any(|name| *name == scenario.workload.ops[*op].name))
                    .copied()
                    .collect();
                first += n;
                GroupPlan {
                    name: g.name.clone(),
                    mix: Some(Mix::new(&weights)),
                    model: g.model.clone(),
                    clients: first - n..first,
                    rows_per_op: g.rows_per_op,
                }
            })
            .collect()
    }

    /// The group's position of client `client` (numbered across groups).
    pub fn index_of(&self, client: u32) -> u32 {
        client - self.clients.start
    }
}

impl RunPlan {
    /// Open-loop rate at `elapsed` into a window: the ramp steps split the
    /// warmup evenly, then the measured rate.
    pub fn rate_at(&self, elapsed: std::time::Duration) -> Option<f64> {
        self.load.model.rate_at(self.load.warmup, elapsed)
    }
}

impl RunPlan {
    pub fn tables(&self) -> &[TablePlan] {
        &self.bound.tables
    }

    /// Samples operation `op`'s parameters.
    pub fn sample_params<R: Rng + ?Sized>(&self, op: OpId, rng: &mut R, n: u64) -> Vec<Value> {
        let mut out = Vec::new();
        self.sample_params_into(op, rng, n, &mut out);
        out
    }

    /// [`RunPlan::sample_params`] into a reused buffer (the timed path).
    pub fn sample_params_into<R: Rng + ?Sized>(&self, op: OpId, rng: &mut R, n: u64, out: &mut Vec<Value>) {
        self.bound.sample_params_into(op, rng, n, out);
    }

    /// Whether `op` inserts a batch of generated rows.
    pub fn is_batch(&self, op: OpId) -> bool {
        self.bound.batches[op.0].is_some()
    }

    /// Seed of client `client`'s stream in `round`: the same for every
    /// variant, so all variants replay the same operations and parameters.
    pub fn client_seed(&self, round: u32, client: u32) -> u64 {
        mix64(self.seed ^ mix64(0x6c6f_6164 ^ mix64(((round as u64) << 32) | client as u64)))
    }

    /// This plan with every client in `model` (one group of the whole mix):
    /// the equal-load phase and the SLO probes.
    pub fn with_model(&self, model: LoadModel) -> RunPlan {
        let mut p = self.clone();
        p.load.model = model;
        p.load.groups.clear();
        p.groups = GroupPlan::of(&p.scenario, &p.load);
        p
    }

    /// The mix client `client` runs: its group's.
    pub fn mix_of(&self, client: u32) -> &Mix {
        self.group_of(client).mix.as_ref().unwrap_or(&self.mix)
    }

    /// The clients this process runs, by their numbers among all the
    /// window's clients: all of them, or a shard's share.
    pub fn local_clients(&self) -> Vec<u32> {
        let all = self.groups.iter().map(|g| g.clients.end).max().unwrap_or(0);
        (0..all)
            .filter(|&c| self.shard.as_ref().is_none_or(|s| s.shard.owns(c)))
            .collect()
    }

    /// The group client `client` belongs to.
    pub fn group_of(&self, client: u32) -> &GroupPlan {
        &self.groups[self.group_index(client)]
    }

    /// The index in [`RunPlan::groups`] of client `client`'s group.
    pub fn group_index(&self, client: u32) -> usize {
        self.groups
            .iter()
            .position(|g| g.clients.contains(&client))
            .unwrap_or(0)
    }

    pub fn targets_on(&self, backend: BackendKind) -> impl Iterator<Item = &Target> {
        self.targets.iter().filter(move |t| t.backend == backend)
    }
}

/// Pipelined mode is a different load model with narrow rules: PostgreSQL
/// only, a closed loop, and single-statement reads outside transactions
/// (a write's effects would depend on what else is in flight).
fn check_pipeline(scenario: &Scenario, load: &LoadShape) -> Result<(), PlanError> {
    match (&load.model, scenario.pipeline_problem(&load.model)) {
        (LoadModel::Pipelined { depth, .. }, Some(reason)) => Err(PlanError::Pipeline {
            depth: depth.get(),
            reason,
        }),
        _ => Ok(()),
    }
}

/// Builds the plan for `scenario` under `options`.
pub fn plan(scenario: &Scenario, options: &RunOptions) -> Result<RunPlan, PlanError> {
    if let Some(&b) = options.backends.iter().find(|b| !scenario.backends.contains(b)) {
        let names: Vec<&str> = scenario.backends.iter().map(|b| b.as_str()).collect();
        return Err(PlanError::Backend {
            backend: b,
            scenario: names.join(" and "),
        });
    }
    let mut scenario = scenario.clone();
    if !options.backends.is_empty() {
        scenario.backends.retain(|b| options.backends.contains(b));
    }
    let scenario = &scenario;
    let (mut params, base_load) = if options.quick {
        (scenario.quick.params.clone(), &scenario.quick.load)
    } else {
        (scenario.params.clone(), &scenario.load)
    };
    for (name, value) in &options.params {
        if !params.contains_key(name) {
            let known: Vec<&str> = params.keys().map(String::as_str).collect();
            return Err(PlanError::UnknownParam {
                name: name.clone(),
                hint: did_you_mean(name, known.iter().copied())
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default(),
                known: known.join(", "),
            });
        }
        params.insert(name.clone(), *value);
    }
    let overridden =
        options.clients.is_some() || options.rate.is_some() || options.arrivals.is_some() || options.pipeline.is_some();
    if overridden && !base_load.groups.is_empty() {
        return Err(PlanError::GroupsOverridden);
    }
    let mut parts = base_load.model.parts();
    if let Some(c) = options.clients {
        parts.clients = c;
    }
    if let Some(r) = options.rate {
        parts.rate = Some(r);
    }
    if let Some(a) = options.arrivals {
        parts.arrivals = a;
    }
    if let Some(d) = options.pipeline {
        parts.pipeline = d;
    }
    let load = LoadShape {
        model: LoadModel::resolve(parts).map_err(PlanError::Load)?,
        warmup: options.warmup.unwrap_or(base_load.warmup),
        duration: options.duration.unwrap_or(base_load.duration),
        rounds: options.rounds.unwrap_or(base_load.rounds),
        cache: options.cache.unwrap_or(base_load.cache),
        op_timeout: match options.op_timeout {
            Some(t) if t.is_zero() => None,
            Some(t) => Some(t),
            None => base_load.op_timeout,
        },
        groups: base_load.groups.clone(),
    };
    check_pipeline(scenario, &load)?;
    check_cold_on_url(scenario, &load, &options.postgres)?;
    check_shard(scenario, &load, options)?;
    let bound = bind(&scenario.workload, &params).map_err(PlanError::Bind)?;

    let mut targets = Vec::new();
    for &backend in &scenario.backends {
        for (vi, variant) in scenario.variants.iter().enumerate() {
            let vi = VariantId(vi);
            if !variant.runs_on(backend) {
                continue;
            }
            let ops = scenario
                .workload
                .ops
                .iter()
                .enumerate()
                .map(|(oi, op)| (OpId(oi), op))
                .map(|(oi, op)| OpPlan {
                    name: op.name.clone(),
                    kind: op.kind,
                    transaction: op.transaction,
                    steps: scenario
                        .steps_for(vi, oi)
                        .iter()
                        .map(|s| StatementPlan {
                            sql: backend.translate(s.sql.get(backend).map_or("", String::as_str)),
                            args: s.args.clone(),
                        })
                        .collect(),
                })
                .collect();
            let base_spec = base_spec(scenario, vi, backend, &bound.tables)?;
            let base = match &variant.base {
                None => crate::backend::DEFAULT_BASE.to_string(),
                Some(_) => targets
                    .iter()
                    .find(|t: &&Target| t.backend == backend && t.base_spec == base_spec)
                    .map_or_else(|| format!("base-{}", variant.name), |t| t.base.clone()),
            };
            targets.push(Target {
                backend,
                variant: vi,
                name: variant.name.clone(),
                setup: variant.setup.get(backend).cloned().unwrap_or_default(),
                session: variant.session.get(backend).cloned().unwrap_or_default(),
                ops,
                base,
                base_spec,
            });
        }
    }
    // A TSL-only TimescaleDB feature anywhere is refused before any load.
    let tsl =
        crate::backend::postgres::tsl_features(targets.iter().filter(|t| t.backend == BackendKind::Postgres).flat_map(
            |t| {
                let ops = t.ops.iter().flat_map(|o| o.steps.iter().map(|s| s.sql.as_str()));
                let spec = t.base_spec.schema.iter().chain(&t.base_spec.after_load);
                spec.chain(&t.setup).chain(&t.session).map(String::as_str).chain(ops)
            },
        ));
    for t in targets.iter_mut().filter(|t| t.backend == BackendKind::Postgres) {
        t.base_spec.tsl_features.clone_from(&tsl);
    }

    Ok(RunPlan {
        groups: GroupPlan::of(scenario, &load),
        equal_load: load.groups.is_empty()
            && !load.model.is_open()
            && options.shard.is_none()
            && options
                .equal_load
                .unwrap_or_else(|| scenario.wants_equal_load(&load.model)),
        scenario: scenario.clone(),
        params,
        load,
        seed: options.seed.unwrap_or(scenario.seed),
        order_seed: options.order_seed.unwrap_or_else(fresh_seed),
        quick: options.quick,
        bound,
        mix: Mix::new(&scenario.mix),
        targets,
        shard: options.shard.clone(),
    })
}

/// What variant `v`'s base holds on `backend`: the workload's schema, or
/// the variant's own with its partitions.
fn base_spec(
    scenario: &Scenario,
    v: VariantId,
    backend: BackendKind,
    tables: &[crate::datagen::TablePlan],
) -> Result<crate::backend::BaseSpec, PlanError> {
    let mut spec = crate::backend::BaseSpec::for_workload(&scenario.workload, backend);
    let variant = &scenario.variants[v.0];
    let Some(own) = &variant.base else {
        return Ok(spec);
    };
    if let Some(schema) = own.schema.get(backend) {
        spec.schema.clone_from(schema);
    }
    if let Some(after) = own.after_load.as_ref() {
        spec.after_load = after.get(backend).cloned().unwrap_or_default();
    }
    if let Some(decl) = &own.partitions {
        let made = super::partitions::statements(decl, tables).map_err(|message| PlanError::Partitions {
            variant: variant.name.clone(),
            message,
        })?;
        spec.schema.extend(made);
    }
    Ok(spec)
}

/// A seed no earlier run used: the clock's nanoseconds mixed with the process id.
fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    mix64(nanos ^ ((std::process::id() as u64) << 40))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn the_mix_follows_its_weights() {
        let mix = Mix::new(&[(OpId(3), 80), (OpId(5), 0), (OpId(1), 20)]);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut counts = [0u32; 6];
        for _ in 0..100_000 {
            counts[mix.pick(&mut rng).0] += 1;
        }
        assert_eq!(counts[5], 0, "weight 0 never runs");
        let share = counts[3] as f64 / 100_000.0;
        assert!((share - 0.8).abs() < 0.01, "{share}");
        assert_eq!(mix.ops().collect::<Vec<_>>(), [OpId(3), OpId(1)]);
    }
}
