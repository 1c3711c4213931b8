//! Recall against a real PostgreSQL with pgvector, at small scale: the
//! harness regenerates the loaded vectors, computes the exact neighbours and
//! the recall of the server's answers; the test computes the same recall
//! independently (every distance, sorted, ann-benchmarks' threshold) and
//! they agree to 0.001. Exact search has recall 1; HNSW built and searched
//! with small parameters (a hard set) has recall in (0, 1).

mod common;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use schemabench::backend::postgres::PostgresEngine;
use schemabench::backend::{BackendKind, BaseSpec, Engine};
use schemabench::datagen::{TablePlan, Value};
use schemabench::provision::{self, Choice, Request, Server};
use schemabench::run::neighbours::Dataset;
use schemabench::scenario::{bind, load_workload};
use schemabench::vectors::{Distance, VectorSet};

const SEED: u64 = 1;
const QUERIES: usize = 60;

fn literal(v: &[f32]) -> String {
    let items: Vec<String> = v.iter().map(|x| format!("{x:?}")).collect();
    format!("'[{}]'", items.join(","))
}

/// Every row of the table as generated: key, category, embedding.
fn generated_rows(table: &TablePlan) -> Vec<(i64, i64, Vec<f32>)> {
    let mut rows = Vec::new();
    for c in 0..table.chunk_count() {
        let chunk = table.chunk(SEED, c);
        let at = |name: &str| table.columns.iter().position(|c| c.name == name).unwrap();
        let (id, cat, emb) = (at("id"), at("category"), at("embedding"));
        for i in 0..chunk.len() {
            let (Value::Int(k), Value::Int(c), Value::Vector(v)) =
                (&chunk.columns[id][i], &chunk.columns[cat][i], &chunk.columns[emb][i])
            else {
                panic!("unexpected column values");
            };
            rows.push((*k, *c, v.clone()));
        }
    }
    rows
}

/// Recall as ann-benchmarks computes it, from nothing but the generated
/// rows: every distance to the query, sorted; a returned key is a hit when
/// its distance is within the k-th plus 1e-3.
fn brute_force_recall(
    rows: &[(i64, i64, Vec<f32>)],
    query: &[f32],
    category: Option<i64>,
    returned: &[i64],
    k: usize,
) -> f64 {
    let l2 = |v: &[f32]| v.iter().zip(query).map(|(a, b)| (a - b) * (a - b)).sum::<f32>().sqrt();
    let kept: Vec<&(i64, i64, Vec<f32>)> = rows.iter().filter(|r| category.is_none_or(|c| c == r.1)).collect();
    let mut all: Vec<f32> = kept.iter().map(|r| l2(&r.2)).collect();
    all.sort_by(f32::total_cmp);
    let threshold = all[k.min(all.len()) - 1] + 1e-3;
    let by_id: std::collections::HashMap<i64, &Vec<f32>> = kept.iter().map(|r| (r.0, &r.2)).collect();
    let hits = returned
        .iter()
        .take(k)
        .filter(|id| by_id.get(id).is_some_and(|v| l2(v) <= threshold))
        .count();
    hits as f64 / k.min(all.len()) as f64
}

