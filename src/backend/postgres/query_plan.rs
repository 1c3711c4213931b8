//! Summaries of `EXPLAIN (FORMAT JSON)` plans: the nodes in pre-order and
//! the indexes they use. The EXPLAIN itself runs on a session, through the
//! statement that session prepared (see `PgSession::explain`).

use crate::backend::QueryPlan;

/// Summarises a JSON plan: the nodes in pre-order ("Limit → Index Scan using
/// orders_user_created on orders") and the indexes used.
pub fn summarise(json: serde_json::Value) -> QueryPlan {
    let mut nodes = Vec::new();
    let mut indexes = Vec::new();
    let mut relations = Vec::new();
    if let Some(plan) = json.get(0).and_then(|p| p.get("Plan")) {
        walk(plan, &mut nodes, &mut indexes, &mut relations);
    }
    let mut summary = collapse(&nodes).join(" → ");
    if relations.len() > 1 {
        summary.push_str(&format!(" ({} relations scanned)", relations.len()));
    }
    QueryPlan {
        summary,
        indexes,
        relations,
        plan_cache: None,
        detail: json,
    }
}

/// Runs of three or more scans of the same kind (an Append over
/// partitions or chunks) as one entry: "Seq Scan on m_p0 … m_p29 (×30)".
fn collapse(nodes: &[(String, String)]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < nodes.len() {
        let kind = &nodes[i].1;
        let run = nodes[i..]
            .iter()
            .take_while(|(_, k)| k == kind && !k.is_empty())
            .count();
        if run >= 3 {
            out.push(format!(
                "{} … {} (×{run})",
                nodes[i].0,
                nodes[i + run - 1].0.rsplit(" on ").next().unwrap_or("")
            ));
            i += run;
        } else {
            out.push(nodes[i].0.clone());
            i += 1;
        }
    }
    out
}

/// Appends `node` and its children in pre-order as (line, scan kind): the
/// kind is the node type for scans of a relation, empty otherwise.
fn walk(
    node: &serde_json::Value,
    nodes: &mut Vec<(String, String)>,
    indexes: &mut Vec<String>,
    relations: &mut Vec<String>,
) {
    let s = |k: &str| node.get(k).and_then(|v| v.as_str());
    let mut line = s("Node Type").unwrap_or("?").to_string();
    if let Some(provider) = s("Custom Plan Provider") {
        line.push_str(&format!(" ({provider})"));
    }
    if let Some(i) = s("Index Name") {
        line.push_str(&format!(" using {i}"));
        if !indexes.iter().any(|x| x == i) {
            indexes.push(i.to_string());
        }
    }
    let mut kind = String::new();
    if let Some(r) = s("Relation Name") {
        line.push_str(&format!(" on {r}"));
        // A scan that reads the relation itself; not a parent node over its
        // partitions or chunks (TimescaleDB's ChunkAppend names the
        // hypertable) and not a write.
        let leaf = node.get("Plans").is_none() || s("Node Type") == Some("Bitmap Heap Scan");
        if leaf && s("Node Type").is_some_and(|t| t.ends_with("Scan") && t != "Custom Scan") {
            kind = s("Node Type").unwrap_or("?").to_string();
            if !relations.iter().any(|x| x == r) {
                relations.push(r.to_string());
            }
        }
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
    nodes.push((line, kind));
    if let Some(children) = node.get("Plans").and_then(|p| p.as_array()) {
        for child in children {
            walk(child, nodes, indexes, relations);
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
    fn scans_of_many_partitions_collapse_and_are_counted() {
        let scan = |i: usize| serde_json::json!({"Node Type": "Seq Scan", "Relation Name": format!("m_p{i}")});
        let json = serde_json::json!([{"Plan": {
            "Node Type": "Append",
            "Plans": (0..5).map(scan).collect::<Vec<_>>()
        }}]);
        let p = summarise(json);
        assert_eq!(p.summary, "Append → Seq Scan on m_p0 … m_p4 (×5) (5 relations scanned)");
        assert_eq!(p.relations.len(), 5);
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
