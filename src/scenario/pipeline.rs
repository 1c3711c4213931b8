//! Which scenarios can run pipelined: checked when a scenario is read (with
//! the position of its `pipeline` key) and again when a plan applies
//! `--pipeline` from the command line.

use super::{BackendKind, LoadModel, OpKind, Scenario, VariantId};

impl Scenario {
    /// Why this scenario cannot run in `model` when it is pipelined; `None`
    /// when it can (or `model` is not pipelined).
    pub fn pipeline_problem(&self, model: &LoadModel) -> Option<String> {
        if !matches!(model, LoadModel::Pipelined { .. }) {
            return None;
        }
        if let Some(b) = self.backends.iter().find(|b| **b != BackendKind::Postgres) {
            return Some(format!(
                "only PostgreSQL sessions can pipeline; this scenario also runs on {b} (set `backends = [\"postgres\"]`)"
            ));
        }
        for &(oi, weight) in &self.mix {
            let op = &self.workload.ops[oi];
            if weight == 0 {
                continue;
            }
            if op.kind != OpKind::Read || op.transaction {
                return Some(format!(
                    "operation `{}` is not a read outside a transaction; only reads can be pipelined",
                    op.name
                ));
            }
            for vi in (0..self.variants.len()).map(VariantId) {
                if self.steps_for(vi, oi).len() != 1 {
                    return Some(format!(
                        "operation `{}` has several statements in variant `{}`; only single statements can be pipelined",
                        op.name, self.variants[vi].name
                    ));
                }
            }
        }
        None
    }
}
