//! Recall of similarity searches during a run. Before each round's window
//! (on the round's fresh copy, before any write), every operation with
//! `[op.neighbours]` runs its round's query set — the same queries on every
//! variant of the round, drawn from the operation's own parameters — and
//! each answer's recall@k is computed against exact neighbours the harness
//! found ([`super::neighbours`]). A variant not declared `approximate` must
//! find every neighbour; one that misses is a mismatch, as a wrong answer is.

use super::answers::{CheckPhase, Mismatch};
use super::neighbours::{Dataset, default_cache};
use super::plan::{RunPlan, Target};
use crate::backend::{BackendError, BackendKind, Engine};
use crate::datagen::{Value, mix64};
use crate::scenario::{NeighbourDecl, OpId};
use crate::vectors::{Neighbour, VectorSet};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

/// One operation's recall on one variant in one round.
#[derive(Debug, Clone, PartialEq)]
pub struct RecallRound {
    pub op: OpId,
    /// Recall of each query, in query order.
    pub per_query: Vec<f64>,
}

/// A round's queries for one operation and their exact neighbours.
struct QuerySet {
    params: Vec<Vec<Value>>,
    vectors: VectorSet,
    truth: Vec<Vec<Neighbour>>,
}

struct OpRecallPlan {
    op: OpId,
    decl: NeighbourDecl,
    dataset: Dataset,
    rounds: HashMap<u32, QuerySet>,
}

/// The similarity searches of a run's mix, with their regenerated data.
pub struct RecallCheck {
    ops: Vec<OpRecallPlan>,
}

fn backend_error(backend: BackendKind, context: String, message: String) -> BackendError {
    BackendError::Database {
        backend,
        context,
        message,
    }
}

impl RecallCheck {
    /// `None` when no operation in the mix declares `[op.neighbours]`.
    pub fn new(plan: &RunPlan, backend: BackendKind) -> Result<Option<RecallCheck>, BackendError> {
        let mut ops = Vec::new();
        for op in plan.mix.ops() {
            let Some(decl) = plan.scenario.workload.ops[op.0].neighbours.clone() else {
                continue;
            };
            let name = &plan.scenario.workload.ops[op.0].name;
            let context = format!("recall of `{name}`");
            let table = plan
                .tables()
                .iter()
                .find(|t| t.name == decl.table)
                .ok_or_else(|| backend_error(backend, context.clone(), format!("no table `{}`", decl.table)))?;
            let dataset = Dataset::regenerate(table, &decl, plan.seed)
                .map_err(|e| backend_error(backend, context.clone(), e.to_string()))?;
            ops.push(OpRecallPlan {
                op,
                decl,
                dataset,
                rounds: HashMap::new(),
            });
        }
        Ok((!ops.is_empty()).then_some(RecallCheck { ops }))
    }

    /// The operations judged by recall (their answers are not compared row
    /// by row).
    pub fn ops(&self) -> impl Iterator<Item = OpId> + '_ {
        self.ops.iter().map(|o| o.op)
    }

    /// Runs round `round`'s queries on `target` and returns each
    /// operation's recall, with a mismatch for each operation on which a
    /// variant not declared approximate missed a neighbour.
    pub fn measure(
        &mut self,
        engine: &dyn Engine,
        plan: &RunPlan,
        target: &Target,
        baseline: &str,
        round: u32,
        stop: &AtomicBool,
    ) -> Result<(Vec<RecallRound>, Vec<Mismatch>), BackendError> {
        let mut session = engine.open_session(&target.name, &target.session_options(plan))?;
        let variant_approximate = plan.scenario.variants[target.variant.0].approximate;
        let (mut out, mut mismatches) = (Vec::new(), Vec::new());
        for o in &mut self.ops {
            let set = o
                .rounds
                .entry(round)
                .or_insert_with(|| query_set(plan, o.op, &o.decl, &o.dataset, round));
            let mut answers = Vec::with_capacity(set.params.len());
            let mut failure = None;
            for params in &set.params {
                if stop.load(Ordering::Relaxed) {
                    return Ok((out, mismatches));
                }
                match session.fetch(&target.ops[o.op.0], params) {
                    Ok(rows) => answers.push(
                        rows.iter()
                            .filter_map(|r| match r.first() {
                                Some(Value::Int(k)) => Some(*k),
                                _ => None,
                            })
                            .collect::<Vec<i64>>(),
                    ),
                    Err(e) => {
                        failure.get_or_insert_with(|| e.to_string());
                        answers.push(Vec::new());
                    }
                }
            }
            let per_query = o.dataset.recall(&o.decl, &set.vectors, &set.truth, &answers);
            let missed: Vec<usize> = (0..per_query.len()).filter(|&q| per_query[q] < 1.0).collect();
            if !(variant_approximate || o.decl.approximate)
                && let Some(&first) = missed.first()
            {
                let name = &plan.scenario.workload.ops[o.op.0].name;
                mismatches.push(Mismatch {
                    backend: target.backend,
                    op: name.clone(),
                    variant: target.name.clone(),
                    baseline: baseline.to_string(),
                    params: set.params[first]
                        .iter()
                        .map(Value::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                    differing_samples: missed.len() as u64,
                    samples: per_query.len() as u64,
                    detail: match &failure {
                        Some(e) => format!("a similarity search failed: {e}"),
                        None => format!(
                            "round {}: recall@{} {:.3} on this query: it missed true neighbours; declare the \
                             variant `approximate = true` if it may",
                            round + 1,
                            o.decl.k,
                            per_query[first]
                        ),
                    },
                    phase: CheckPhase::BeforeWrites,
                });
            }
            out.push(RecallRound { op: o.op, per_query });
        }
        Ok((out, mismatches))
    }
}

/// Round `round`'s queries for an operation: drawn from its parameters with
/// a seed of the run, the operation and the round.
fn query_set(plan: &RunPlan, op: OpId, decl: &NeighbourDecl, dataset: &Dataset, round: u32) -> QuerySet {
    let mut rng = ChaCha8Rng::seed_from_u64(mix64(
        plan.seed ^ mix64(0x7265_6361_6c6c ^ ((op.0 as u64) << 20) ^ round as u64),
    ));
    let params: Vec<Vec<Value>> = (0..decl.queries as u64)
        .map(|n| plan.sample_params(op, &mut rng, n))
        .collect();
    let mut vectors = VectorSet::new(dataset.vectors.dim);
    for p in &params {
        match &p[decl.query] {
            Value::Vector(v) if v.len() == vectors.dim => vectors.push(v),
            // A query of another dimension finds nothing: recall 0.
            _ => vectors.push(&vec![f32::NAN; vectors.dim]),
        }
    }
    let filters: Option<Vec<Value>> = decl
        .filter
        .as_ref()
        .map(|(_, var)| params.iter().map(|p| p[*var].clone()).collect());
    let truth = dataset.ground_truth(decl, &vectors, filters.as_deref(), default_cache().as_deref());
    QuerySet { params, vectors, truth }
}