#[test]
fn recall_of_exact_and_hnsw_search_matches_an_independent_brute_force() {
    let Some(bins) = provision::local::find_binaries() else {
        panic!("no PostgreSQL binaries (scripts/install-backends.sh installs them)");
    };
    let cluster = provision::local::LocalCluster::start(&bins, &Request::default()).expect("a cluster starts");
    let endpoint = cluster.endpoint().clone();
    let workload = load_workload(&common::root().join("workloads/embeddings.toml")).unwrap();
    let mut params = workload.params.clone();
    params.insert("docs".into(), 4000.0);
    let bound = bind(&workload, &params).unwrap();
    let mut engine = PostgresEngine::start(&Request {
        choice: Choice::Url,
        url: Some(format!("postgres://postgres@127.0.0.1:{}/postgres", endpoint.port())),
        ..Request::default()
    })
    .unwrap();
    engine
        .load_base(
            &BaseSpec::for_workload(&workload, BackendKind::Postgres),
            &bound.tables,
            SEED,
            &|_| {},
        )
        .unwrap();
    let mut admin = endpoint.connect("postgres").unwrap();
    let base = admin
        .simple_query("SELECT datname FROM pg_database WHERE datname LIKE 'schemabench%base'")
        .unwrap()[0][0]
        .clone()
        .unwrap();
    let mut db = endpoint.connect(&base).unwrap();

    // Queries drawn as the operations draw them: `nearest_in_category`'s
    // parameters, a vector and a category.
    let op = workload
        .ops
        .iter()
        .position(|o| o.name == "nearest_in_category")
        .unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let mut queries = VectorSet::new(128);
    let mut categories = Vec::new();
    for _ in 0..QUERIES {
        let Value::Vector(v) = bound.op_params[op][0].sample(&mut rng, 0) else {
            panic!()
        };
        queries.push(&v);
        categories.push(bound.op_params[op][1].sample(&mut rng, 0));
    }
    let table = &bound.tables[0];
    let generated = generated_rows(table);
    let cache = tempfile::tempdir().unwrap();
    let check = |db: &mut schemabench::pgwire::Wire, filtered: bool| -> (f64, f64) {
        // The workload's own declarations: `nearest` and, filtered by
        // category, `nearest_in_category`.
        let name = if filtered { "nearest_in_category" } else { "nearest" };
        let spec = workload
            .ops
            .iter()
            .find(|o| o.name == name)
            .unwrap()
            .neighbours
            .clone()
            .unwrap();
        assert_eq!((spec.distance, spec.k), (Distance::L2, 10));
        let data = Dataset::regenerate(table, &spec, SEED).unwrap();
        let filters = filtered.then_some(&categories[..]);
        let truth = data.ground_truth(&spec, &queries, filters, Some(cache.path()));
        let mut answers = Vec::new();
        let mut independent = Vec::new();
        for (q, category) in categories.iter().enumerate() {
            let Value::Int(cat) = *category else { panic!() };
            let filter = if filtered {
                format!("WHERE category = {cat}")
            } else {
                String::new()
            };
            let rows = db
                .simple_query(&format!(
                    "SELECT id FROM docs {filter} ORDER BY embedding <-> {} LIMIT 10",
                    literal(queries.row(q))
                ))
                .unwrap();
            let keys: Vec<i64> = rows.iter().map(|r| r[0].as_deref().unwrap().parse().unwrap()).collect();
            independent.push(brute_force_recall(
                &generated,
                queries.row(q),
                filtered.then_some(cat),
                &keys,
                10,
            ));
            answers.push(keys);
        }
        let harness = data.recall(&spec, &queries, &truth, &answers);
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        (mean(&harness), mean(&independent))
    };

    // Exact search: a sequential scan sorts every distance.
    for filtered in [false, true] {
        let (harness, independent) = check(&mut db, filtered);
        assert_eq!(harness, 1.0, "exact search, filtered: {filtered}");
        assert_eq!(independent, 1.0);
    }

    // HNSW with a small graph and a small search list misses neighbours.
    db.batch("CREATE INDEX docs_hnsw ON docs USING hnsw (embedding vector_l2_ops) WITH (m = 4, ef_construction = 8)")
        .unwrap();
    db.batch("SET hnsw.ef_search = 10").unwrap();
    db.batch("SET enable_seqscan = off").unwrap();
    let (harness, independent) = check(&mut db, false);
    eprintln!("HNSW m=4, ef_construction=8, ef_search=10: recall {harness:.4} (independent {independent:.4})");
    assert!((harness - independent).abs() <= 0.001, "{harness} vs {independent}");
    assert!(harness > 0.0 && harness < 1.0, "{harness}");
    // Filtered after the index: few of the 10 candidates are in the category.
    let (harness, independent) = check(&mut db, true);
    eprintln!("filtered HNSW: recall {harness:.4} (independent {independent:.4})");
    assert!((harness - independent).abs() <= 0.001, "{harness} vs {independent}");
    assert!(harness < 1.0, "{harness}");

    // The truth was computed once per query set and filter, then cached.
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 2);
}

/// Runs a scenario on the embeddings workload (3,000 documents, one client,
/// two 300 ms rounds, a local cluster) whose mix, variants and verdict are
/// `body`: its exit code, terminal output, result.json and run folder.
fn run_embeddings(
    body: &str,
) -> (
    Option<i32>,
    String,
    serde_json::Value,
    tempfile::TempDir,
    std::path::PathBuf,
) {
    let run = common::run_postgres(
        "embeddings.toml",
        &format!(
            r#"[params]
docs = 3000
[load]
clients = 1
warmup = "100ms"
duration = "300ms"
rounds = 2
{body}"#
        ),
    );
    (run.code, run.text, run.result, run.dir, run.folder)
}

