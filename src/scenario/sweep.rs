//! `sweep`: one variant measured at several values of a session setting,
//! e.g. `sweep = { "hnsw.ef_search" = [16, 32, 64, 128] }`. The variant
//! becomes one variant per value (`hnsw-ef_search-64`), each running
//! `SET hnsw.ef_search = 64` on every connection after its own session
//! statements; each is set up, measured and judged as any variant is, so
//! the verdict picks the cheapest value that passes the guards (a recall
//! target, say) and reports draw the family as one curve.

use super::model::Variant;
use super::raw::RawVariant;
use super::resolve_workload::{MAX_NAME_LEN, Problems};
use crate::scenario::BackendKind;
use serde::{Deserialize, Serialize};

/// Most values one sweep may list.
pub const MAX_SWEEP_VALUES: usize = 20;

/// Which sweep a variant came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SweepPoint {
    /// The variant as written, before the sweep.
    pub of: String,
    /// The session setting, e.g. `hnsw.ef_search`.
    pub setting: String,
    /// Its value here, as set.
    pub value: String,
}

/// `v` once per value of its sweep (or `v` alone without one).
pub(super) fn expand(p: &mut Problems, raw: &RawVariant, v: Variant) -> Vec<Variant> {
    let Some(sweep) = &raw.sweep else {
        return vec![v];
    };
    let field = format!("variant.{}.sweep", v.name);
    let entries = sweep.get_ref();
    let Some((setting, values)) = entries.iter().next().filter(|_| entries.len() == 1) else {
        p.at(
            sweep,
            &field,
            "a sweep names one session setting and its values, e.g. sweep = { \"hnsw.ef_search\" = [16, 32, 64] }",
        );
        return vec![v];
    };
    let ok_name = !setting.is_empty()
        && setting
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
    if !ok_name {
        p.at(
            sweep,
            &field,
            format!("`{setting}` is not a setting name (e.g. hnsw.ef_search, ivfflat.probes)"),
        );
        return vec![v];
    }
    if v.backends.contains(&BackendKind::Sqlite) {
        p.at(
            sweep,
            &field,
            "a sweep sets a PostgreSQL session setting; give the variant backends = [\"postgres\"]",
        );
        return vec![v];
    }
    if values.is_empty() || values.len() > MAX_SWEEP_VALUES {
        p.at(
            sweep,
            &field,
            format!("a sweep lists 1 to {MAX_SWEEP_VALUES} values, got {}", values.len()),
        );
        return vec![v];
    }
    let short = setting.rsplit('.').next().unwrap_or(setting);
    let mut out = Vec::new();
    for value in values {
        let Some((sql, label)) = literal(value) else {
            p.at(
                sweep,
                &field,
                format!("`{value}` is not a setting value: a number, a string or true/false"),
            );
            return vec![v];
        };
        let name = format!("{}-{short}-{label}", v.name);
        if name.len() > MAX_NAME_LEN {
            p.at(
                sweep,
                &field,
                format!(
                    "the swept variant `{name}` is longer than {MAX_NAME_LEN} characters; shorten the variant name"
                ),
            );
            return vec![v];
        }
        let statement = format!("SET {setting} = {sql}");
        let mut session = v.session.clone();
        // PostgreSQL's own statements if the variant has them, else the
        // statements for every backend.
        match (&mut session.postgres, &mut session.default) {
            (Some(list), _) | (None, Some(list)) => list.push(statement),
            (None, None) => session.postgres = Some(vec![statement]),
        }
        out.push(Variant {
            name,
            session,
            sweep: Some(SweepPoint {
                of: v.name.clone(),
                setting: setting.clone(),
                value: label.clone(),
            }),
            ..v.clone()
        });
    }
    out
}

/// A TOML value as a SQL literal, and as a label for variant names.
fn literal(value: &toml::Value) -> Option<(String, String)> {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' })
            .collect()
    };
    match value {
        toml::Value::Integer(i) => Some((i.to_string(), clean(&i.to_string()))),
        toml::Value::Float(f) if f.is_finite() => Some((f.to_string(), clean(&f.to_string()))),
        toml::Value::Boolean(b) => {
            let word = if *b { "on" } else { "off" };
            Some((word.to_string(), word.to_string()))
        }
        toml::Value::String(s) if !s.is_empty() => Some((format!("'{}'", s.replace('\'', "''")), clean(s))),
        _ => None,
    }
}
