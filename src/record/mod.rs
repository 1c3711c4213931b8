//! Per-worker recording of operation outcomes: an HDR histogram of latency in
//! integer nanoseconds per operation, counts and errors by class. Memory is
//! fixed by the histogram bounds, not by the number of operations; recorders
//! merge exactly after a round because histograms add.

pub mod timeline;

pub use timeline::Timeline;

use crate::backend::{ErrorClass, OpError};
use crate::scenario::OpId;
use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use std::time::Duration;

/// Lowest recordable latency: 1 ns.
pub const LOWEST_NS: u64 = 1;
/// Highest recordable latency: one hour. Longer operations saturate.
pub const HIGHEST_NS: u64 = 3_600_000_000_000;
/// Significant decimal digits kept by the histograms (0.1% resolution).
pub const SIGNIFICANT_DIGITS: u8 = 3;

/// An empty latency histogram with schemabench's fixed bounds.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(LOWEST_NS, HIGHEST_NS, SIGNIFICANT_DIGITS).expect("constant bounds are valid")
}

/// Outcomes of one operation.
#[derive(Debug, Clone)]
pub struct OpRecord {
    /// Latency of successful executions, ns. In an open loop this is the
    /// response time from the intended start (coordinated omission corrected).
    pub latency: Histogram<u64>,
    /// Open loop only: service time from the actual start, ns.
    pub service: Option<Histogram<u64>>,
    /// Per-second counts and p99.
    pub timeline: Timeline,
    /// Failed executions per [`ErrorClass`] (indexed by `ErrorClass::index`).
    pub errors: [u64; ErrorClass::ALL.len()],
    /// Rows read by successful executions.
    pub rows: u64,
    /// The first error message seen, for the report.
    pub first_error: Option<String>,
}

impl Default for OpRecord {
    fn default() -> Self {
        OpRecord {
            latency: new_histogram(),
            service: None,
            timeline: Timeline::default(),
            errors: [0; ErrorClass::ALL.len()],
            rows: 0,
            first_error: None,
        }
    }
}

impl OpRecord {
    pub fn count(&self) -> u64 {
        self.latency.len()
    }

    pub fn error_count(&self) -> u64 {
        self.errors.iter().sum()
    }

    pub fn merge(&mut self, other: &OpRecord) {
        self.latency.add(&other.latency).expect("histograms share fixed bounds");
        if let Some(o) = &other.service {
            self.service
                .get_or_insert_with(new_histogram)
                .add(o)
                .expect("histograms share fixed bounds");
        }
        self.timeline.merge(&other.timeline);
        for (a, b) in self.errors.iter_mut().zip(other.errors) {
            *a += b;
        }
        self.rows += other.rows;
        if self.first_error.is_none() {
            self.first_error.clone_from(&other.first_error);
        }
    }
}

/// Open-loop schedule keeping: how far actual starts lagged intended ones.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// Start lag (actual − intended start), ns.
    pub lag: Histogram<u64>,
    /// Operations scheduled in the measured window.
    pub scheduled: u64,
    /// Operations that started more than [`LATE_AFTER`] after their intended time.
    pub late: u64,
}

/// An open-loop operation is late when it starts more than this after its
/// intended time (the client was still busy, or the machine could not keep up).
pub const LATE_AFTER: Duration = Duration::from_millis(1);

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            lag: new_histogram(),
            scheduled: 0,
            late: 0,
        }
    }
}

/// One worker's records for one measured window, indexed by operation.
#[derive(Debug, Clone)]
pub struct Recorder {
    pub ops: Vec<OpRecord>,
    /// Open loop only.
    pub schedule: Option<Schedule>,
}

impl Recorder {
    pub fn new(ops: usize) -> Self {
        Recorder {
            ops: (0..ops).map(|_| OpRecord::default()).collect(),
            schedule: None,
        }
    }

    /// Records one closed-loop execution that ended `at` into the window.
    /// Allocates nothing on success, except once per new second of timeline.
    #[inline]
    pub fn record(&mut self, op: OpId, at: Duration, latency_ns: u64, outcome: Result<u64, OpError>) {
        let r = &mut self.ops[op];
        match outcome {
            Ok(rows) => {
                r.latency.saturating_record(latency_ns.max(LOWEST_NS));
                r.timeline.record(at, latency_ns);
                r.rows += rows;
            }
            Err(e) => {
                r.errors[e.class.index()] += 1;
                if r.first_error.is_none() {
                    r.first_error = Some(e.message);
                }
            }
        }
    }

