//! Driver overhead on SQLite: the harness's whole per-operation path (pick
//! the operation, sample parameters, execute through `Session`, time and
//! record into the HDR histogram) against a bare rusqlite `prepare_cached`
//! loop doing the same primary-key lookups on the same file.
//!
//! `cargo bench --bench sqlite_driver` runs both under criterion and then
//! side by side in alternating half-second slices, printing the ratio.

use criterion::{Criterion, criterion_group};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rusqlite::{Connection, OpenFlags};
use schemabench::backend::Engine;
use schemabench::backend::sqlite::SqliteEngine;
use schemabench::run::{Client, RunOptions, RunPlan};
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

const SQL: &str = "SELECT id, user_id, status, total, created_at, note FROM orders WHERE id = ?1";

struct Fixture {
    engine: SqliteEngine,
    plan: RunPlan,
    orders: i64,
}

fn fixture() -> Fixture {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/pk_lookup.toml");
    let scenario = schemabench::scenario::load_scenario(&path).expect("bench scenario is valid");
    let plan = schemabench::run::plan(&scenario, &RunOptions::default()).expect("plans");
    let mut engine = SqliteEngine::new(None).expect("work dir");
    let spec =
        schemabench::backend::BaseSpec::for_workload(&scenario.workload, schemabench::backend::BackendKind::Sqlite);
    engine
        .load_base(&spec, plan.tables(), plan.seed, &|_| {})
        .expect("loads");
    engine.create_variant("base", &[]).expect("variant");
    let orders = plan.params["orders"] as i64;
    Fixture { engine, plan, orders }
}

struct Bare {
    conn: Connection,
    rng: ChaCha8Rng,
    orders: i64,
}

impl Bare {
    fn new(f: &Fixture) -> Self {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(f.engine.variant_path("base").unwrap(), flags).unwrap();
        Bare {
            conn,
            rng: ChaCha8Rng::seed_from_u64(1),
            orders: f.orders,
        }
    }

    #[inline]
    fn lookup(&mut self) {
        let key = self.rng.random_range(1..=self.orders);
        let mut stmt = self.conn.prepare_cached(SQL).unwrap();
        stmt.raw_bind_parameter(1, key).unwrap();
        let mut rows = stmt.raw_query();
        while let Some(r) = rows.next().unwrap() {
            for c in 0..6 {
                black_box(r.get_ref(c).unwrap());
            }
        }
    }
}

fn harness_client(f: &Fixture) -> Client<'_> {
    let target = &f.plan.targets[0];
    let session = f
        .engine
        .open_session(&target.name, &target.session_options(&f.plan))
        .unwrap();
    Client::new(&f.plan, target, session, 0, 0)
}

fn bench(c: &mut Criterion) {
    let f = fixture();
    let mut group = c.benchmark_group("pk_lookup");
    group
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let mut bare = Bare::new(&f);
    group.bench_function("bare_rusqlite_prepare_cached", |b| b.iter(|| bare.lookup()));
    let mut client = harness_client(&f);
    let from = Instant::now();
    group.bench_function("schemabench_client_step", |b| b.iter(|| client.step(from)));
    group.finish();
}

/// Alternates half-second slices of each loop and reports the ratio of
/// their per-operation times, so machine noise hits both alike.
fn side_by_side(slices: u32, slice: Duration) {
    let f = fixture();
    let mut bare = Bare::new(&f);
    let mut client = harness_client(&f);
    let from = Instant::now();
    let (mut bare_ops, mut bare_time, mut ours_ops, mut ours_time) = (0u64, Duration::ZERO, 0u64, Duration::ZERO);
    for _ in 0..slices {
        let t = Instant::now();
        while t.elapsed() < slice {
            for _ in 0..100 {
                bare.lookup();
            }
            bare_ops += 100;
        }
        bare_time += t.elapsed();
        let t = Instant::now();
        while t.elapsed() < slice {
            for _ in 0..100 {
                client.step(from);
            }
            ours_ops += 100;
        }
        ours_time += t.elapsed();
    }
    let per = |d: Duration, n: u64| d.as_nanos() as f64 / n as f64;
    let (b, o) = (per(bare_time, bare_ops), per(ours_time, ours_ops));
    println!(
        "side by side, {slices} alternating slices of {slice:?}: bare {b:.0} ns/op, schemabench {o:.0} ns/op, ratio {:.3}× (target ≤ 1.15×)",
        o / b
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // `cargo test --benches` passes no `--bench`: keep the smoke run short.
    if std::env::args().any(|a| a == "--bench") {
        side_by_side(10, Duration::from_millis(500));
    } else {
        side_by_side(2, Duration::from_millis(50));
    }
}
