//! Workload files: raw structs to validated [`Workload`]s.

use super::diag::{ConfigError, ConfigErrors, Source, SourceRef};
use super::model::{AnswerCheck, ColumnDef, ExprAt, OpDef, OpKind, Step, TableDef, VarDef, Workload};
use super::per_backend::PerBackend;
use super::raw::{IntOrExpr, RawCheck, RawOp, RawOpKind, RawStep, RawWorkload, S};
use crate::expr::{self, Expr, ExprKind, Params};
use crate::sqltext;
use crate::suggest::did_you_mean;
use std::collections::HashSet;

/// Collects every problem of a file instead of stopping at the first.
pub(super) struct Problems {
    pub source: SourceRef,
    pub errors: Vec<ConfigError>,
}

impl Problems {
    pub fn new(source: SourceRef) -> Self {
        Self {
            source,
            errors: Vec::new(),
        }
    }

    pub fn at<T>(&mut self, spanned: &S<T>, field: impl Into<String>, message: impl Into<String>) {
        let e = self.source.error(spanned.span(), Some(field.into()), message);
        self.errors.push(e);
    }

    pub fn whole(&mut self, field: impl Into<String>, message: impl Into<String>) {
        let e = self.source.file_error(Some(field.into()), message);
        self.errors.push(e);
    }

    pub fn finish<T>(self, value: T) -> Result<T, ConfigErrors> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(ConfigErrors(self.errors))
        }
    }
}

/// The longest name: run folders and plan files are named from scenario,
/// variant and operation names, and must stay within file-name limits.
pub const MAX_NAME_LEN: usize = 64;

/// A name usable in file names and reports: letters, digits, `_` and `-`,
/// at most [`MAX_NAME_LEN`] characters.
pub(super) fn check_name(p: &mut Problems, name: &S<String>, field: &str, what: &str) {
    let n = name.get_ref();
    if n.is_empty() || !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        p.at(
            name,
            field,
            format!("{what} name `{n}` must be non-empty and use only letters, digits, `_` and `-`"),
        );
    } else if n.len() > MAX_NAME_LEN {
        p.at(
            name,
            field,
            format!(
                "{what} name is {} characters long; at most {MAX_NAME_LEN} are accepted (run folders and plan files are named after it)",
                n.len()
            ),
        );
    }
}

/// Parses a TOML string holding an expression into an [`ExprAt`].
pub(super) fn expr_at(source: &SourceRef, text: &S<String>, field: String) -> Result<ExprAt, ConfigError> {
    let offset = source.string_content_offset(&text.span());
    let at = |e: expr::ExprError| {
        source.error(
            offset + e.span.start..offset + e.span.end.max(e.span.start + 1),
            Some(field.clone()),
            e.message,
        )
    };
    let parsed: Expr = expr::parse(text.get_ref()).map_err(at)?;
    Ok(ExprAt {
        text: text.get_ref().clone(),
        expr: parsed,
        source: source.clone(),
        offset,
        field,
    })
}

pub(super) fn params_map(p: &mut Problems, raw: &indexmap::IndexMap<S<String>, S<f64>>, field: &str) -> Params {
    let mut out = Params::new();
    for (k, v) in raw {
        if !v.get_ref().is_finite() {
            p.at(v, format!("{field}.{}", k.get_ref()), "must be a finite number");
        }
        out.insert(k.get_ref().clone(), *v.get_ref());
    }
    out
}

