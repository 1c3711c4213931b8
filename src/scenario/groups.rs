//! `[load.groups.NAME]`: operation groups with load models of their own,
//! e.g. ingest as an open loop at 20,000 rows/s in batches of 500 while
//! readers run closed-loop with 4 clients. Weights within a group come from
//! `[mix]`; every operation of the mix belongs to exactly one group.

use super::load::{Arrivals, LoadGroup, LoadModel, LoadModelParts, LoadShape};
use super::model::{OpId, Workload};
use super::raw::{RawArrivals, RawLoad, S};
use super::resolve_workload::Problems;
use indexmap::IndexMap;
use std::num::NonZeroU32;

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGroup {
    pub ops: S<Vec<S<String>>>,
    #[serde(default)]
    pub clients: Option<S<u32>>,
    /// Open loop: operations per second over the group's clients.
    #[serde(default)]
    pub rate: Option<S<u32>>,
    /// Open loop for batch operations: rows per second (the rate is this
    /// over the batch size).
    #[serde(default)]
    pub rows_per_s: Option<S<u32>>,
    #[serde(default)]
    pub arrivals: Option<S<RawArrivals>>,
}

pub type RawGroups = IndexMap<S<String>, RawGroup>;

/// Resolves `raw.groups` into `shape`; a `[quick.load]` without groups of
/// its own keeps those it inherited. With groups, the shape's own model is
/// a closed loop over all groups' clients.
pub(super) fn resolve(
    p: &mut Problems,
    raw: &RawLoad,
    field: &str,
    w: &Workload,
    mix: &[(OpId, u32)],
    shape: &mut LoadShape,
) {
    if raw.groups.is_empty() && shape.groups.is_empty() {
        return;
    }
    let whole: [(&str, Option<std::ops::Range<usize>>); 5] = [
        ("clients", raw.clients.as_ref().map(S::span)),
        ("rate", raw.rate.as_ref().map(S::span)),
        ("pipeline", raw.pipeline.as_ref().map(S::span)),
        ("ramp", raw.ramp.as_ref().map(S::span)),
        ("arrivals", raw.arrivals.as_ref().map(S::span)),
    ];
    for (name, span) in whole {
        if let Some(span) = span {
            p.at(
                &S::new(span, ()),
                format!("{field}.{name}"),
                format!(
                    "with `[load.groups]`, each group sets its own `clients` and `rate`; move `{name}` into a group"
                ),
            );
        }
    }
    if raw.groups.is_empty() {
        let total: u32 = shape.groups.iter().map(|g| g.model.clients().get()).sum();
        shape.model = LoadModel::Closed {
            clients: NonZeroU32::new(total).unwrap_or(NonZeroU32::MIN),
        };
        return;
    }
    if raw.groups.is_empty() {
        let total: u32 = shape.groups.iter().map(|g| g.model.clients().get()).sum();
        shape.model = LoadModel::Closed {
            clients: NonZeroU32::new(total).unwrap_or(NonZeroU32::MIN),
        };
        return;
    }
    let mut groups: Vec<LoadGroup> = Vec::new();
    let mut owner: Vec<Option<&str>> = vec![None; w.ops.len()];
    for (name, g) in &raw.groups {
        let gfield = format!("{field}.groups.{}", name.get_ref());
        super::resolve_workload::check_name(p, name, &format!("{field}.groups"), "group");
        let mut ops = Vec::new();
        for op in g.ops.get_ref() {
            let Some(id) = w.ops.iter().position(|o| o.name == *op.get_ref()) else {
                p.at(
                    op,
                    format!("{gfield}.ops"),
                    format!("workload `{}` has no operation `{}`", w.name, op.get_ref()),
                );
                continue;
            };
            if !mix.iter().any(|&(m, weight)| m.0 == id && weight > 0) {
                p.at(
                    op,
                    format!("{gfield}.ops"),
                    format!("`{}` has no weight in `[mix]`; give it one there", op.get_ref()),
                );
                continue;
            }
            if let Some(other) = owner[id].replace(name.get_ref()) {
                p.at(
                    op,
                    format!("{gfield}.ops"),
                    format!("`{}` is already in group `{other}`", op.get_ref()),
                );
                continue;
            }
            ops.push(OpId(id));
        }
        if g.ops.get_ref().is_empty() {
            p.at(
                &g.ops,
                format!("{gfield}.ops"),
                "a group lists at least one operation of the mix",
            );
        }
        let clients = match &g.clients {
            Some(c) if !(1..=1024).contains(c.get_ref()) => {
                p.at(c, format!("{gfield}.clients"), "a group has 1 to 1024 clients");
                NonZeroU32::MIN
            }
            Some(c) => NonZeroU32::new(*c.get_ref()).unwrap_or(NonZeroU32::MIN),
            None => NonZeroU32::MIN,
        };
        let batch_rows: Vec<Option<u32>> = ops.iter().map(|&o| w.ops[o].batch.as_ref().map(|b| b.rows)).collect();
        let rows_per_op = match batch_rows.first() {
            Some(&Some(r)) if batch_rows.iter().all(|&b| b == Some(r)) => Some(r),
            _ => None,
        };
        let rate = match (&g.rate, &g.rows_per_s) {
            (Some(r), Some(_)) => {
                p.at(
                    r,
                    format!("{gfield}.rate"),
                    "give `rate` (operations/s) or `rows_per_s`, not both",
                );
                None
            }
            (Some(r), None) => NonZeroU32::new(*r.get_ref()).or_else(|| {
                p.at(
                    r,
                    format!("{gfield}.rate"),
                    "`rate` must be at least 1; leave it out for a closed loop",
                );
                None
            }),
            (None, Some(rows)) => match rows_per_op {
                Some(batch) if *rows.get_ref() >= batch => NonZeroU32::new(rows.get_ref().div_ceil(batch)),
                Some(batch) => {
                    p.at(
                        rows,
                        format!("{gfield}.rows_per_s"),
                        format!("at least one batch ({batch} rows) per second"),
                    );
                    None
                }
                None => {
                    p.at(
                        rows,
                        format!("{gfield}.rows_per_s"),
                        "`rows_per_s` paces batch operations (`batch = { table, rows }`) of one size; this group has others, use `rate`",
                    );
                    None
                }
            },
            (None, None) => None,
        };
        let arrivals = g.arrivals.as_ref().map_or(Arrivals::Uniform, |a| match a.get_ref() {
            RawArrivals::Uniform => Arrivals::Uniform,
            RawArrivals::Poisson => Arrivals::Poisson,
        });
        let model = LoadModel::resolve(LoadModelParts {
            clients,
            rate,
            pipeline: NonZeroU32::MIN,
            arrivals,
            ramp: Vec::new(),
        })
        .unwrap_or(LoadModel::Closed { clients });
        groups.push(LoadGroup {
            name: name.get_ref().clone(),
            ops: ops.iter().map(|&o| w.ops[o].name.clone()).collect(),
            model,
            rows_per_op,
        });
    }
    let orphans: Vec<&str> = mix
        .iter()
        .filter(|&&(op, weight)| weight > 0 && owner[op.0].is_none())
        .map(|&(op, _)| w.ops[op].name.as_str())
        .collect();
    if !orphans.is_empty() {
        p.whole(
            format!("{field}.groups"),
            format!(
                "every operation of the mix belongs to a group; not in any: {}",
                orphans.join(", ")
            ),
        );
    }
    let total: u32 = groups.iter().map(|g| g.model.clients().get()).sum();
    shape.model = LoadModel::Closed {
        clients: NonZeroU32::new(total).unwrap_or(NonZeroU32::MIN),
    };
    shape.groups = groups;
}
