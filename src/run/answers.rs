//! The answer check: before anything is timed, every read operation in the mix
//! runs on a sample of parameters in every variant, and each variant's rows
//! are compared with the baseline's. A design that returns different answers
//! (a wrong denormalisation, a lossy index trick) must not win on speed.
//!
//! After the measured rounds the check runs again on fresh copies that have
//! all received the same seeded sequence of write operations, one client,
//! so a design that is right only until the first write (a summary table
//! without its trigger) is caught too.

use super::plan::{Mix, RunPlan, Target};
use crate::backend::{BackendError, BackendKind, Engine};
use crate::datagen::{Value, mix64};
use crate::scenario::{AnswerCheck, OpKind};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::sync::atomic::AtomicBool;

/// Parameter samples per read operation.
pub const ANSWER_SAMPLES: u64 = 20;

/// Write operations applied to every variant before the second check.
pub const WRITES_BEFORE_RECHECK: u64 = 200;

/// When answers were compared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckPhase {
    /// On the freshly set-up copies, before any timing.
    #[default]
    BeforeWrites,
    /// After the same seeded writes were applied to fresh copies.
    AfterWrites,
}

impl CheckPhase {
    pub fn label(self) -> &'static str {
        match self {
            CheckPhase::BeforeWrites => "before writes",
            CheckPhase::AfterWrites => "after writes",
        }
    }
}

/// A variant whose answer differed from the baseline's.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Mismatch {
    pub backend: BackendKind,
    pub op: String,
    pub variant: String,
    pub baseline: String,
    /// The parameters of the first differing sample.
    pub params: String,
    /// How many of the samples differed.
    pub differing_samples: u64,
    pub samples: u64,
    /// What differed in the first differing sample.
    pub detail: String,
    #[serde(default)]
    pub phase: CheckPhase,
}

/// Outcome of the answer check on one backend.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AnswerReport {
    /// Operations whose answers were compared.
    pub checked_ops: Vec<String>,
    /// Read operations marked `check = "none"`: reported as not checked.
    #[serde(default)]
    pub unchecked_ops: Vec<String>,
    /// Similarity searches (`[op.neighbours]`): judged by recall@k against
    /// exact neighbours instead of row by row.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recall_ops: Vec<String>,
    pub samples_per_op: u64,
    /// Writes applied to every variant before the second check (0: the mix
    /// has no writes, or the run stopped before it).
    #[serde(default)]
    pub writes_applied: u64,
    pub mismatches: Vec<Mismatch>,
}

/// Compares every target on `backend` against `baseline`; stops between
/// samples when `stop` is set (the report then holds what was compared).
pub fn check_answers(
    engine: &dyn Engine,
    plan: &RunPlan,
    backend: BackendKind,
    baseline: &Target,
    stop: &AtomicBool,
) -> Result<AnswerReport, BackendError> {
    let mut report = AnswerReport {
        samples_per_op: ANSWER_SAMPLES,
        ..AnswerReport::default()
    };
    let targets: Vec<&Target> = plan.targets_on(backend).collect();
    let mut sessions = open_sessions(engine, plan, &targets)?;
    let base_index = targets.iter().position(|t| t.name == baseline.name).unwrap_or(0);
    for op in plan.mix.ops() {
        let def = &plan.scenario.workload.ops[op];
        if def.kind != OpKind::Read {
            continue;
        }
        if def.check == AnswerCheck::None {
            report.unchecked_ops.push(def.name.clone());
            continue;
        }
        // Similarity searches are judged by recall against exact neighbours
        // (run/recall.rs): exact variants may order ties differently, and
        // approximate ones may miss neighbours by design.
        if def.neighbours.is_some() {
            report.recall_ops.push(def.name.clone());
            continue;
        }
        report.checked_ops.push(def.name.clone());
        let mut rng = ChaCha8Rng::seed_from_u64(mix64(plan.seed ^ mix64(0x616e_7377 ^ op.0 as u64)));
        let mut found: Vec<Option<Mismatch>> = vec![None; targets.len()];
        for n in 0..ANSWER_SAMPLES {
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                break;
            }
            let params = plan.sample_params(op, &mut rng, n);
            let answers: Vec<Result<Vec<Vec<Value>>, String>> = sessions
                .iter_mut()
                .zip(&targets)
                .map(|(s, t)| {
                    s.fetch(&t.ops[op], &params)
                        .map(|rows| normalise(rows, def.check))
                        .map_err(|e| e.to_string())
                })
                .collect();
            for (i, answer) in answers.iter().enumerate() {
                if i == base_index {
                    continue;
                }
                let Some(detail) = difference(&answers[base_index], answer) else {
                    continue;
                };
                let m = found[i].get_or_insert_with(|| Mismatch {
                    backend,
                    op: def.name.clone(),
                    variant: targets[i].name.clone(),
                    baseline: targets[base_index].name.clone(),
                    params: params.iter().map(Value::brief).collect::<Vec<_>>().join(", "),
                    differing_samples: 0,
                    samples: ANSWER_SAMPLES,
                    detail,
                    phase: CheckPhase::BeforeWrites,
                });
                m.differing_samples += 1;
            }
        }
        report.mismatches.extend(found.into_iter().flatten());
    }
    Ok(report)
}

