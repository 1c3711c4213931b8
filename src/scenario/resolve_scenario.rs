//! Scenario files: raw structs to a validated [`Scenario`], including every
//! cross-check (mix, variants, backends, verdict, parameters).

use super::BackendKind;
use super::diag::{ConfigErrors, Source, SourceRef};
use super::load::LoadShape;
use super::model::{OpId, QuickProfile, Scenario, Variant, Workload};
use super::raw::{RawScenario, RawVariant, S};
use super::resolve_load::{DEFAULT_LOAD, QUICK_LOAD, load_shape};
use super::resolve_verdict::{resolve_evidence, resolve_slo, resolve_verdict};
use super::resolve_workload::{Problems, check_name, check_placeholders, params_map, resolve_step};
use crate::expr::Params;
use crate::suggest::did_you_mean;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

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
    if let Some(pg) = &raw.postgres {
        for key in pg.settings.keys() {
            let name = key.get_ref();
            if let Some(why) = crate::provision::local::refused_setting(name) {
                p.at(
                    key,
                    format!("postgres.settings.{name}"),
                    format!("`{name}` cannot be set on clusters schemabench starts: {why}"),
                );
            }
        }
    }

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
    let mut load = load_shape(&mut p, &raw.load, &DEFAULT_LOAD, "load");

    let op_index = |name: &str| workload.ops.iter().position(|o| o.name == name).map(OpId);
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
    super::groups::resolve(&mut p, &raw.load, "load", &workload, &mix, &mut load);
    // The smoke profile keeps the scenario's load model, groups and limits,
    // with short phases and one round unless `[quick.load]` says otherwise.
    let quick_defaults = LoadShape {
        model: load.model.clone(),
        cache: load.cache,
        op_timeout: load.op_timeout,
        groups: load.groups.clone(),
        ..QUICK_LOAD
    };
    let op_name = |o: OpId| workload.ops[o.0].name.clone();
    let sweep = raw
        .sweep
        .as_ref()
        .and_then(|s| super::scale_sweep::resolve(&mut p, s, "sweep", &params, &mix, &op_name, &load));
    let quick = match &raw.quick {
        Some(q) => {
            let mut quick_load = load_shape(&mut p, &q.load, &quick_defaults, "quick.load");
            super::groups::resolve(&mut p, &q.load, "quick.load", &workload, &mix, &mut quick_load);
            let params = merged_params(&mut p, &workload, &q.params, "quick.params");
            let quick_sweep = match &q.sweep {
                Some(s) => super::scale_sweep::resolve(&mut p, s, "quick.sweep", &params, &mix, &op_name, &quick_load),
                None => sweep.clone(),
            };
            QuickProfile {
                params,
                load: quick_load,
                sweep: quick_sweep,
            }
        }
        None => QuickProfile {
            params: workload.params.clone(),
            load: quick_defaults,
            sweep: sweep.clone(),
        },
    };
    if let (Some(s), false) = (&raw.slo, load.groups.is_empty()) {
        p.at(
            &s.op,
            "slo.op",
            "an SLO search probes one load model; a scenario with `[load.groups]` cannot have one",
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
        let resolved = resolve_variant(&mut p, v, &workload, &backends, &op_index, &unknown_op);
        for variant in super::sweep::expand(&mut p, v, resolved) {
            if !seen.insert(variant.name.clone()) {
                p.at(
                    &v.name,
                    "variant.name",
                    format!("variant `{}` is defined twice", variant.name),
                );
            }
            variants.push(variant);
        }
    }

    // After a misspelt mix entry, "not in the mix" would only repeat that error.
    let mix_complete = mix.len() == raw.mix.get_ref().len();
    let evidence = resolve_evidence(&mut p, &raw.evidence, &backends);
    // Similarity searches: the operations recall is measured for.
    let searches: Vec<OpId> = workload
        .ops
        .iter()
        .enumerate()
        .filter(|(_, o)| o.neighbours.is_some())
        .map(|(i, _)| OpId(i))
        .collect();
    let verdict = resolve_verdict(
        &mut p,
        raw.verdict.as_ref(),
        &variants,
        &backends,
        &mix,
        mix_complete,
        &op_index,
        &unknown_op,
        &evidence,
        &searches,
    );

    let slo = raw
        .slo
        .as_ref()
        .and_then(|s| resolve_slo(&mut p, s, &op_index, &unknown_op, &mix));
    let scenario = Scenario {
        name: raw.name.get_ref().clone(),
        question: raw.question.clone(),
        rule: raw.rule.clone(),
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
        evidence,
        sweep,
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
                        (k.get_ref().clone(), value)
                    })
                    .collect()
            })
            .unwrap_or_default(),
    };
    if let (Some(at), Some(why)) = (
        raw.load.pipeline.as_ref(),
        scenario.pipeline_problem(&scenario.load.model),
    ) {
        p.at(at, "load.pipeline", format!("pipelined mode: {why}"));
    }
    if p.errors.is_empty() {
        // Generators must bind at the scenario's scale and at the quick
        // scale, at every value each sweeps.
        let quick_sweep = raw.quick.as_ref().and_then(|q| q.sweep.as_ref());
        let profiles = [
            (&scenario.params, scenario.sweep.as_ref(), raw.sweep.as_ref(), "sweep"),
            (
                &scenario.quick.params,
                scenario.quick.sweep.as_ref(),
                quick_sweep.or(raw.sweep.as_ref()),
                if quick_sweep.is_some() { "quick.sweep" } else { "sweep" },
            ),
        ];
        'bind: for (params, sweep, at, field) in profiles {
            let points: Vec<(Option<f64>, crate::expr::Params)> = match sweep {
                Some(s) => s.values.iter().map(|&v| (Some(v), s.params_at(params, v))).collect(),
                None => vec![(None, params.clone())],
            };
            for (value, params) in &points {
                if let Err(e) = super::bind::bind(&scenario.workload, params) {
                    if let (Some(v), Some(at), Some(s)) = (value, at, sweep) {
                        let key = s.key.label();
                        p.at(
                            at,
                            format!("{field}.{key}"),
                            format!("at {key} = {v} the workload's generators fail (below)"),
                        );
                    }
                    p.errors.extend(e.0);
                    break 'bind;
                }
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

fn resolve_variant(
    p: &mut Problems,
    v: &RawVariant,
    w: &Workload,
    scenario_backends: &[BackendKind],
    op_index: &dyn Fn(&str) -> Option<OpId>,
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
    let base = resolve_variant_base(p, v, w, &backends);
    Variant {
        name: vname.clone(),
        description: v.description.clone(),
        setup: v.setup.as_ref().map(|s| s.get_ref().clone()).unwrap_or_default(),
        session: v.session.as_ref().map(|s| s.get_ref().clone()).unwrap_or_default(),
        backends,
        overrides,
        approximate: v.approximate,
        sweep: None,
        base,
    }
}

/// A variant's own schema and partitions, if it has them.
fn resolve_variant_base(
    p: &mut Problems,
    v: &RawVariant,
    w: &Workload,
    backends: &[BackendKind],
) -> Option<super::model::VariantBase> {
    let vname = v.name.get_ref();
    let partitions = v.partitions.as_ref().and_then(|raw| {
        let field = format!("variant.{vname}.partitions");
        if backends.contains(&BackendKind::Sqlite) {
            p.at(
                raw,
                &field,
                "partitions are PostgreSQL's declarative partitioning; give the variant backends = [\"postgres\"]",
            );
            return None;
        }
        let r = raw.get_ref();
        let table = super::resolve_workload::generated_table(p, &w.tables, &r.table, &format!("{field}.table"))?;
        if !table.columns.iter().any(|c| c.name == *r.column.get_ref()) {
            p.at(
                &r.column,
                format!("{field}.column"),
                format!(
                    "table `{}` has no generated column `{}`",
                    table.name,
                    r.column.get_ref()
                ),
            );
            return None;
        }
        match super::parse_duration(r.every.get_ref()) {
            Ok(every) if every >= std::time::Duration::from_secs(1) => Some(super::model::PartitionDecl {
                table: table.name.clone(),
                column: r.column.get_ref().clone(),
                every,
            }),
            Ok(_) => {
                p.at(
                    &r.every,
                    format!("{field}.every"),
                    "partitions are at least 1 second wide",
                );
                None
            }
            Err(m) => {
                p.at(&r.every, format!("{field}.every"), m);
                None
            }
        }
    });
    if v.schema.is_none() && v.after_load.is_none() && partitions.is_none() {
        return None;
    }
    Some(super::model::VariantBase {
        schema: v.schema.as_ref().map(|s| s.get_ref().clone()).unwrap_or_default(),
        after_load: v.after_load.as_ref().map(|s| s.get_ref().clone()),
        partitions,
    })
}
