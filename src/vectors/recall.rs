//! Recall@k as ann-benchmarks counts it: a returned row is a true neighbour
//! when its distance to the query (computed by the harness from the data,
//! not taken from the server) is within the k-th true distance, so rows tied
//! with the k-th neighbour count whichever of them an index returns.

use super::Neighbour;

/// Slack on the k-th true distance, as ann-benchmarks allows it: the server
/// computes distances in its own float order, and a tie must not be lost to
/// the last bit.
pub const RECALL_EPSILON: f32 = 1e-3;

/// Recall of one answer: the share of the first `k` returned rows whose
/// distances (`returned`, computed by the harness) are within the k-th of
/// `truth`. An answer of fewer than `k` rows loses the missing ones.
pub fn recall_at_k(truth: &[Neighbour], returned: &[f32], k: usize) -> f64 {
    if k == 0 || truth.is_empty() {
        return 1.0;
    }
    let kth = truth[truth.len().min(k) - 1].distance;
    let limit = kth + RECALL_EPSILON;
    let hits = returned.iter().take(k).filter(|&&d| d <= limit).count();
    hits as f64 / k.min(truth.len()) as f64
}
