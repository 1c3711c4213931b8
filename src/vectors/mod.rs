//! Vectors for similarity-search questions: generated Gaussian mixtures,
//! sets read from files (`.npy`, `.fvecs`, `.ivecs`), exact neighbours
//! computed by the harness (never by the server under test), and recall.
//! docs/vectors.md explains how they are meant to be used.

mod distance;
mod file;
mod mixture;
mod recall;
mod truth;

pub use distance::Distance;
pub use file::{FileError, read_ivecs, read_vectors};
pub use mixture::Mixture;
pub use recall::{RECALL_EPSILON, recall_at_k};
pub use truth::{Neighbour, exact_neighbours};

/// Vectors of one dimension, stored row after row.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorSet {
    pub dim: usize,
    pub data: Vec<f32>,
}

impl VectorSet {
    pub fn new(dim: usize) -> Self {
        VectorSet { dim, data: Vec::new() }
    }

    pub fn len(&self) -> usize {
        self.data.len().checked_div(self.dim).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    pub fn push(&mut self, v: &[f32]) {
        debug_assert_eq!(v.len(), self.dim);
        self.data.extend_from_slice(v);
    }
}

#[cfg(test)]
mod tests;
