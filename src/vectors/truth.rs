//! Exact nearest neighbours by brute force, computed by the harness: the
//! answers an approximate index is judged against. Queries go in blocks so
//! each base vector is read once per block while it is in cache, blocks are
//! shared among threads, and the distance loops vectorise.
//! `benches/ground_truth.rs` measures it (docs/performance.md).

use super::distance::{dot, squared_l2};
use super::{Distance, VectorSet};
use std::sync::atomic::{AtomicUsize, Ordering};

/// One neighbour: a row of the base set and its distance to the query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Neighbour {
    pub row: u32,
    pub distance: f32,
}

/// Queries compared with each base vector while it is in cache.
const BLOCK: usize = 8;

/// The `k` nearest rows of `base` to every query, nearest first (ties by
/// row number). `allowed(query, row)` filters rows, as a `WHERE` clause
/// does; `None` allows all.
pub fn exact_neighbours(
    base: &VectorSet,
    queries: &VectorSet,
    k: usize,
    distance: Distance,
    allowed: Option<&(dyn Fn(usize, usize) -> bool + Sync)>,
    threads: usize,
) -> Vec<Vec<Neighbour>> {
    assert_eq!(base.dim, queries.dim, "base and queries differ in dimension");
    let norms: Vec<f32> = match distance {
        Distance::Cosine => (0..base.len()).map(|i| dot(base.row(i), base.row(i)).sqrt()).collect(),
        _ => Vec::new(),
    };
    let blocks = queries.len().div_ceil(BLOCK);
    let next = AtomicUsize::new(0);
    let threads = threads.clamp(1, blocks.max(1));
    let mut results: Vec<Vec<Neighbour>> = vec![Vec::new(); queries.len()];
    let done: Vec<(usize, Vec<Vec<Neighbour>>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let b = next.fetch_add(1, Ordering::Relaxed);
                        if b >= blocks {
                            return mine;
                        }
                        let first = b * BLOCK;
                        let last = (first + BLOCK).min(queries.len());
                        mine.push((first, block(base, queries, first..last, k, distance, &norms, allowed)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a ground-truth thread panicked"))
            .collect()
    });
    for (first, lists) in done {
        for (i, list) in lists.into_iter().enumerate() {
            results[first + i] = list;
        }
    }
    results
}

/// The neighbours of queries `range`, in one pass over `base`.
fn block(
    base: &VectorSet,
    queries: &VectorSet,
    range: std::ops::Range<usize>,
    k: usize,
    distance: Distance,
    norms: &[f32],
    allowed: Option<&(dyn Fn(usize, usize) -> bool + Sync)>,
) -> Vec<Vec<Neighbour>> {
    let query_norms: Vec<f32> = range
        .clone()
        .map(|q| dot(queries.row(q), queries.row(q)).sqrt())
        .collect();
    let mut best: Vec<TopK> = range.clone().map(|_| TopK::new(k)).collect();
    for (row, b) in base.data.chunks_exact(base.dim).enumerate() {
        for (i, q) in range.clone().enumerate() {
            if allowed.is_some_and(|ok| !ok(q, row)) {
                continue;
            }
            let v = queries.row(q);
            // An order-preserving key: squared L2 needs no square root.
            let key = match distance {
                Distance::L2 => squared_l2(v, b),
                Distance::InnerProduct => -dot(v, b),
                Distance::Cosine => {
                    let n = norms[row] * query_norms[i];
                    if n == 0.0 { f32::INFINITY } else { 1.0 - dot(v, b) / n }
                }
            };
            best[i].offer(key, row as u32);
        }
    }
    best.into_iter()
        .map(|t| {
            t.items
                .into_iter()
                .map(|(key, row)| Neighbour {
                    row,
                    distance: if distance == Distance::L2 { key.sqrt() } else { key },
                })
                .collect()
        })
        .collect()
}

/// The k smallest keys seen, sorted; ties keep the lower row.
struct TopK {
    k: usize,
    items: Vec<(f32, u32)>,
}

impl TopK {
    fn new(k: usize) -> Self {
        TopK {
            k,
            items: Vec::with_capacity(k + 1),
        }
    }

    #[inline]
    fn offer(&mut self, key: f32, row: u32) {
        if self.items.len() == self.k && self.items.last().is_none_or(|&(worst, _)| key >= worst) {
            return;
        }
        if key.is_nan() {
            return;
        }
        let at = self.items.partition_point(|&(x, _)| x <= key);
        self.items.insert(at, (key, row));
        self.items.truncate(self.k);
    }
}
