//! Summaries of `EXPLAIN (FORMAT JSON)` plans: the nodes in pre-order and
//! the indexes they use. The EXPLAIN itself runs on a session, through the
//! statement that session prepared (see `PgSession::explain`).

use crate::backend::QueryPlan;

/// Summarises a JSON plan: the nodes in pre-order ("Limit → Index Scan using
/// orders_user_created on orders") and the indexes used.
pub fn summarise(json: serde_json::Value) -> QueryPlan {
    let mut nodes = Vec::new();
    let mut indexes = Vec::new();
    if let Some(plan) = json.get(0).and_then(|p| p.get("Plan")) {
        walk(plan, &mut nodes, &mut indexes);
    }
    QueryPlan {
        summary: nodes.join(" → "),
        indexes,
        plan_cache: None,
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
    // A filter on an index scan ordered by the index (a nearest-neighbour
    // search) is applied to what the index hands back: an approximate index
    // returns its nearest candidates and the filter drops some of them (the
    // filtered-ANN pitfall). Said in the summary so reports show it.
    if s("Index Name").is_some()
        && node.get("Order By").is_some()
        && let Some(filter) = s("Filter")
    {
        line.push_str(&format!(" [filter after the index: {filter}]"));
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

    #[test]
    fn a_filter_applied_after_an_ordered_index_scan_is_named() {
        let json = serde_json::json!([{"Plan": {
            "Node Type": "Limit",
            "Plans": [{"Node Type": "Index Scan", "Index Name": "docs_hnsw", "Relation Name": "docs",
                       "Order By": "(embedding <-> $1)", "Filter": "(category = $2)"}]
        }}]);
        assert_eq!(
            summarise(json).summary,
            "Limit → Index Scan using docs_hnsw on docs [filter after the index: (category = $2)]"
        );
    }
}
