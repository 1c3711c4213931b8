//! The distances pgvector orders by, computed the same way by the harness.
//! Loops run over fixed 16-lane blocks so the compiler vectorises them.

use serde::{Deserialize, Serialize};

/// pgvector's distance operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Distance {
    /// `<->`: Euclidean distance.
    L2,
    /// `<#>`: the negative inner product (smaller is nearer).
    InnerProduct,
    /// `<=>`: one minus the cosine similarity.
    Cosine,
}

const LANES: usize = 16;

impl Distance {
    /// The operator in SQL.
    pub fn operator(self) -> &'static str {
        match self {
            Distance::L2 => "<->",
            Distance::InnerProduct => "<#>",
            Distance::Cosine => "<=>",
        }
    }

    /// The distance between `a` and `b` as pgvector reports it.
    pub fn between(self, a: &[f32], b: &[f32]) -> f32 {
        match self {
            Distance::L2 => squared_l2(a, b).sqrt(),
            Distance::InnerProduct => -dot(a, b),
            Distance::Cosine => {
                let norms = (dot(a, a) * dot(b, b)).sqrt();
                if norms == 0.0 {
                    f32::NAN
                } else {
                    1.0 - dot(a, b) / norms
                }
            }
        }
    }
}

/// Sum of squared differences.
pub fn squared_l2(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| (x - y) * (x - y))
        .sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..LANES {
            let d = x[i] - y[i];
            acc[i] += d * d;
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Inner product.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in ca.zip(cb) {
        for i in 0..LANES {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}