pub fn resolve_workload(source: &SourceRef) -> Result<Workload, ConfigErrors> {
    let raw: RawWorkload = super::diag::parse_toml(source)?;
    let mut p = Problems::new(source.clone());
    check_name(&mut p, &raw.name, "name", "workload");
    let params = params_map(&mut p, &raw.params, "params");

    let schema = match &raw.schema {
        Some(s) => s.get_ref().clone(),
        None => {
            p.whole("schema", "a workload needs `schema`: the CREATE TABLE statements, for every backend (`schema = [...]`) or per backend (`schema.sqlite = [...]`)");
            PerBackend::default()
        }
    };

    let mut tables = Vec::new();
    let mut table_names = HashSet::new();
    for t in &raw.table {
        let tname = t.name.get_ref();
        if !table_names.insert(tname.clone()) {
            p.at(&t.name, "table.name", format!("table `{tname}` is defined twice"));
        }
        let rows_field = format!("table.{tname}.rows");
        let rows = match t.rows.get_ref() {
            IntOrExpr::Int(n) => Ok(ExprAt {
                text: n.to_string(),
                expr: Expr {
                    kind: ExprKind::Number(*n as f64),
                    span: 0..n.to_string().len(),
                },
                source: source.clone(),
                offset: t.rows.span().start,
                field: rows_field,
            }),
            IntOrExpr::Expr(s) => expr_at(source, &S::new(t.rows.span(), s.clone()), rows_field),
        };
        let rows = match rows {
            Ok(r) => r,
            Err(e) => {
                p.errors.push(e);
                continue;
            }
        };
        let mut columns = Vec::new();
        let mut seen = HashSet::new();
        if t.columns.is_empty() {
            p.at(
                &t.name,
                format!("table.{tname}.columns"),
                "a table needs at least one column generator, e.g. `columns.id = \"seq\"`",
            );
        }
        for (cname, cexpr) in &t.columns {
            if !seen.insert(cname.get_ref().clone()) {
                p.at(
                    cname,
                    format!("table.{tname}.columns"),
                    format!("column `{}` is given twice", cname.get_ref()),
                );
            }
            match expr_at(source, cexpr, format!("table.{tname}.columns.{}", cname.get_ref())) {
                Ok(expr) => columns.push(ColumnDef {
                    name: cname.get_ref().clone(),
                    expr,
                }),
                Err(e) => p.errors.push(e),
            }
        }
        tables.push(TableDef {
            name: tname.clone(),
            rows,
            columns,
        });
    }

    let mut ops = Vec::new();
    let mut op_names = HashSet::new();
    if raw.op.is_empty() {
        p.whole("op", "a workload needs at least one `[[op]]`");
    }
    for op in &raw.op {
        check_name(&mut p, &op.name, "op.name", "operation");
        if !op_names.insert(op.name.get_ref().clone()) {
            p.at(
                &op.name,
                "op.name",
                format!("operation `{}` is defined twice", op.name.get_ref()),
            );
        }
        let def = match op.batch {
            Some(_) => super::batch::resolve(&mut p, source, op, &tables),
            None => resolve_op(&mut p, source, op),
        };
        if let Some(def) = def {
            ops.push(def);
        }
    }

    super::neighbours::check_tables(&mut p, &ops, &raw.op, &tables);
    let workload = Workload {
        name: raw.name.get_ref().clone(),
        description: raw.description.clone(),
        path: source.path.clone(),
        params,
        schema,
        after_load: raw.after_load.as_ref().map(|a| a.get_ref().clone()).unwrap_or_default(),
        extensions: raw
            .extensions
            .iter()
            .filter_map(|e| {
                let name = e.get_ref();
                if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    Some(name.clone())
                } else {
                    p.at(
                        e,
                        "extensions",
                        format!("`{name}` is not an extension name (e.g. \"vector\", \"timescaledb\")"),
                    );
                    None
                }
            })
            .collect(),
        tables,
        ops,
    };
    if p.errors.is_empty() {
        // Bind with the defaults so generator problems surface in `validate`.
        if let Err(e) = super::bind::bind(&workload, &workload.params) {
            p.errors.extend(e.0);
        }
    }
    p.finish(workload)
}

