//! Vector generators: `vector(dim, clusters, spread)` and
//! `unit_vector(dim, clusters, spread)` (a Gaussian mixture, see
//! [`crate::vectors::Mixture`]), and `vector_file("path")` — a column takes
//! row i of the file for row i; an operation parameter draws a row of the
//! file at random (a held-out query file, not the data's).

use super::generator::{BuildCtx, Generator, Place};
use crate::expr::{Arg, ExprError, ExprKind, eval_integer, eval_number};
use crate::vectors::{Mixture, VectorSet, read_vectors};
use std::path::PathBuf;
use std::sync::Arc;

/// Longest vector (pgvector's `vector` stores up to 16,000 dimensions).
pub const MAX_DIM: i64 = 16_000;

/// Vectors read from a file.
#[derive(Debug)]
pub struct VectorFile {
    pub path: PathBuf,
    pub set: VectorSet,
}

pub(super) fn build(
    name: &str,
    args: &[Arg],
    span: &std::ops::Range<usize>,
    ctx: &BuildCtx<'_>,
) -> Result<Generator, ExprError> {
    let bad = |i: usize, msg: String| ExprError::new(args[i].value.span.clone(), msg);
    if name == "vector_file" {
        let [arg] = args else {
            return Err(ExprError::new(
                span.clone(),
                format!(
                    "`vector_file` takes 1 argument, a file name in quotes; got {}",
                    args.len()
                ),
            ));
        };
        let ExprKind::Str(file) = &arg.value.kind else {
            return Err(bad(
                0,
                "expected a file name in quotes, e.g. vector_file(\"data/docs.npy\")".into(),
            ));
        };
        let path = ctx.dir.join(file);
        let set = read_vectors(&path).map_err(|e| bad(0, format!("{:#}", anyhow::Error::from(e))))?;
        if set.is_empty() {
            return Err(bad(0, format!("`{}` holds no vectors", path.display())));
        }
        return Ok(Generator::VectorFile {
            file: Arc::new(VectorFile { path, set }),
            by_row: ctx.place == Place::Column,
        });
    }
    if args.len() != 3 {
        return Err(ExprError::new(
            span.clone(),
            format!(
                "`{name}` takes 3 arguments, got {}; usage: {name}(dim, clusters, spread)",
                args.len()
            ),
        ));
    }
    let dim = eval_integer(&args[0].value, ctx.params, ctx.src)?;
    if !(1..=MAX_DIM).contains(&dim) {
        return Err(bad(0, format!("dimension must be 1 to {MAX_DIM}, got {dim}")));
    }
    let clusters = eval_integer(&args[1].value, ctx.params, ctx.src)?;
    if !(1..=1_000_000).contains(&clusters) {
        return Err(bad(1, format!("clusters must be 1 to 1000000, got {clusters}")));
    }
    let spread = eval_number(&args[2].value, ctx.params)?;
    if !(spread.is_finite() && spread >= 0.0) {
        return Err(bad(2, format!("spread must be a number >= 0, got {spread}")));
    }
    Ok(Generator::Vector(Arc::new(Mixture::new(
        dim as usize,
        clusters as usize,
        spread as f32,
        name == "unit_vector",
    ))))
}
