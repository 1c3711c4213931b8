//! Scenario files: raw structs to a validated [`Scenario`], including every
//! cross-check (mix, variants, backends, verdict, parameters).

use super::diag::{ConfigErrors, Source, SourceRef};
use super::model::{
    Arrivals, CachePolicy, Guard, LoadShape, Metric, QuickProfile, Scenario, Target, Variant, VerdictRule, Workload,
};
use super::raw::{RawArrivals, RawCache, RawLoad, RawMetric, RawScenario, RawVariant, RawVerdict, S};
use super::resolve_workload::{Problems, check_name, check_placeholders, params_map, resolve_step};
use crate::backend::BackendKind;
use crate::expr::Params;
use crate::suggest::did_you_mean;
use std::collections::{BTreeMap, HashSet};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// `[load] op_timeout` when the scenario does not say.
pub const DEFAULT_OP_TIMEOUT: Duration = Duration::from_secs(30);

/// Defaults of `[load]`, documented in docs/scenario-format.md.
pub const DEFAULT_LOAD: LoadShape = LoadShape {
    clients: NonZeroU32::new(4).unwrap(),
    warmup: Duration::from_secs(3),
    duration: Duration::from_secs(10),
    rounds: NonZeroU32::new(3).unwrap(),
    rate_per_s: None,
    arrivals: Arrivals::Uniform,
    cache: CachePolicy::Warm,
    pipeline: None,
    op_timeout: Some(DEFAULT_OP_TIMEOUT),
};

/// Defaults of the `--quick` smoke profile.
pub const QUICK_LOAD: LoadShape = LoadShape {
    clients: NonZeroU32::new(2).unwrap(),
    warmup: Duration::from_millis(500),
    duration: Duration::from_secs(2),
    rounds: NonZeroU32::new(1).unwrap(),
    rate_per_s: None,
    arrivals: Arrivals::Uniform,
    cache: CachePolicy::Warm,
    pipeline: None,
    op_timeout: Some(DEFAULT_OP_TIMEOUT),
};

pub const DEFAULT_SEED: u64 = 1;

pub fn load_scenario(path: &Path) -> Result<Scenario, ConfigErrors> {
    let source = Source::read(path)?;
    resolve_scenario(&source)
}

/// Finds the workload file a scenario names.
pub fn workload_path(scenario: &Path, name: &str) -> Result<PathBuf, Vec<PathBuf>> {
    let dir = scenario.parent().unwrap_or(Path::new("."));
    let candidates: Vec<PathBuf> = if name.ends_with(".toml") || name.contains('/') {
        vec![dir.join(name)]
    } else {
        let file = format!("{name}.toml");
        vec![
            dir.join("..").join("workloads").join(&file),
            dir.join("workloads").join(&file),
            dir.join(&file),
            PathBuf::from("workloads").join(&file),
        ]
    };
    let candidates: Vec<PathBuf> = candidates.iter().map(|p| normalize(p)).collect();
    candidates.iter().find(|p| p.is_file()).cloned().ok_or(candidates)
}

/// Removes `.` and `name/..` pairs lexically, so messages show
/// `workloads/orders.toml` rather than `scenarios/../workloads/orders.toml`.
fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.is_empty() {
        PathBuf::from(".")
    } else {
        out.iter().collect()
    }
}

