//! Per-operation criterion benchmarks: for every scenario, every operation of
//! its mix on every variant, one client, with criterion's statistics,
//! baselines (`--save-baseline`, `--baseline`) and HTML reports. IDs are
//! `scenario/op/variant` (with `@postgres` when a scenario runs on both
//! engines), so criterion compares the same operation across runs.
//! PostgreSQL scenarios run when a server can be provisioned and are skipped
//! with one line otherwise. `cargo bench --bench operations [-- FILTER]`.

use criterion::Criterion;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use schemabench::backend::{self, BackendKind};
use schemabench::provision::{self, Request};
use schemabench::run::{self, RunOptions, plan};
use schemabench::scenario::{Document, load_any, toml_files};
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

fn benches(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // `cargo test --benches` (no `--bench`) runs every benchmark once to prove
    // it works: at each scenario's small `[quick]` scale, not its full one.
    let options = RunOptions {
        quick: !std::env::args().any(|a| a == "--bench"),
        ..RunOptions::default()
    };
    let postgres_missing = provision::unavailable(&Request::default());
    for path in toml_files(&root.join("scenarios")).expect("scenarios/ is readable") {
        let Ok(Document::Scenario(scenario)) = load_any(&path) else {
            continue;
        };
        let plan = plan(&scenario, &options).expect("shipped scenarios plan");
        let both = scenario.backends.len() > 1;
        for &kind in &scenario.backends {
            if kind == BackendKind::Postgres
                && let Some(reason) = &postgres_missing
            {
                println!("skipped {} on postgres: not available here ({reason})", scenario.name);
                continue;
            }
            let mut engine = backend::open(kind, &run::engine_options(&plan, &options)).expect("engine starts");
            run::load_bases(engine.as_mut(), &plan, kind, &run::Silent, &AtomicBool::new(false)).expect("loads");
            let targets: Vec<_> = plan.targets_on(kind).collect();
            for t in &targets {
                engine
                    .create_variant_from(&t.name, &t.base, &t.setup)
                    .expect("variant setup");
            }
            let mut group = c.benchmark_group(scenario.name.as_str());
            group
                .sample_size(10)
                .warm_up_time(Duration::from_millis(300))
                .measurement_time(Duration::from_millis(600));
            for op in plan.mix.ops() {
                for t in &targets {
                    let suffix = if both { format!("@{kind}") } else { String::new() };
                    let id = format!("{}/{}{suffix}", scenario.op_name(op), t.name);
                    let mut session = engine
                        .open_session(&t.name, &t.session_options(&plan))
                        .expect("session");
                    let mut rng = ChaCha8Rng::seed_from_u64(plan.seed);
                    let mut n = 0u64;
                    group.bench_function(id, |b| {
                        b.iter(|| {
                            let params = plan.sample_params(op, &mut rng, n);
                            n += 1;
                            session.execute(&t.ops[op], &params)
                        })
                    });
                }
            }
            group.finish();
        }
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
}