/// A run: recall per round beside latency, exact search at 1.0, an
/// approximate variant judged by recall (and failing a recall guard), and a
/// variant that misses neighbours without being declared approximate ruled
/// out as a wrong answer.
#[test]
fn a_run_reports_recall_per_variant_and_rules_out_undeclared_approximation() {
    let hnsw = r#"setup = ["CREATE INDEX docs_hnsw ON docs USING hnsw (embedding vector_l2_ops) WITH (m = 4, ef_construction = 8)"]
session = ["SET hnsw.ef_search = 10", "SET enable_seqscan = off"]"#;
    let (code, stdout, result, _dir, folder) = run_embeddings(&format!(
        r#"[mix]
nearest = 8
nearest_in_category = 1
add_document = 1
[[variant]]
name = "exact"
[[variant]]
name = "hnsw"
approximate = true
{hnsw}
[[variant]]
name = "hnsw_undeclared"
{hnsw}
[verdict]
baseline = "exact"
goal = {{ op = "nearest", metric = "p99" }}
guards = [{{ op = "nearest", metric = "recall", min = 0.95 }}]"#
    ));
    // Differing answers (the undeclared variant) exit 1.
    assert_eq!(code, Some(1), "{stdout}");
    let b = &result["backends"][0];
    let recall = |variant: &str| {
        let v = b["variants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == variant)
            .unwrap();
        v["ops"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["op"] == "nearest")
            .unwrap()["recall"]
            .clone()
    };
    let exact = recall("exact");
    assert_eq!(exact["mean"], 1.0, "{exact}");
    assert_eq!(exact["rounds"].as_array().unwrap().len(), 2);
    let approx = recall("hnsw");
    let mean = approx["mean"].as_f64().unwrap();
    assert!(mean > 0.0 && mean < 0.95, "{approx}");
    assert!(approx["interval"].is_array(), "two rounds give an interval: {approx}");
    // The answer check judged `nearest` by recall, not row by row.
    assert_eq!(
        b["answers"]["recall_ops"],
        serde_json::json!(["nearest", "nearest_in_category"])
    );
    let mismatches = b["answers"]["mismatches"].as_array().unwrap();
    assert!(
        mismatches.iter().all(|m| m["variant"] == "hnsw_undeclared"),
        "{mismatches:?}"
    );
    // The filtered search's plan says the filter comes after the index.
    let hnsw = b["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "hnsw")
        .unwrap();
    let filtered = hnsw["plans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["op"] == "nearest_in_category")
        .unwrap();
    let summary = filtered["steps"][0]["summary"].as_str().unwrap();
    assert!(
        summary.contains("Index Scan using docs_hnsw on docs [filter after the index: "),
        "{summary}"
    );
    assert!(!mismatches.is_empty());
    // The recall guard fails the approximate variant; the report says so.
    assert!(stdout.contains("nearest recall"), "{stdout}");
    assert!(stdout.contains("FAIL"), "{stdout}");
    let report = std::fs::read_to_string(folder.join("report.md")).unwrap();
    assert!(report.contains("`hnsw` recall@10"), "{report}");
    let html = std::fs::read_to_string(folder.join("report.html")).unwrap();
    assert!(html.contains("recall against p99"), "the recall chart is drawn");
}

/// A sweep of `hnsw.ef_search`: one variant per value, recall rising with
/// the search list (within noise), and the report naming the best value
/// that passes the recall guard.
#[test]
fn a_sweep_of_ef_search_draws_recall_rising_with_the_search_list() {
    let (code, stdout, result, _dir, folder) = run_embeddings(
        r#"[mix]
nearest = 1
[[variant]]
name = "exact"
[[variant]]
name = "hnsw"
approximate = true
setup = ["CREATE INDEX docs_hnsw ON docs USING hnsw (embedding vector_l2_ops) WITH (m = 8, ef_construction = 32)"]
session = ["SET enable_seqscan = off"]
sweep = { "hnsw.ef_search" = [10, 20, 200] }
[verdict]
baseline = "exact"
goal = { op = "nearest", metric = "p99" }
guards = [{ op = "nearest", metric = "recall", min = 0.9 }]"#,
    );
    assert_eq!(code, Some(0), "{stdout}");
    let variants = result["backends"][0]["variants"].as_array().unwrap();
    let names: Vec<&str> = variants.iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["exact", "hnsw-ef_search-10", "hnsw-ef_search-20", "hnsw-ef_search-200"]
    );
    let recalls: Vec<f64> = variants[1..]
        .iter()
        .map(|v| v["ops"][0]["recall"]["mean"].as_f64().unwrap())
        .collect();
    eprintln!("recall at ef_search 10, 20, 200: {recalls:?}");
    // More candidates searched never finds fewer neighbours, beyond noise.
    for pair in recalls.windows(2) {
        assert!(pair[1] >= pair[0] - 0.02, "{recalls:?}");
    }
    assert!(recalls[2] > recalls[0], "{recalls:?}");
    let summary = &result["scenario"]["variants"][3]["sweep"];
    assert_eq!(summary["setting"], "hnsw.ef_search");
    assert_eq!(summary["value"], "200");
    let report = std::fs::read_to_string(folder.join("report.md")).unwrap();
    let line = report
        .lines()
        .find(|l| l.contains("sweep of hnsw over hnsw.ef_search"))
        .expect(&report)
        .to_string();
    eprintln!("{line}");
    assert!(line.contains("10 → ") && line.contains("200 → "), "{line}");
    assert!(
        line.contains("the best value that passes every guard") || line.contains("no value passes"),
        "{line}"
    );
}

/// Vectors brought in files: a table loaded from `base.fvecs` and queries
/// from a held-out `queries.fvecs` give the ground truth a brute force over
/// the files themselves gives.
#[test]
fn a_dataset_from_files_has_the_ground_truth_of_a_brute_force_over_the_files() {
    use rand::RngExt;
    let dir = tempfile::tempdir().unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut vecs =
        |n: usize| -> Vec<Vec<f32>> { (0..n).map(|_| (0..16).map(|_| rng.random::<f32>()).collect()).collect() };
    let (base, queries) = (vecs(500), vecs(20));
    let write = |name: &str, rows: &[Vec<f32>]| {
        let bytes: Vec<u8> = rows
            .iter()
            .flat_map(|r| {
                (r.len() as i32)
                    .to_le_bytes()
                    .into_iter()
                    .chain(r.iter().flat_map(|x| x.to_le_bytes()))
            })
            .collect();
        std::fs::write(dir.path().join(name), bytes).unwrap();
    };
    write("base.fvecs", &base);
    write("queries.fvecs", &queries);
    let workload = dir.path().join("files.toml");
    std::fs::write(
        &workload,
        r#"name = "files"
[schema]
postgres = ["CREATE TABLE docs (id bigint PRIMARY KEY, embedding vector(16))"]
[[table]]
name = "docs"
rows = 500
columns.id = "seq"
columns.embedding = 'vector_file("base.fvecs")'
[[op]]
name = "nearest"
sql = "SELECT id FROM docs ORDER BY embedding <=> $1 LIMIT 5"
params = ['vector_file("queries.fvecs")']
[op.neighbours]
table = "docs"
column = "embedding"
k = 5
"#,
    )
    .unwrap();
    let w = load_workload(&workload).unwrap();
    let bound = bind(&w, &w.params).unwrap();
    let decl = w.ops[0].neighbours.clone().unwrap();
    assert_eq!(decl.distance, Distance::Cosine, "the distance comes from the SQL's <=>");
    assert!(!decl.approximate, "exact unless declared");
    let data = Dataset::regenerate(&bound.tables[0], &decl, SEED).unwrap();
    let query_set = schemabench::vectors::read_vectors(&dir.path().join("queries.fvecs")).unwrap();
    let truth = data.ground_truth(&decl, &query_set, None, None);
    let cosine = |a: &[f32], b: &[f32]| {
        let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        1.0 - dot / (norm(a) * norm(b))
    };
    for (q, query) in queries.iter().enumerate() {
        let mut all: Vec<(f32, usize)> = base.iter().enumerate().map(|(i, b)| (cosine(query, b), i)).collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let want: Vec<usize> = all.iter().take(5).map(|x| x.1).collect();
        let got: Vec<usize> = truth[q].iter().map(|n| n.row as usize).collect();
        assert_eq!(got, want, "query {q}");
    }
}