    /// Records one open-loop execution: response time from the intended
    /// start, service time from the actual start, and the start lag.
    #[inline]
    pub fn record_open(
        &mut self,
        op: OpId,
        at: Duration,
        response_ns: u64,
        service_ns: u64,
        lag_ns: u64,
        outcome: Result<u64, OpError>,
    ) {
        let s = self.schedule.get_or_insert_with(Schedule::default);
        s.scheduled += 1;
        s.lag.saturating_record(lag_ns.max(LOWEST_NS));
        if lag_ns > LATE_AFTER.as_nanos() as u64 {
            s.late += 1;
        }
        if outcome.is_ok() {
            self.ops[op]
                .service
                .get_or_insert_with(new_histogram)
                .saturating_record(service_ns.max(LOWEST_NS));
        }
        self.record(op, at, response_ns, outcome);
    }

    pub fn merge(&mut self, other: &Recorder) {
        for (a, b) in self.ops.iter_mut().zip(&other.ops) {
            a.merge(b);
        }
        if let Some(o) = &other.schedule {
            let s = self.schedule.get_or_insert_with(Schedule::default);
            s.lag.add(&o.lag).expect("histograms share fixed bounds");
            s.scheduled += o.scheduled;
            s.late += o.late;
        }
    }
}

/// A histogram in the HdrHistogram V2 compressed format, base64 encoded, so
/// any HdrHistogram implementation can recompute percentiles from a result.
pub fn encode_histogram(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut bytes)
        .expect("serialising into memory cannot fail");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Reverses [`encode_histogram`].
pub fn decode_histogram(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| format!("not base64: {e}"))?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("not an HdrHistogram: {e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(class: ErrorClass) -> Result<u64, OpError> {
        Err(OpError {
            class,
            message: format!("{class:?}"),
        })
    }

    #[test]
    fn merged_recorders_equal_one_recorder_that_saw_everything() {
        let mut all = Recorder::new(2);
        let mut parts = [Recorder::new(2), Recorder::new(2)];
        for i in 0..10_000u64 {
            let ns = 1_000 + (i * 7919) % 5_000_000;
            all.record(OpId((i % 2) as usize), Duration::ZERO, ns, Ok(1));
            parts[(i % 3 == 0) as usize].record(OpId((i % 2) as usize), Duration::ZERO, ns, Ok(1));
        }
        all.record(OpId(1), Duration::ZERO, 5, err(ErrorClass::Timeout));
        parts[0].record(OpId(1), Duration::ZERO, 5, err(ErrorClass::Timeout));
        let mut merged = Recorder::new(2);
        merged.merge(&parts[0]);
        merged.merge(&parts[1]);
        for op in 0..2 {
            assert_eq!(merged.ops[op].count(), all.ops[op].count());
            assert_eq!(merged.ops[op].rows, all.ops[op].rows);
            for q in [0.5, 0.99, 0.999, 1.0] {
                assert_eq!(
                    merged.ops[op].latency.value_at_quantile(q),
                    all.ops[op].latency.value_at_quantile(q)
                );
            }
        }
        assert_eq!(merged.ops[1].errors[ErrorClass::Timeout.index()], 1);
        assert_eq!(merged.ops[1].first_error.as_deref(), Some("Timeout"));
        assert_eq!(merged.ops[1].count(), 5_000, "errors are not latency samples");
    }

    #[test]
    fn percentiles_keep_three_significant_digits_and_survive_encoding() {
        let mut r = Recorder::new(1);
        for ns in [1_234_567u64, 2_000, 17, 999_999_999] {
            r.record(OpId(0), Duration::ZERO, ns, Ok(0));
        }
        let h = &r.ops[0].latency;
        let max = h.max() as f64;
        assert!((max - 999_999_999.0).abs() / 999_999_999.0 < 0.001);
        let back = decode_histogram(&encode_histogram(h)).unwrap();
        assert_eq!(back.len(), 4);
        assert_eq!(back.value_at_quantile(0.5), h.value_at_quantile(0.5));
        assert!(decode_histogram("not a histogram").is_err());
    }

    #[test]
    fn memory_does_not_grow_with_the_number_of_operations() {
        // The histogram's counts array is sized by its bounds alone.
        let mut r = Recorder::new(1);
        r.record(OpId(0), Duration::ZERO, 1_000, Ok(1));
        let before = r.ops[0].latency.distinct_values();
        for i in 0..1_000_000u64 {
            r.record(OpId(0), Duration::ZERO, 1_000 + i * 3_000, Ok(1));
        }
        assert_eq!(r.ops[0].latency.distinct_values(), before);
        assert_eq!(r.ops[0].count(), 1_000_001);
    }
}