pub fn resolve_scenario(source: &SourceRef) -> Result<Scenario, ConfigErrors> {
    let raw: RawScenario = super::diag::parse_toml(source)?;
    let mut p = Problems::new(source.clone());
    check_name(&mut p, &raw.name, "name", "scenario");

    let workload = match workload_path(&source.path, raw.workload.get_ref()) {
        Ok(path) => super::resolve_workload::load_workload(&path)?,
        Err(tried) => {
            let list: Vec<String> = tried.iter().map(|t| t.display().to_string()).collect();
            p.at(
                &raw.workload,
                "workload",
                format!(
                    "workload `{}` not found; looked for {}",
                    raw.workload.get_ref(),
                    list.join(", ")
                ),
            );
            return Err(ConfigErrors(p.errors));
        }
    };

    let backends = backend_list(&mut p, raw.backends.as_ref(), &BackendKind::ALL, "backends")
        .unwrap_or_else(|| vec![BackendKind::Sqlite]);
    check_backend_sql(&mut p, &workload, &backends, &raw);

    let params = merged_params(&mut p, &workload, &raw.params, "params");
    let load = load_shape(&mut p, &raw.load, DEFAULT_LOAD, "load");
    let quick = match &raw.quick {
        Some(q) => QuickProfile {
            params: merged_params(&mut p, &workload, &q.params, "quick.params"),
            load: load_shape(
                &mut p,
                &q.load,
                LoadShape {
                    clients: load.clients,
                    rate_per_s: load.rate_per_s,
                    arrivals: load.arrivals,
                    cache: load.cache,
                    pipeline: load.pipeline,
                    op_timeout: load.op_timeout,
                    ..QUICK_LOAD
                },
                "quick.load",
            ),
        },
        None => QuickProfile {
            params: workload.params.clone(),
            load: LoadShape {
                clients: load.clients,
                rate_per_s: load.rate_per_s,
                arrivals: load.arrivals,
                cache: load.cache,
                op_timeout: load.op_timeout,
                ..QUICK_LOAD
            },
        },
    };

    let op_index = |name: &str| workload.ops.iter().position(|o| o.name == name);
    let op_names: Vec<&str> = workload.ops.iter().map(|o| o.name.as_str()).collect();
    let unknown_op = |name: &str| {
        let hint = did_you_mean(name, op_names.iter().copied())
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        format!(
            "workload `{}` has no operation `{name}` (it has: {}){hint}",
            workload.name,
            op_names.join(", ")
        )
    };

    let mut mix = Vec::new();
    for (name, weight) in raw.mix.get_ref() {
        match op_index(name.get_ref()) {
            Some(i) => mix.push((i, *weight.get_ref())),
            None => p.at(name, format!("mix.{}", name.get_ref()), unknown_op(name.get_ref())),
        }
    }
    if raw.mix.get_ref().values().all(|w| *w.get_ref() == 0) {
        p.at(
            &raw.mix,
            "mix",
            "the mix needs at least one operation with a weight above 0, e.g. `[mix] recent_orders = 80`",
        );
    }

    let mut variants = Vec::new();
    let mut seen = HashSet::new();
    if raw.variant.is_empty() {
        p.whole(
            "variant",
            "a scenario needs at least one `[[variant]]` (a variant with only a name runs the base schema)",
        );
    }
    for v in &raw.variant {
        check_name(&mut p, &v.name, "variant.name", "variant");
        if !seen.insert(v.name.get_ref().clone()) {
            p.at(
                &v.name,
                "variant.name",
                format!("variant `{}` is defined twice", v.name.get_ref()),
            );
        }
        variants.push(resolve_variant(&mut p, v, &workload, &backends, &op_index, &unknown_op));
    }

    // After a misspelt mix entry, "not in the mix" would only repeat that error.
    let mix_complete = mix.len() == raw.mix.get_ref().len();
    let verdict = resolve_verdict(
        &mut p,
        raw.verdict.as_ref(),
        &variants,
        &backends,
        &mix,
        mix_complete,
        &op_index,
        &unknown_op,
    );

    let slo = raw
        .slo
        .as_ref()
        .and_then(|s| resolve_slo(&mut p, s, &op_index, &unknown_op, &mix));
    let ramp: Vec<NonZeroU32> = match &raw.load.ramp {
        Some(r) if load.rate_per_s.is_none() => {
            p.at(
                r,
                "load.ramp",
                "a ramp steps open-loop rates; set `rate` (the measured rate) too",
            );
            Vec::new()
        }
        Some(r) => {
            let steps: Vec<NonZeroU32> = r.get_ref().iter().filter_map(|&x| NonZeroU32::new(x)).collect();
            if steps.len() != r.get_ref().len() {
                p.at(r, "load.ramp", "ramp rates must be at least 1 arrival per second");
            }
            steps
        }
        None => Vec::new(),
    };
    let scenario = Scenario {
        name: raw.name.get_ref().clone(),
        question: raw.question.clone(),
        description: raw.description.clone(),
        path: source.path.clone(),
        workload,
        backends,
        seed: raw.seed.unwrap_or(DEFAULT_SEED),
        params,
        load,
        quick,
        mix,
        variants,
        verdict,
        slo,
        ramp,
        postgres_settings: raw
            .postgres
            .as_ref()
            .map(|pg| {
                pg.settings
                    .iter()
                    .map(|(k, v)| {
                        let value = match v {
                            toml::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        (k.clone(), value)
                    })
                    .collect()
            })
            .unwrap_or_default(),
    };
    if p.errors.is_empty() {
        // Generators must bind at the scenario's scale and at the quick scale.
        for params in [&scenario.params, &scenario.quick.params] {
            if let Err(e) = super::bind::bind(&scenario.workload, params) {
                p.errors.extend(e.0);
                break;
            }
        }
    }
    p.finish(scenario)
}

fn backend_list(
    p: &mut Problems,
    raw: Option<&S<Vec<S<BackendKind>>>>,
    allowed: &[BackendKind],
    field: &str,
) -> Option<Vec<BackendKind>> {
    let raw = raw?;
    let mut out = Vec::new();
    for b in raw.get_ref() {
        let kind = *b.get_ref();
        if !allowed.contains(&kind) {
            let list: Vec<&str> = allowed.iter().map(|b| b.as_str()).collect();
            p.at(
                b,
                field,
                format!(
                    "backend `{kind}` is not one of the scenario's backends ({})",
                    list.join(", ")
                ),
            );
        } else if out.contains(&kind) {
            p.at(b, field, format!("backend `{kind}` is listed twice"));
        } else {
            out.push(kind);
        }
    }
    if out.is_empty() && raw.get_ref().is_empty() {
        p.at(raw, field, "the list of backends is empty; use e.g. [\"sqlite\"]");
    }
    Some(out)
}

/// Every backend the scenario runs needs a schema and SQL for every op.
fn check_backend_sql(p: &mut Problems, w: &Workload, backends: &[BackendKind], raw: &RawScenario) {
    let at = raw
        .backends
        .as_ref()
        .map(|b| b.span())
        .unwrap_or_else(|| raw.workload.span());
    for &b in backends {
        if w.schema.get(b).is_none() {
            let e = p.source.error(
                at.clone(),
                Some("backends".into()),
                format!(
                    "workload `{}` has no schema for {b} (add `schema.{b}` or a common `schema`)",
                    w.name
                ),
            );
            p.errors.push(e);
        }
        for op in &w.ops {
            if op.steps.iter().any(|s| s.sql.get(b).is_none()) {
                let e = p.source.error(
                    at.clone(),
                    Some("backends".into()),
                    format!(
                        "operation `{}` has no SQL for {b} (add `sql.{b}` or a common `sql`)",
                        op.name
                    ),
                );
                p.errors.push(e);
            }
        }
    }
}

fn merged_params(p: &mut Problems, w: &Workload, raw: &indexmap::IndexMap<S<String>, S<f64>>, field: &str) -> Params {
    let overrides = params_map(p, raw, field);
    let mut params = w.params.clone();
    for (k, _) in raw {
        if !w.params.contains_key(k.get_ref()) {
            let hint = did_you_mean(k.get_ref(), w.params.keys().map(String::as_str))
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            let known: Vec<&str> = w.params.keys().map(String::as_str).collect();
            p.at(
                k,
                format!("{field}.{}", k.get_ref()),
                format!(
                    "workload `{}` has no parameter `{}` (it has: {}){hint}",
                    w.name,
                    k.get_ref(),
                    known.join(", ")
                ),
            );
        }
    }
    params.extend(overrides);
    params
}

/// Parses a duration such as `500ms`, `3s` or `2m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("`{text}` is not a duration ({e}); write a number and a unit, e.g. 500ms, 3s, 2m"))
}