/// The second check: fresh copies of every variant on `backend` receive the
/// same [`WRITES_BEFORE_RECHECK`] writes drawn from the mix's write
/// operations (seeded, one client, in the same order everywhere), then the
/// reads are compared again. A write that fails on a variant but not on the
/// baseline is a difference too. Returns `None` when the mix has no writes.
pub fn check_after_writes(
    engine: &mut dyn Engine,
    plan: &RunPlan,
    backend: BackendKind,
    baseline: &Target,
    stop: &AtomicBool,
) -> Result<Option<AnswerReport>, BackendError> {
    let writes: Vec<_> = plan
        .scenario
        .mix
        .iter()
        .copied()
        .filter(|(op, w)| *w > 0 && plan.scenario.workload.ops[*op].kind == OpKind::Write)
        .collect();
    if writes.is_empty() {
        return Ok(None);
    }
    let targets: Vec<&Target> = plan.targets_on(backend).collect();
    for t in &targets {
        engine.create_variant_from(&t.name, &t.base, &t.setup)?;
    }
    let base_index = targets.iter().position(|t| t.name == baseline.name).unwrap_or(0);
    let mut first_failure: Vec<Option<(String, String)>> = vec![None; targets.len()];
    {
        let mut sessions = open_sessions(&*engine, plan, &targets)?;
        let mix = Mix::new(&writes);
        let mut rng = ChaCha8Rng::seed_from_u64(mix64(plan.seed ^ 0x7772_6974_6573));
        for n in 0..WRITES_BEFORE_RECHECK {
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                return Ok(None);
            }
            let op = mix.pick(&mut rng);
            let params = plan.sample_params(op, &mut rng, n);
            for (i, (s, t)) in sessions.iter_mut().zip(&targets).enumerate() {
                if let Err(e) = s.execute(&t.ops[op], &params)
                    && first_failure[i].is_none()
                {
                    let name = plan.scenario.workload.ops[op].name.clone();
                    first_failure[i] = Some((name, e.to_string()));
                }
            }
        }
    }
    let mut report = check_answers(engine, plan, backend, baseline, stop)?;
    report.writes_applied = WRITES_BEFORE_RECHECK;
    for m in &mut report.mismatches {
        m.phase = CheckPhase::AfterWrites;
    }
    for (i, failure) in first_failure.iter().enumerate() {
        if i == base_index || first_failure[base_index].is_some() {
            continue;
        }
        if let Some((op, error)) = failure {
            report.mismatches.push(Mismatch {
                backend,
                op: op.clone(),
                variant: targets[i].name.clone(),
                baseline: targets[base_index].name.clone(),
                params: String::new(),
                differing_samples: 1,
                samples: WRITES_BEFORE_RECHECK,
                detail: format!("a write failed here but not on the baseline: {error}"),
                phase: CheckPhase::AfterWrites,
            });
        }
    }
    Ok(Some(report))
}

