//! Query plans as evidence: every operation in the mix is explained on every
//! variant with the same sample parameters, so a report can show which index
//! each design really used — and flag an index nobody uses.

use super::plan::{RunPlan, Target};
use crate::backend::{BackendError, Engine, QueryPlan};
use crate::datagen::{Value, mix64};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The plan of one operation on one variant.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct OpQueryPlan {
    pub op: String,
    /// The sample parameters the plan was made with.
    pub params: String,
    pub steps: Vec<QueryPlan>,
    /// Why no plan could be made, if so (the run goes on).
    pub error: Option<String>,
}

/// Most parameter values a plan shows.
const SHOWN_PARAMS: usize = 8;

impl OpQueryPlan {
    /// One line for reports: the steps' summaries.
    pub fn summary(&self) -> String {
        match &self.error {
            Some(e) => format!("no plan: {e}"),
            None => self
                .steps
                .iter()
                .map(|s| match &s.plan_cache {
                    Some(cache) => format!("{} ({cache} plan)", s.summary),
                    None => s.summary.clone(),
                })
                .collect::<Vec<_>>()
                .join(" | "),
        }
    }
}

pub fn query_plans(engine: &dyn Engine, plan: &RunPlan, target: &Target) -> Result<Vec<OpQueryPlan>, BackendError> {
    Ok(plan
        .mix
        .ops()
        .map(|op| {
            let mut rng = ChaCha8Rng::seed_from_u64(mix64(plan.seed ^ mix64(0x706c_616e ^ op.0 as u64)));
            let params = plan.sample_params(op, &mut rng, 0);
            // A batch binds thousands of values: the first few say enough.
            let mut shown = params
                .iter()
                .take(SHOWN_PARAMS)
                .map(Value::brief)
                .collect::<Vec<_>>()
                .join(", ");
            if params.len() > SHOWN_PARAMS {
                shown.push_str(&format!(", … ({} values)", params.len()));
            }
            match engine.explain(&target.name, &target.ops[op], &params, &target.session_options(plan)) {
                Ok(steps) => OpQueryPlan {
                    op: target.ops[op].name.clone(),
                    params: shown,
                    steps,
                    error: None,
                },
                Err(e) => OpQueryPlan {
                    op: target.ops[op].name.clone(),
                    params: shown,
                    steps: Vec::new(),
                    error: Some(crate::util::error_chain(&e)),
                },
            }
        })
        .collect())
}