fn load_shape(p: &mut Problems, raw: &RawLoad, defaults: LoadShape, field: &str) -> LoadShape {
    let nonzero = |p: &mut Problems, v: &Option<S<u32>>, name: &str, default: NonZeroU32| match v {
        Some(s) => NonZeroU32::new(*s.get_ref()).unwrap_or_else(|| {
            p.at(s, format!("{field}.{name}"), format!("`{name}` must be at least 1"));
            default
        }),
        None => default,
    };
    let duration = |p: &mut Problems, v: &Option<S<String>>, name: &str, default: Duration| match v {
        Some(s) => parse_duration(s.get_ref()).unwrap_or_else(|m| {
            p.at(s, format!("{field}.{name}"), m);
            default
        }),
        None => default,
    };
    let shape = LoadShape {
        clients: nonzero(p, &raw.clients, "clients", defaults.clients),
        warmup: duration(p, &raw.warmup, "warmup", defaults.warmup),
        duration: duration(p, &raw.duration, "duration", defaults.duration),
        rounds: nonzero(p, &raw.rounds, "rounds", defaults.rounds),
        rate_per_s: match &raw.rate {
            Some(r) => match NonZeroU32::new(*r.get_ref()) {
                Some(n) => Some(n),
                None => {
                    p.at(
                        r,
                        format!("{field}.rate"),
                        "`rate` (arrivals per second) must be at least 1; leave it out for a closed loop",
                    );
                    None
                }
            },
            None => defaults.rate_per_s,
        },
        arrivals: raw.arrivals.as_ref().map_or(defaults.arrivals, |a| match a.get_ref() {
            RawArrivals::Uniform => Arrivals::Uniform,
            RawArrivals::Poisson => Arrivals::Poisson,
        }),
        cache: raw.cache.as_ref().map_or(defaults.cache, |c| match c.get_ref() {
            RawCache::Warm => CachePolicy::Warm,
            RawCache::Cold => CachePolicy::Cold,
        }),
        pipeline: match &raw.pipeline {
            Some(d) if *d.get_ref() > 1 && raw.rate.is_some() => {
                p.at(
                    d,
                    format!("{field}.pipeline"),
                    "pipelined mode is a closed loop; leave out `rate` or `pipeline`",
                );
                None
            }
            Some(d) if *d.get_ref() > 1024 => {
                p.at(
                    d,
                    format!("{field}.pipeline"),
                    "at most 1024 requests in flight per connection",
                );
                None
            }
            // 1 in flight is the usual model.
            Some(d) => NonZeroU32::new(*d.get_ref()).filter(|d| d.get() > 1),
            None => defaults.pipeline,
        },
        op_timeout: match &raw.op_timeout {
            Some(t) if t.get_ref().trim() == "off" => None,
            Some(t) => match parse_duration(t.get_ref()) {
                Ok(d) if !d.is_zero() => Some(d),
                Ok(_) => {
                    p.at(
                        t,
                        format!("{field}.op_timeout"),
                        "`op_timeout` must be above 0; write `off` for no limit",
                    );
                    defaults.op_timeout
                }
                Err(m) => {
                    p.at(t, format!("{field}.op_timeout"), format!("{m}, or `off` for no limit"));
                    defaults.op_timeout
                }
            },
            None => defaults.op_timeout,
        },
    };
    if let Some(d) = &raw.duration
        && shape.duration.is_zero()
    {
        p.at(d, format!("{field}.duration"), "the measured duration must be above 0");
    }
    if shape.clients.get() > 1024
        && let Some(c) = &raw.clients
    {
        p.at(c, format!("{field}.clients"), "at most 1024 clients are supported");
    }
    shape
}

