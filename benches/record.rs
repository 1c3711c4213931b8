//! Cost of recording one operation (HDR histogram record of its latency) and
//! of merging a worker's recorder at the end of a window, per operation.
//! `cargo bench --bench record`.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use schemabench::record::Recorder;
use schemabench::scenario::OpId;
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("record");
    group
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(1));
    group.throughput(Throughput::Elements(1));
    let mut r = Recorder::new(4);
    let mut i = 0u64;
    group.bench_function("record_one_op", |b| {
        b.iter(|| {
            i = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
            // Latencies spread from 1 µs to ~16 ms, as a real mix produces.
            let ns = 1_000 + (i >> 40);
            let at = std::time::Duration::from_nanos((i >> 30) % 10_000_000_000);
            r.record(OpId((i & 3) as usize), at, black_box(ns), Ok(1));
        })
    });
    let mut open = Recorder::new(4);
    group.bench_function("record_one_open_loop_op", |b| {
        b.iter(|| {
            i = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let ns = 1_000 + (i >> 40);
            let at = std::time::Duration::from_nanos((i >> 30) % 10_000_000_000);
            open.record_open(OpId((i & 3) as usize), at, black_box(ns), ns / 2, ns / 4, Ok(1));
        })
    });
    // Merging is once per window: a full recorder (4 ops, wide latency range)
    // merged into another, to be divided by the operations it represents.
    let mut full = Recorder::new(4);
    for k in 0..1_000_000u64 {
        let at = std::time::Duration::from_micros(k * 10);
        full.record(OpId((k & 3) as usize), at, 1_000 + (k * 7919) % 50_000_000, Ok(1));
    }
    group.throughput(Throughput::Elements(1));
    group.bench_function("merge_window_of_4_ops", |b| {
        b.iter_batched(
            || Recorder::new(4),
            |mut into| into.merge(black_box(&full)),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
