//! Bulk load into SQLite: rows per second for a generated 4-column table
//! (sequence key, zipf integer, decimal, timestamp), as the runner loads it.
//! `cargo bench --bench sqlite_load`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use schemabench::backend::Engine;
use schemabench::backend::sqlite::SqliteEngine;
use schemabench::scenario::{bind, load_workload};

const ROWS: u64 = 500_000;

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("load.toml");
    std::fs::write(
        &path,
        format!(
            r#"name = "load"
[params]
rows = {ROWS}
[schema]
sqlite = ["CREATE TABLE t (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, total NUMERIC NOT NULL, created_at TEXT NOT NULL)"]
[[table]]
name = "t"
rows = "rows"
columns.id = "seq"
columns.user_id = "zipf(1, 10_000, 1.07)"
columns.total = "decimal(5, 500, 2)"
columns.created_at = "timestamp(2023-01-01, 2025-01-01)"
[[op]]
name = "get"
sql = "SELECT * FROM t WHERE id = $1"
params = ["uniform(1, rows)"]
"#
        ),
    )
    .unwrap();
    let workload = load_workload(&path).unwrap();
    let tables = bind(&workload, &workload.params).unwrap().tables;
    let spec = schemabench::backend::BaseSpec::for_workload(&workload, schemabench::backend::BackendKind::Sqlite);
    let mut group = c.benchmark_group("sqlite_load");
    group.sample_size(10).throughput(Throughput::Elements(ROWS));
    group.bench_function("4_columns", |b| {
        b.iter(|| {
            let mut engine = SqliteEngine::new(Some(dir.path())).unwrap();
            let loads = engine.load_base(&spec, &tables, 1, &|_| {}).unwrap();
            assert_eq!(loads[0].rows, ROWS);
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