fn resolve_variant(
    p: &mut Problems,
    v: &RawVariant,
    w: &Workload,
    scenario_backends: &[BackendKind],
    op_index: &dyn Fn(&str) -> Option<usize>,
    unknown_op: &dyn Fn(&str) -> String,
) -> Variant {
    let vname = v.name.get_ref();
    let backends = backend_list(
        p,
        v.backends.as_ref(),
        scenario_backends,
        &format!("variant.{vname}.backends"),
    )
    .unwrap_or_else(|| scenario_backends.to_vec());
    let mut overrides = BTreeMap::new();
    for (op_name, o) in &v.ops {
        let field = format!("variant.{vname}.ops.{}", op_name.get_ref());
        let Some(i) = op_index(op_name.get_ref()) else {
            p.at(op_name, &field, unknown_op(op_name.get_ref()));
            continue;
        };
        let op = &w.ops[i];
        let steps = match (&o.sql, o.step.is_empty()) {
            (Some(sql), true) => {
                let positional = op.vars.iter().all(|v| v.name.starts_with('$'));
                if !positional {
                    p.at(sql, format!("{field}.sql"), format!("operation `{}` uses named vars; override it with `[[variant.ops.{}.step]]` entries that list `args`", op.name, op.name));
                    continue;
                }
                check_placeholders(
                    p,
                    sql,
                    op.vars.len(),
                    &format!("{field}.sql"),
                    "the operation's `params` lists",
                );
                vec![super::model::Step {
                    sql: sql.get_ref().clone(),
                    args: (0..op.vars.len()).collect(),
                }]
            }
            (None, false) => {
                let names: Vec<&str> = op.vars.iter().map(|v| v.name.as_str()).collect();
                o.step
                    .iter()
                    .enumerate()
                    .map(|(k, s)| resolve_step(p, s, &names, &format!("{field}.step[{k}]")))
                    .collect()
            }
            _ => {
                p.at(
                    op_name,
                    &field,
                    "an override gives either `sql` or `[[...step]]` entries (exactly one of them)",
                );
                continue;
            }
        };
        for &b in &backends {
            if steps.iter().any(|s: &super::model::Step| s.sql.get(b).is_none()) {
                p.at(
                    op_name,
                    &field,
                    format!("the override has no SQL for {b}, where this variant runs"),
                );
            }
        }
        overrides.insert(i, steps);
    }
    Variant {
        name: vname.clone(),
        description: v.description.clone(),
        setup: v.setup.as_ref().map(|s| s.get_ref().clone()).unwrap_or_default(),
        session: v.session.as_ref().map(|s| s.get_ref().clone()).unwrap_or_default(),
        backends,
        overrides,
    }
}

