//! `cargo bench --bench ground_truth`: exact neighbours (k = 10, L2) of
//! 1,000 queries among 100,000 vectors of 128 dimensions, drawn from a
//! Gaussian mixture, on every core — the ground truth recall is judged
//! against. The target is under 10 s on 2 cores (docs/performance.md).
//! `cargo test --benches` runs it at 1/100 of the size.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use schemabench::vectors::{Distance, Mixture, VectorSet, exact_neighbours};
use std::time::Instant;

fn set(m: &Mixture, n: usize, seed: u64) -> VectorSet {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut s = VectorSet::new(m.dim);
    for _ in 0..n {
        s.push(&m.sample(&mut rng));
    }
    s
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (rows, queries) = if full { (100_000, 1_000) } else { (1_000, 100) };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let m = Mixture::new(128, 100, 0.3, false);
    let started = Instant::now();
    let base = set(&m, rows, 1);
    let qs = set(&m, queries, 2);
    let generated = started.elapsed();
    for distance in [Distance::L2, Distance::Cosine] {
        let started = Instant::now();
        let truth = exact_neighbours(&base, &qs, 10, distance, None, threads);
        let took = started.elapsed();
        assert!(truth.iter().all(|t| t.len() == 10));
        println!(
            "ground truth {distance:?}: {rows} x 128-d, {queries} queries, k = 10, {threads} threads: {:.2} s \
             ({:.0} M distances/s; data generated in {:.2} s)",
            took.as_secs_f64(),
            (rows * queries) as f64 / took.as_secs_f64() / 1e6,
            generated.as_secs_f64()
        );
    }
}