fn resolve_op(p: &mut Problems, source: &SourceRef, op: &RawOp) -> Option<OpDef> {
    let name = op.name.get_ref();
    let field = |f: &str| format!("op.{name}.{f}");
    let has_positional = op.sql.is_some() || !op.params.is_empty();
    let has_steps = !op.step.is_empty() || !op.vars.is_empty();
    if has_positional && has_steps {
        p.at(
            &op.name,
            field("step"),
            "give either `sql` with positional `params`, or `vars` with `[[op.step]]` statements — not both",
        );
        return None;
    }
    let mut vars = Vec::new();
    let steps = if has_steps {
        for (vname, vexpr) in &op.vars {
            match expr_at(source, vexpr, field(&format!("vars.{}", vname.get_ref()))) {
                Ok(expr) => vars.push(VarDef {
                    name: vname.get_ref().clone(),
                    expr,
                }),
                Err(e) => p.errors.push(e),
            }
        }
        if op.step.is_empty() {
            p.at(
                &op.name,
                field("step"),
                "`vars` are given but there is no `[[op.step]]` to use them",
            );
            return None;
        }
        let names: Vec<&str> = op.vars.keys().map(|k| k.get_ref().as_str()).collect();
        op.step
            .iter()
            .enumerate()
            .map(|(i, s)| resolve_step(p, s, &names, &field(&format!("step[{i}]"))))
            .collect()
    } else {
        let Some(sql) = &op.sql else {
            p.at(
                &op.name,
                field("sql"),
                "an operation needs `sql` (with `params`) or `[[op.step]]` statements",
            );
            return None;
        };
        for (i, e) in op.params.iter().enumerate() {
            match expr_at(source, e, field(&format!("params[{i}]"))) {
                Ok(expr) => vars.push(VarDef {
                    name: format!("${}", i + 1),
                    expr,
                }),
                Err(e) => p.errors.push(e),
            }
        }
        check_placeholders(p, sql, op.params.len(), &field("sql"), "`params` lists");
        vec![Step {
            sql: sql.get_ref().clone(),
            args: (0..op.params.len()).collect(),
        }]
    };
    let inferred = if steps
        .iter()
        .all(|s: &Step| s.sql.entries().all(|(_, q)| sqltext::is_read_only(q)))
    {
        OpKind::Read
    } else {
        OpKind::Write
    };
    let kind = match op.kind {
        Some(RawOpKind::Read) => OpKind::Read,
        Some(RawOpKind::Write) => OpKind::Write,
        None => inferred,
    };
    let check = match op.check {
        Some(RawCheck::Ordered) => AnswerCheck::Ordered,
        Some(RawCheck::None) => AnswerCheck::None,
        Some(RawCheck::Unordered) | None => AnswerCheck::Unordered,
    };
    let sql_text: String = steps
        .iter()
        .flat_map(|s: &Step| s.sql.entries().map(|(_, q)| q.clone()))
        .collect::<Vec<_>>()
        .join("\n");
    let neighbours = match &op.neighbours {
        Some(n) => Some(super::neighbours::resolve(p, name, n, &vars, &sql_text)?),
        None => None,
    };
    Some(OpDef {
        name: name.clone(),
        description: op.description.clone(),
        kind,
        transaction: op.transaction.unwrap_or(steps.len() > 1),
        vars,
        steps,
        check,
        neighbours,
        batch: None,
    })
}

/// The workload table `name` names, or an error at it listing the tables.
pub(super) fn generated_table<'a>(
    p: &mut Problems,
    tables: &'a [TableDef],
    name: &S<String>,
    field: &str,
) -> Option<&'a TableDef> {
    let found = tables.iter().find(|t| t.name == *name.get_ref());
    if found.is_none() {
        let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
        p.at(
            name,
            field,
            format!("no generated table `{}` (tables: {})", name.get_ref(), names.join(", ")),
        );
    }
    found
}

/// Resolves a `[[op.step]]` whose `args` name the operation's variables.
pub(super) fn resolve_step(p: &mut Problems, step: &RawStep, vars: &[&str], field: &str) -> Step {
    let mut args = Vec::new();
    for a in &step.args {
        match vars.iter().position(|v| v == a.get_ref()) {
            Some(i) => args.push(i),
            None => {
                let hint = did_you_mean(a.get_ref(), vars.iter().copied())
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                p.at(
                    a,
                    format!("{field}.args"),
                    format!(
                        "`{}` is not one of the operation's vars ({}){hint}",
                        a.get_ref(),
                        vars.join(", ")
                    ),
                );
            }
        }
    }
    check_placeholders(p, &step.sql, step.args.len(), &format!("{field}.sql"), "`args` lists");
    Step {
        sql: step.sql.get_ref().clone(),
        args,
    }
}

/// Every SQL text must use exactly `$1..$n` for the `n` bound values.
pub(super) fn check_placeholders(p: &mut Problems, sql: &S<PerBackend<String>>, bound: usize, field: &str, what: &str) {
    for (backend, text) in sql.get_ref().entries() {
        let used = sqltext::max_placeholder(text);
        let label = backend.map(|b| format!(" ({b})")).unwrap_or_default();
        if used != bound {
            p.at(
                sql,
                field,
                format!("the SQL{label} uses placeholders up to ${used} but {what} {bound} value(s); placeholders are $1..$n, one per value"),
            );
        }
    }
}

/// Parses and resolves a workload file.
pub fn load_workload(path: &std::path::Path) -> Result<Workload, ConfigErrors> {
    let source = Source::read(path)?;
    resolve_workload(&source)
}