fn metric(m: RawMetric) -> Metric {
    match m {
        RawMetric::P50 => Metric::P50,
        RawMetric::P90 => Metric::P90,
        RawMetric::P99 => Metric::P99,
        RawMetric::P999 => Metric::P999,
        RawMetric::Max => Metric::Max,
        RawMetric::Mean => Metric::Mean,
        RawMetric::Throughput => Metric::Throughput,
        RawMetric::Storage => Metric::Storage,
        RawMetric::SetupTime => Metric::SetupTime,
        RawMetric::WalPerWrite => Metric::WalPerWrite,
    }
}

/// Parses "25%" (or "0.25") into 0.25.
pub fn parse_fraction(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let v = match t.strip_suffix('%') {
        Some(pct) => pct.trim().parse::<f64>().map(|v| v / 100.0),
        None => t.parse::<f64>(),
    };
    match v {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("`{text}` is not a percentage; write e.g. \"25%\"")),
    }
}

#[allow(clippy::too_many_arguments)]
fn resolve_verdict(
    p: &mut Problems,
    raw: Option<&RawVerdict>,
    variants: &[Variant],
    backends: &[BackendKind],
    mix: &[(usize, u32)],
    mix_complete: bool,
    op_index: &dyn Fn(&str) -> Option<usize>,
    unknown_op: &dyn Fn(&str) -> String,
) -> VerdictRule {
    // Default goal: p99 of the most heavily weighted operation.
    let heaviest = mix.iter().max_by_key(|(_, w)| *w).map(|(i, _)| *i);
    let mut rule = VerdictRule {
        baseline: 0,
        goal: Target {
            op: heaviest,
            metric: Metric::P99,
        },
        guards: Vec::new(),
        noise: crate::compare::stats::DEFAULT_NOISE,
    };
    let Some(raw) = raw else { return rule };
    if let Some(n) = &raw.noise {
        match parse_fraction(n.get_ref()) {
            Ok(f) if f > 0.0 && f < 1.0 => rule.noise = f,
            Ok(_) => p.at(
                n,
                "verdict.noise",
                format!("`{}` must be between 0% and 100%, e.g. \"5%\"", n.get_ref()),
            ),
            Err(e) => p.at(n, "verdict.noise", e),
        }
    }
    if let Some(b) = &raw.baseline {
        match variants.iter().position(|v| &v.name == b.get_ref()) {
            Some(i) => {
                rule.baseline = i;
                let missing: Vec<String> = backends
                    .iter()
                    .filter(|k| !variants[i].runs_on(**k))
                    .map(|k| k.to_string())
                    .collect();
                if !missing.is_empty() {
                    p.at(
                        b,
                        "verdict.baseline",
                        format!(
                            "the baseline must run on every backend of the scenario, but `{}` skips {}",
                            b.get_ref(),
                            missing.join(", ")
                        ),
                    );
                }
            }
            None => {
                let names: Vec<&str> = variants.iter().map(|v| v.name.as_str()).collect();
                let hint = did_you_mean(b.get_ref(), names.iter().copied())
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                p.at(
                    b,
                    "verdict.baseline",
                    format!(
                        "no variant named `{}` (variants: {}){hint}",
                        b.get_ref(),
                        names.join(", ")
                    ),
                );
            }
        }
    }
    let target_op =
        |p: &mut Problems, op: &Option<S<String>>, m: &S<RawMetric>, field: &str| -> Option<(Option<usize>, Metric)> {
            let metric = metric(*m.get_ref());
            match (op, metric.is_per_op()) {
                (Some(o), true) => match op_index(o.get_ref()) {
                    Some(i) if mix.iter().any(|(k, w)| *k == i && *w > 0) => Some((Some(i), metric)),
                    Some(_) => {
                        if mix_complete {
                            p.at(
                                o,
                                format!("{field}.op"),
                                format!("operation `{}` is not in the mix, so it is never measured", o.get_ref()),
                            );
                        }
                        None
                    }
                    None => {
                        p.at(o, format!("{field}.op"), unknown_op(o.get_ref()));
                        None
                    }
                },
                (None, true) => {
                    p.at(
                        m,
                        format!("{field}.metric"),
                        format!("`{}` is measured per operation; add `op = \"...\"`", metric.label()),
                    );
                    None
                }
                (Some(o), false) => {
                    p.at(
                        o,
                        format!("{field}.op"),
                        format!("`{}` belongs to the whole variant; remove `op`", metric.label()),
                    );
                    None
                }
                (None, false) if metric == Metric::WalPerWrite && !backends.contains(&BackendKind::Postgres) => {
                    p.at(
                        m,
                        format!("{field}.metric"),
                        "`wal_per_write` is measured on PostgreSQL only; add \"postgres\" to `backends`",
                    );
                    None
                }
                (None, false) => Some((None, metric)),
            }
        };
    if let Some(goal) = &raw.goal
        && let Some((op, metric)) = target_op(p, &goal.get_ref().op, &goal.get_ref().metric, "verdict.goal")
    {
        rule.goal = Target { op, metric };
    }
    for (i, g) in raw.guards.iter().enumerate() {
        let field = format!("verdict.guards[{i}]");
        let g = g.get_ref();
        let max = match parse_fraction(g.max_regression.get_ref()) {
            Ok(v) => v,
            Err(m) => {
                p.at(&g.max_regression, format!("{field}.max_regression"), m);
                continue;
            }
        };
        if let Some((op, metric)) = target_op(p, &g.op, &g.metric, &field) {
            rule.guards.push(Guard {
                op,
                metric,
                max_regression: max,
            });
        }
    }
    rule
}

