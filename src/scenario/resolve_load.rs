//! `[load]` and `[quick.load]`: raw fields to a [`LoadShape`], with the
//! load model resolved once (closed, pipelined or open).

use super::load::{Arrivals, CachePolicy, LoadModel, LoadModelError, LoadModelParts, LoadShape};
use super::raw::{RawArrivals, RawCache, RawLoad, S};
use super::resolve_workload::Problems;
use std::num::NonZeroU32;
use std::time::Duration;
/// `[load] op_timeout` when the scenario does not say.
pub const DEFAULT_OP_TIMEOUT: Duration = Duration::from_secs(30);

/// Defaults of `[load]`, documented in docs/scenario-format.md.
pub const DEFAULT_LOAD: LoadShape = LoadShape {
    model: LoadModel::Closed {
        clients: NonZeroU32::new(4).unwrap(),
    },
    warmup: Duration::from_secs(3),
    duration: Duration::from_secs(10),
    rounds: NonZeroU32::new(3).unwrap(),
    cache: CachePolicy::Warm,
    op_timeout: Some(DEFAULT_OP_TIMEOUT),
    groups: Vec::new(),
};

/// Defaults of the `--quick` smoke profile.
pub const QUICK_LOAD: LoadShape = LoadShape {
    model: LoadModel::Closed {
        clients: NonZeroU32::new(2).unwrap(),
    },
    warmup: Duration::from_millis(500),
    duration: Duration::from_secs(2),
    rounds: NonZeroU32::new(1).unwrap(),
    cache: CachePolicy::Warm,
    op_timeout: Some(DEFAULT_OP_TIMEOUT),
    groups: Vec::new(),
};

/// Parses a duration such as `500ms`, `3s` or `2m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("`{text}` is not a duration ({e}); write a number and a unit, e.g. 500ms, 3s, 2m"))
}

pub(super) fn load_shape(p: &mut Problems, raw: &RawLoad, defaults: &LoadShape, field: &str) -> LoadShape {
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
    let base = defaults.model.parts();
    let ramp = match &raw.ramp {
        Some(r) => {
            let steps: Vec<NonZeroU32> = r.get_ref().iter().filter_map(|&x| NonZeroU32::new(x)).collect();
            if steps.len() != r.get_ref().len() {
                p.at(
                    r,
                    format!("{field}.ramp"),
                    "ramp rates must be at least 1 arrival per second",
                );
            }
            steps
        }
        None => base.ramp.clone(),
    };
    let parts = LoadModelParts {
        clients: nonzero(p, &raw.clients, "clients", base.clients),
        rate: match &raw.rate {
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
            None => base.rate,
        },
        arrivals: raw.arrivals.as_ref().map_or(base.arrivals, |a| match a.get_ref() {
            RawArrivals::Uniform => Arrivals::Uniform,
            RawArrivals::Poisson => Arrivals::Poisson,
        }),
        // 1 in flight is the usual closed loop; 0 reads as 1.
        pipeline: raw.pipeline.as_ref().map_or(base.pipeline, |d| {
            NonZeroU32::new(*d.get_ref()).unwrap_or(NonZeroU32::MIN)
        }),
        ramp,
    };
    let model = LoadModel::resolve(parts.clone()).unwrap_or_else(|e| {
        // Point at the field the user can drop.
        let (name, at) = match e {
            LoadModelError::PipelineWithRate | LoadModelError::PipelineTooDeep => ("pipeline", raw.pipeline.as_ref()),
            LoadModelError::RampWithoutRate => ("ramp", None),
        };
        match (at, &raw.ramp) {
            (Some(at), _) => p.at(at, format!("{field}.{name}"), e.to_string()),
            (None, Some(r)) => p.at(r, format!("{field}.{name}"), e.to_string()),
            (None, None) => p.whole(format!("{field}.{name}"), e.to_string()),
        }
        LoadModel::Closed { clients: parts.clients }
    });
    let shape = LoadShape {
        model,
        warmup: duration(p, &raw.warmup, "warmup", defaults.warmup),
        duration: duration(p, &raw.duration, "duration", defaults.duration),
        rounds: nonzero(p, &raw.rounds, "rounds", defaults.rounds),
        cache: raw.cache.as_ref().map_or(defaults.cache, |c| match c.get_ref() {
            RawCache::Warm => CachePolicy::Warm,
            RawCache::Cold => CachePolicy::Cold,
        }),
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
        groups: defaults.groups.clone(),
    };
    if let Some(d) = &raw.duration
        && shape.duration.is_zero()
    {
        p.at(d, format!("{field}.duration"), "the measured duration must be above 0");
    }
    if shape.clients().get() > 1024
        && let Some(c) = &raw.clients
    {
        p.at(c, format!("{field}.clients"), "at most 1024 clients are supported");
    }
    shape
}
