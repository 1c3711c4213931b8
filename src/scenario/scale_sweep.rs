//! `[sweep]`: the whole scenario measured at several values of one scale
//! parameter or one mix weight, e.g. `[sweep] orders = [10_000, 100_000,
//! 1_000_000]`, `[sweep] "mix.place_order" = [5, 25, 50]` or `[sweep]
//! "load.clients" = [1, 2, 8]`. Each value is
//! a complete run (its own data, rounds and verdict); the sweep's summary
//! draws each variant's goal ratio against the value and names where it
//! crosses 1 (`compare::sweep`). Unlike a variant's `sweep` (one session
//! setting, one run), this changes the data or the mix, so it cannot share
//! a run.

use super::model::OpId;
use super::raw::S;
use super::resolve_workload::Problems;
use crate::expr::Params;
use indexmap::IndexMap;

/// Most values one scenario sweep may list (each is a whole run).
pub const MAX_SCALE_SWEEP_VALUES: usize = 12;

/// What a scenario sweep varies.
#[derive(Debug, Clone, PartialEq)]
pub enum SweepKey {
    /// A scale parameter of the workload (`orders`).
    Param(String),
    /// The weight of one operation of the mix (`mix.place_order`).
    Weight { op: OpId, name: String },
    /// Concurrent clients of a closed loop (`load.clients`).
    Clients,
}

impl SweepKey {
    /// As written in the scenario: `orders` or `mix.place_order`.
    pub fn label(&self) -> String {
        match self {
            SweepKey::Param(name) => name.clone(),
            SweepKey::Weight { name, .. } => format!("mix.{name}"),
            SweepKey::Clients => "load.clients".into(),
        }
    }
}

/// A scenario's `[sweep]` (or `[quick.sweep]`).
#[derive(Debug, Clone, PartialEq)]
pub struct ScaleSweep {
    pub key: SweepKey,
    /// Ascending.
    pub values: Vec<f64>,
}

impl ScaleSweep {
    /// `params` with the swept parameter set to `value` (unchanged for a
    /// weight sweep).
    pub fn params_at(&self, params: &Params, value: f64) -> Params {
        let mut out = params.clone();
        if let SweepKey::Param(name) = &self.key {
            out.insert(name.clone(), value);
        }
        out
    }

    /// `mix` with the swept weight set to `value` (unchanged for a
    /// parameter sweep).
    pub fn mix_at(&self, mix: &[(OpId, u32)], value: f64) -> Vec<(OpId, u32)> {
        match &self.key {
            SweepKey::Weight { op, .. } => mix
                .iter()
                .map(|&(o, w)| if o == *op { (o, value as u32) } else { (o, w) })
                .collect(),
            SweepKey::Param(_) | SweepKey::Clients => mix.to_vec(),
        }
    }
}

pub(super) type RawSweep = S<IndexMap<String, Vec<toml::Value>>>;

/// Checks a `[sweep]` table against the workload's parameters and the mix.
pub(super) fn resolve(
    p: &mut Problems,
    raw: &RawSweep,
    field: &str,
    params: &Params,
    mix: &[(OpId, u32)],
    op_name: &dyn Fn(OpId) -> String,
    load: &super::LoadShape,
) -> Option<ScaleSweep> {
    let entries = raw.get_ref();
    let Some((key, values)) = entries.iter().next().filter(|_| entries.len() == 1) else {
        p.at(
            raw,
            field,
            "a sweep names one scale parameter or mix weight and its values, e.g. `[sweep] orders = [10000, 100000]` \
             or `[sweep] \"mix.place_order\" = [5, 25, 50]`",
        );
        return None;
    };
    let field = format!("{field}.{key}");
    let key = if key == "load.clients" {
        if !load.groups.is_empty() || load.model.is_open() {
            p.at(
                raw,
                &field,
                "`load.clients` is swept for a closed loop without `[load.groups]`; an open loop sweeps its rate",
            );
            return None;
        }
        SweepKey::Clients
    } else if let Some(op) = key.strip_prefix("mix.") {
        let found = mix.iter().find(|(o, _)| op_name(*o) == op);
        match found {
            Some(&(o, _)) => SweepKey::Weight {
                op: o,
                name: op.to_string(),
            },
            None => {
                let names: Vec<String> = mix.iter().map(|(o, _)| op_name(*o)).collect();
                p.at(
                    raw,
                    &field,
                    format!("`{op}` is not in the mix (it has: {})", names.join(", ")),
                );
                return None;
            }
        }
    } else if params.contains_key(key) {
        SweepKey::Param(key.clone())
    } else {
        let known: Vec<&str> = params.keys().map(String::as_str).collect();
        p.at(
            raw,
            &field,
            format!(
                "`{key}` is not a scale parameter of the workload (it has: {}), `mix.OPERATION` or `load.clients`",
                known.join(", ")
            ),
        );
        return None;
    };
    let mut numbers = Vec::new();
    for v in values {
        let n = match v {
            toml::Value::Integer(i) => Some(*i as f64),
            toml::Value::Float(f) if f.is_finite() => Some(*f),
            _ => None,
        };
        let least = match key {
            SweepKey::Weight { .. } => Some((0.0, "a weight: weights are whole numbers from 0")),
            SweepKey::Clients => Some((1.0, "a number of clients: whole numbers from 1")),
            SweepKey::Param(_) => None,
        };
        match (n, least) {
            (Some(n), Some((lo, what))) if n < lo || n.fract() != 0.0 || n > f64::from(u32::MAX) => {
                p.at(raw, &field, format!("{v} is not {what}"));
                return None;
            }
            (Some(n), _) => numbers.push(n),
            (None, _) => {
                p.at(raw, &field, format!("{v} is not a number"));
                return None;
            }
        }
    }
    if numbers.len() < 2 || numbers.len() > MAX_SCALE_SWEEP_VALUES {
        p.at(
            raw,
            &field,
            format!(
                "a sweep lists 2 to {MAX_SCALE_SWEEP_VALUES} values (each is a whole run); this lists {}",
                numbers.len()
            ),
        );
        return None;
    }
    if numbers.windows(2).any(|w| w[0] >= w[1]) {
        p.at(raw, &field, "list the values in ascending order, each once");
        return None;
    }
    Some(ScaleSweep { key, values: numbers })
}