fn resolve_slo(
    p: &mut Problems,
    raw: &super::raw::RawSlo,
    op_index: &dyn Fn(&str) -> Option<usize>,
    unknown_op: &dyn Fn(&str) -> String,
    mix: &[(usize, u32)],
) -> Option<super::model::SloSearch> {
    let op = match op_index(raw.op.get_ref()) {
        Some(i) if mix.iter().any(|(k, w)| *k == i && *w > 0) => Some(i),
        Some(_) => {
            p.at(
                &raw.op,
                "slo.op",
                format!(
                    "operation `{}` is not in the mix, so it is never measured",
                    raw.op.get_ref()
                ),
            );
            None
        }
        None => {
            p.at(&raw.op, "slo.op", unknown_op(raw.op.get_ref()));
            None
        }
    };
    let p99 = parse_duration(raw.p99.get_ref())
        .map_err(|m| p.at(&raw.p99, "slo.p99", m))
        .ok();
    let step = match &raw.step {
        Some(s) => parse_duration(s.get_ref()).map_err(|m| p.at(s, "slo.step", m)).ok(),
        None => Some(Duration::from_secs(2)),
    };
    let start_rate = raw.start_rate.as_ref().map_or(100, |r| *r.get_ref());
    let max_rate = raw.max_rate.as_ref().map_or(100_000, |r| *r.get_ref());
    if start_rate == 0 || max_rate < start_rate {
        let at = raw
            .max_rate
            .as_ref()
            .or(raw.start_rate.as_ref())
            .map_or(raw.op.span(), |r| r.span());
        let e = p.source.error(
            at,
            Some("slo".into()),
            format!("need 1 <= start_rate <= max_rate, got {start_rate} and {max_rate}"),
        );
        p.errors.push(e);
        return None;
    }
    Some(super::model::SloSearch {
        op: op?,
        p99: p99?,
        start_rate,
        max_rate,
        step: step?,
        refine: raw.refine.as_ref().map_or(5, |r| *r.get_ref()),
    })
}
