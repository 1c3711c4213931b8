//! `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` of each step of an operation on
//! a sample parameter, inside a transaction that is always rolled back, with
//! a one-line summary of the plan and the indexes it used.

use super::db_error;
use super::value::{Out, Param};
use crate::backend::{BackendError, OpPlan, StepPlan};
use crate::datagen::Value;
use postgres::Client;
use postgres::types::ToSql;

pub fn explain(c: &mut Client, op: &OpPlan, params: &[Value]) -> Result<Vec<StepPlan>, BackendError> {
    let context = format!("EXPLAIN of `{}`", op.name);
    c.batch_execute("BEGIN").map_err(db_error(context.clone()))?;
    let mut plans = Vec::new();
    let mut result = Ok(());
    for step in &op.steps {
        let sql = format!("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {}", step.sql);
        let args: Vec<Param<'_>> = step.args.iter().map(|&a| Param(&params[a])).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = args.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        match c.query_one(&sql, &refs) {
            Ok(row) => {
                let text = match row.try_get::<_, Out>(0).map(|o| o.0) {
                    Ok(Value::Text(t)) => t,
                    _ => String::from("null"),
                };
                let json: serde_json::Value = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
                plans.push(summarise(json));
            }
            Err(e) => {
                result = Err(db_error(context.clone())(e));
                break;
            }
        }
    }
    let _ = c.batch_execute("ROLLBACK");
    result.map(|()| plans)
}

/// Summarises a JSON plan: the nodes in pre-order ("Limit → Index Scan using
/// orders_user_created on orders") and the indexes used.
pub fn summarise(json: serde_json::Value) -> StepPlan {
    let mut nodes = Vec::new();
    let mut indexes = Vec::new();
    if let Some(plan) = json.get(0).and_then(|p| p.get("Plan")) {
        walk(plan, &mut nodes, &mut indexes);
    }
    StepPlan {
        summary: nodes.join(" → "),
        indexes,
        detail: json,
    }
}

fn walk(node: &serde_json::Value, nodes: &mut Vec<String>, indexes: &mut Vec<String>) {
    let s = |k: &str| node.get(k).and_then(|v| v.as_str());
    let mut line = s("Node Type").unwrap_or("?").to_string();
    if let Some(i) = s("Index Name") {
        line.push_str(&format!(" using {i}"));
        if !indexes.iter().any(|x| x == i) {
            indexes.push(i.to_string());
        }
    }
    if let Some(r) = s("Relation Name") {
        line.push_str(&format!(" on {r}"));
    }
    nodes.push(line);
    if let Some(children) = node.get("Plans").and_then(|p| p.as_array()) {
        for child in children {
            walk(child, nodes, indexes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_summarise_to_nodes_and_indexes() {
        let json = serde_json::json!([{"Plan": {
            "Node Type": "Limit",
            "Plans": [{"Node Type": "Index Only Scan", "Index Name": "orders_user_cov", "Relation Name": "orders"}]
        }}]);
        let p = summarise(json);
        assert_eq!(p.summary, "Limit → Index Only Scan using orders_user_cov on orders");
        assert_eq!(p.indexes, ["orders_user_cov"]);
    }
}
