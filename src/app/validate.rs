//! `schemabench validate`: every file checked as `run` would check it
//! before any work, and what each resolves to.

use super::{Error, Exit, check_statements};
use crate::run::{self, RunOptions};
use crate::scenario::{Document, load_any};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Checks files and prints what each resolves to (or its errors).
pub fn validate(files: &[PathBuf], out: &mut dyn std::io::Write) -> Result<Exit, Error> {
    let mut invalid = 0;
    for path in files {
        match load_any(path) {
            Ok(doc) => {
                // What `run` would reject before any work, `validate` rejects
                // too (pipelining on SQLite, parameters that do not bind).
                let checked = match &doc {
                    Document::Scenario(sc) => match run::plan(sc, &RunOptions::default()) {
                        Ok(plan) => check_statements(&plan),
                        Err(e) => Err(Error::Plan(e)),
                    },
                    Document::Workload(w) => match run::statements::check_workload(w) {
                        errors if errors.is_empty() => Ok(()),
                        errors => Err(Error::Statements(errors)),
                    },
                };
                if let Err(e) = checked {
                    invalid += 1;
                    match e {
                        // Located in the file each statement comes from.
                        Error::Statements(_) => {
                            let _ = writeln!(out, "{e}");
                        }
                        e => {
                            let _ = writeln!(out, "{}: {e}", path.display());
                        }
                    }
                    continue;
                }
                let _ = write!(out, "{}", describe(path, &doc));
            }
            Err(errors) => {
                invalid += 1;
                let _ = writeln!(out, "{errors}");
            }
        }
    }
    if invalid == 0 {
        Ok(Exit::Success)
    } else {
        Err(Error::Invalid {
            invalid,
            total: files.len(),
        })
    }
}

fn describe(path: &Path, doc: &Document) -> String {
    let mut s = String::new();
    match doc {
        Document::Scenario(sc) => {
            let _ = writeln!(s, "ok  {}: scenario `{}` — {}", path.display(), sc.name, sc.question);
            let backends: Vec<&str> = sc.backends.iter().map(|b| b.as_str()).collect();
            let _ = writeln!(
                s,
                "    workload `{}` ({}); backends {}; seed {}",
                sc.workload.name,
                sc.workload.path.display(),
                backends.join(", "),
                sc.seed
            );
            match run::plan(sc, &RunOptions::default()) {
                Ok(plan) => {
                    let tables: Vec<String> = plan
                        .tables()
                        .iter()
                        .map(|t| format!("{} {} rows", t.name, t.rows))
                        .collect();
                    let _ = writeln!(s, "    tables: {}", tables.join(", "));
                    let f = run::footprint::estimate(&plan, &RunOptions::default());
                    let _ = writeln!(
                        s,
                        "    data: about {} generated; the run needs about {} of free disk",
                        crate::util::format_bytes(f.data_bytes),
                        crate::util::format_bytes(f.needed_bytes)
                    );
                }
                Err(e) => {
                    let _ = writeln!(s, "    tables: cannot bind: {e}");
                }
            }
            let l = &sc.load;
            let who = if l.groups.is_empty() {
                format!("{} clients", l.clients())
            } else {
                l.describe()
            };
            let _ = writeln!(
                s,
                "    load: {who}, warmup {:?}, duration {:?}, {} rounds (--quick: {:?} + {:?}, 1 round)",
                l.warmup, l.duration, l.rounds, sc.quick.load.warmup, sc.quick.load.duration
            );
            let mix: Vec<String> = sc
                .mix
                .iter()
                .map(|(op, w)| format!("{} {w}", sc.op_name(*op)))
                .collect();
            let _ = writeln!(s, "    mix: {}", mix.join(", "));
            let values = |w: &crate::scenario::ScaleSweep| {
                let v: Vec<String> = w.values.iter().map(|&x| crate::report::scale_sweep::value(x)).collect();
                format!("{} = {}", w.key.label(), v.join(", "))
            };
            if let Some(w) = &sc.sweep {
                let quick = sc.quick.sweep.as_ref().map(values).unwrap_or_else(|| "none".into());
                let _ = writeln!(
                    s,
                    "    sweep: {} ({} runs, one per value; --quick: {quick})",
                    values(w),
                    w.values.len()
                );
            }
            let variants: Vec<String> = sc
                .variants
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    if i == sc.verdict.baseline.0 {
                        format!("{} (baseline)", v.name)
                    } else {
                        v.name.clone()
                    }
                })
                .collect();
            let _ = writeln!(s, "    variants: {}", variants.join(", "));
        }
        Document::Workload(w) => {
            let _ = writeln!(
                s,
                "ok  {}: workload `{}` — {}",
                path.display(),
                w.name,
                w.description.as_deref().unwrap_or("")
            );
            let params: Vec<String> = w.params.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            let _ = writeln!(s, "    params: {}", params.join(", "));
            let tables: Vec<&str> = w.tables.iter().map(|t| t.name.as_str()).collect();
            let _ = writeln!(s, "    tables: {}", tables.join(", "));
            let ops: Vec<String> = w
                .ops
                .iter()
                .map(|o| format!("{} ({:?})", o.name, o.kind).to_lowercase())
                .collect();
            let _ = writeln!(s, "    ops: {}", ops.join(", "));
        }
    }
    s
}