/// One session per target, in order.
fn open_sessions(
    engine: &dyn Engine,
    plan: &RunPlan,
    targets: &[&Target],
) -> Result<Vec<Box<dyn crate::backend::Session>>, BackendError> {
    targets
        .iter()
        .map(|t| engine.open_session(&t.name, &t.session_options(plan)))
        .collect()
}

fn normalise(mut rows: Vec<Vec<Value>>, check: AnswerCheck) -> Vec<Vec<Value>> {
    if check == AnswerCheck::Unordered {
        rows.sort_by(|a, b| compare_rows(a, b));
    }
    rows
}

fn compare_rows(a: &[Value], b: &[Value]) -> Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.to_string().cmp(&y.to_string()))
        .find(|o| o.is_ne())
        .unwrap_or(a.len().cmp(&b.len()))
}

/// Values equal up to float rounding (sums may be added in a different order
/// under different plans).
fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
        (Value::Float(x), Value::Int(i)) | (Value::Int(i), Value::Float(x)) => {
            (x - *i as f64).abs() <= 1e-9 * x.abs().max(1.0)
        }
        _ => a == b,
    }
}

/// Describes how `actual` differs from `expected`, or `None` if it does not.
fn difference(expected: &Result<Vec<Vec<Value>>, String>, actual: &Result<Vec<Vec<Value>>, String>) -> Option<String> {
    match (expected, actual) {
        (Ok(e), Ok(a)) => {
            if e.len() != a.len() {
                return Some(format!("{} rows instead of {}", a.len(), e.len()));
            }
            let (i, (er, ar)) = e.iter().zip(a).enumerate().find(|(_, (er, ar))| {
                er.len() != ar.len() || er.iter().zip(ar.iter()).any(|(x, y)| !same_value(x, y))
            })?;
            let show = |r: &[Value]| r.iter().map(Value::to_string).collect::<Vec<_>>().join(", ");
            Some(format!("row {}: ({}) instead of ({})", i + 1, show(ar), show(er)))
        }
        (Ok(_), Err(a)) => Some(format!("failed: {a}")),
        (Err(e), Ok(_)) => Some(format!("succeeded where the baseline failed ({e})")),
        (Err(_), Err(_)) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_ignore_row_order_only_when_unordered_and_tolerate_float_rounding() {
        let rows = |v: &[i64]| {
            v.iter()
                .map(|&i| vec![Value::Int(i), Value::Float(0.1 + 0.2)])
                .collect::<Vec<_>>()
        };
        let a = Ok(normalise(rows(&[1, 2, 3]), AnswerCheck::Unordered));
        let b = Ok(normalise(rows(&[3, 1, 2]), AnswerCheck::Unordered));
        assert_eq!(difference(&a, &b), None);
        let a = Ok(normalise(rows(&[1, 2, 3]), AnswerCheck::Ordered));
        let b = Ok(normalise(rows(&[3, 1, 2]), AnswerCheck::Ordered));
        assert_eq!(
            difference(&a, &b).as_deref(),
            Some("row 1: (3, 0.30000000000000004) instead of (1, 0.30000000000000004)")
        );
        let c = Ok(vec![vec![Value::Int(1), Value::Float(0.3)]]);
        let d = Ok(vec![vec![Value::Int(1), Value::Float(0.1 + 0.2)]]);
        assert_eq!(difference(&c, &d), None);
        assert_eq!(difference(&c, &Ok(vec![])).as_deref(), Some("0 rows instead of 1"));
        assert!(difference(&c, &Err("boom".into())).unwrap().contains("boom"));
    }
}
