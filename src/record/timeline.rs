//! Per-second counts and coarse latency distributions, to see how a window
//! evolved (a slow start means the warmup was too short). Each second keeps a
//! count and a log-scale histogram with four buckets per power of two (about
//! 19% resolution) — 704 bytes, so a ten-minute window costs ~400 KB per
//! operation, not a sample per operation.

use std::time::{Duration, Instant};

/// Buckets per second: 4 per power of two up to 2^44 ns (~4.9 h).
const BUCKETS: usize = 176;

fn bucket(ns: u64) -> usize {
    let ns = ns.max(1);
    let log2 = 63 - ns.leading_zeros() as usize;
    // The two bits below the leading one pick the quarter.
    let quarter = if log2 >= 2 {
        ((ns >> (log2 - 2)) & 3) as usize
    } else {
        0
    };
    (log2 * 4 + quarter).min(BUCKETS - 1)
}

/// The upper bound (ns) of a bucket, a conservative percentile value.
fn bucket_upper(b: usize) -> u64 {
    let (log2, quarter) = (b / 4, (b % 4) as u64);
    let base = 1u64 << log2;
    base + (base / 4) * (quarter + 1)
}

#[derive(Debug, Clone)]
struct Second {
    count: u32,
    buckets: [u32; BUCKETS],
}

impl Default for Second {
    fn default() -> Self {
        Second {
            count: 0,
            buckets: [0; BUCKETS],
        }
    }
}

/// One operation's timeline over a window, second by second.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    seconds: Vec<Second>,
}

impl Timeline {
    /// Records a completion `at` (since the window's start) with `ns` latency.
    #[inline]
    pub fn record(&mut self, at: Duration, ns: u64) {
        let s = at.as_secs() as usize;
        if s >= self.seconds.len() {
            self.seconds.resize_with(s + 1, Second::default);
        }
        let second = &mut self.seconds[s];
        second.count += 1;
        second.buckets[bucket(ns)] += 1;
    }

    pub fn merge(&mut self, other: &Timeline) {
        if other.seconds.len() > self.seconds.len() {
            self.seconds.resize_with(other.seconds.len(), Second::default);
        }
        for (a, b) in self.seconds.iter_mut().zip(&other.seconds) {
            a.count += b.count;
            for (x, y) in a.buckets.iter_mut().zip(b.buckets.iter()) {
                *x += y;
            }
        }
    }

    /// Operations completed in each second.
    pub fn counts(&self) -> Vec<u32> {
        self.seconds.iter().map(|s| s.count).collect()
    }

    /// The 99th percentile (bucket upper bound, ns) of each second; 0 for
    /// seconds without operations.
    pub fn p99s(&self) -> Vec<u64> {
        self.seconds
            .iter()
            .map(|s| {
                if s.count == 0 {
                    return 0;
                }
                let want = (s.count as f64 * 0.99).ceil() as u32;
                let mut seen = 0;
                for (b, n) in s.buckets.iter().enumerate() {
                    seen += n;
                    if seen >= want {
                        return bucket_upper(b);
                    }
                }
                bucket_upper(BUCKETS - 1)
            })
            .collect()
    }
}

/// When a window started, for timeline offsets.
#[derive(Debug, Clone, Copy)]
pub struct Clock(pub Instant);

impl Clock {
    #[inline]
    pub fn since(&self, t: Instant) -> Duration {
        t.saturating_duration_since(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_bound_their_values_within_a_quarter_octave() {
        for ns in [1u64, 7, 100, 1_000, 12_345, 1_000_000, 987_654_321] {
            let b = bucket(ns);
            assert!(bucket_upper(b) >= ns, "{ns}");
            assert!(
                bucket_upper(b) as f64 <= ns as f64 * 1.26 + 1.0,
                "{ns} -> {}",
                bucket_upper(b)
            );
        }
    }

    #[test]
    fn per_second_counts_and_p99_follow_the_data() {
        let mut t = Timeline::default();
        for i in 0..1000 {
            t.record(Duration::from_millis(i), 10_000);
        }
        for i in 0..100 {
            t.record(
                Duration::from_millis(1000 + i * 10),
                if i == 0 { 50_000_000 } else { 10_000 },
            );
        }
        assert_eq!(t.counts(), vec![1000, 100]);
        let p99 = t.p99s();
        assert!((10_000..=12_500).contains(&p99[0]), "{p99:?}");
        let mut other = Timeline::default();
        other.record(Duration::from_millis(2500), 1);
        t.merge(&other);
        assert_eq!(t.counts(), vec![1000, 100, 1]);
    }
}
