//! `[op.neighbours]`: declares an operation a similarity search, so its
//! answers are judged by recall@k against exact neighbours the harness
//! computes (docs/vectors.md), not by row equality.
//!
//! ```toml
//! [op.neighbours]
//! table = "docs"                 # the table searched
//! column = "embedding"           # its vector column (vector/unit_vector/vector_file)
//! id = "id"                      # its seq key, the first column of each returned row
//! distance = "l2"                # l2 (<->), inner_product (<#>) or cosine (<=>)
//! k = 10
//! query = "$1"                   # the parameter holding the query vector
//! filter = { column = "category", param = "$2" }   # WHERE column = param
//! queries = 100                  # recall queries per round
//! approximate = false            # true: every variant may miss neighbours
//! ```

use super::model::{OpDef, OpKind, TableDef, VarDef};
use super::raw::{RawNeighbours, S};
use super::resolve_workload::Problems;
use crate::vectors::Distance;

/// Recall queries per round when `queries` is not given.
pub const DEFAULT_RECALL_QUERIES: u32 = 100;

#[derive(Debug, Clone, PartialEq)]
pub struct NeighbourDecl {
    pub table: String,
    pub column: String,
    pub id: String,
    pub distance: Distance,
    pub k: usize,
    /// Index of the query vector in the operation's variables.
    pub query: usize,
    /// An equality filter: the column and the variable it must equal.
    pub filter: Option<(String, usize)>,
    /// Recall queries per round.
    pub queries: u32,
    /// Every variant's answers may miss neighbours (e.g. the operation
    /// itself asks for an approximate search); else only variants declared
    /// `approximate` may.
    pub approximate: bool,
}

/// Resolves an operation's `[op.neighbours]` against its variables and SQL.
pub(super) fn resolve(
    p: &mut Problems,
    op: &str,
    raw: &RawNeighbours,
    vars: &[VarDef],
    sql: &str,
) -> Option<NeighbourDecl> {
    let field = |f: &str| format!("op.{op}.neighbours.{f}");
    let var = |p: &mut Problems, name: &S<String>, f: &str| -> Option<usize> {
        let found = vars.iter().position(|v| v.name == *name.get_ref());
        if found.is_none() {
            let known: Vec<&str> = vars.iter().map(|v| v.name.as_str()).collect();
            p.at(
                name,
                field(f),
                format!(
                    "`{}` is not a parameter of `{op}` (it has: {})",
                    name.get_ref(),
                    known.join(", ")
                ),
            );
        }
        found
    };
    let query = match &raw.query {
        Some(q) => var(p, q, "query")?,
        None if vars.is_empty() => {
            p.at(
                &raw.k,
                field("query"),
                format!("`{op}` has no parameter to hold the query vector"),
            );
            return None;
        }
        None => 0,
    };
    let filter = match &raw.filter {
        Some(f) => Some((f.column.get_ref().clone(), var(p, &f.param, "filter.param")?)),
        None => None,
    };
    let k = *raw.k.get_ref();
    if !(1..=10_000).contains(&k) {
        p.at(&raw.k, field("k"), format!("k must be 1 to 10000, got {k}"));
        return None;
    }
    let queries = match &raw.queries {
        Some(q) if !(1..=100_000).contains(q.get_ref()) => {
            p.at(
                q,
                field("queries"),
                format!("queries must be 1 to 100000, got {}", q.get_ref()),
            );
            return None;
        }
        Some(q) => *q.get_ref() as u32,
        None => DEFAULT_RECALL_QUERIES,
    };
    // The operator in the SQL says the distance, unless it is given.
    let distance = match &raw.distance {
        Some(d) => *d.get_ref(),
        None => {
            let found: Vec<Distance> = [Distance::L2, Distance::InnerProduct, Distance::Cosine]
                .into_iter()
                .filter(|d| sql.contains(d.operator()))
                .collect();
            match found[..] {
                [d] => d,
                _ => {
                    p.at(
                        &raw.table,
                        field("distance"),
                        "cannot tell the distance from the SQL (one of <->, <#>, <=>); give \
                         distance = \"l2\", \"inner_product\" or \"cosine\"",
                    );
                    return None;
                }
            }
        }
    };
    Some(NeighbourDecl {
        table: raw.table.get_ref().clone(),
        column: raw.column.get_ref().clone(),
        id: raw
            .id
            .as_ref()
            .map_or_else(|| "id".to_string(), |i| i.get_ref().clone()),
        distance,
        k: k as usize,
        query,
        filter,
        queries,
        approximate: raw.approximate,
    })
}

/// Checks every declaration's table and columns against the workload's
/// generated tables, and that it is a read.
pub(super) fn check_tables(p: &mut Problems, ops: &[OpDef], raw: &[super::raw::RawOp], tables: &[TableDef]) {
    for op in ops {
        let rn = raw
            .iter()
            .find(|r| *r.name.get_ref() == op.name)
            .and_then(|r| r.neighbours.as_ref());
        let (Some(n), Some(rn)) = (&op.neighbours, rn) else {
            continue;
        };
        let field = |f: &str| format!("op.{}.neighbours.{f}", op.name);
        if op.kind != OpKind::Read {
            p.at(
                &rn.table,
                field("table"),
                format!("`{}` writes; a similarity search is a read", op.name),
            );
        }
        let Some(table) = tables.iter().find(|t| t.name == n.table) else {
            let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
            p.at(
                &rn.table,
                field("table"),
                format!("no generated table `{}` (tables: {})", n.table, names.join(", ")),
            );
            continue;
        };
        let columns: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
        let mut need = |name: &str, at: &S<String>, f: &str| {
            if !columns.contains(&name) {
                p.at(
                    at,
                    field(f),
                    format!(
                        "table `{}` has no generated column `{name}` (columns: {})",
                        n.table,
                        columns.join(", ")
                    ),
                );
            }
        };
        need(&n.column, &rn.column, "column");
        need(&n.id, rn.id.as_ref().unwrap_or(&rn.table), "id");
        if let (Some((c, _)), Some(f)) = (&n.filter, &rn.filter) {
            need(c, &f.column, "filter.column");
        }
    }
}
