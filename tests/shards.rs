//! Sharded runs on one machine: three `run --shard K/3` processes against
//! one local cluster, merged with `schemabench merge`. The merged counts are
//! the shards' sums, its percentiles those of one histogram of every
//! shard's samples, the shards' windows start together, the open loop's
//! arrivals are the one schedule's, and shards that do not belong together are
//! refused with what differs.

mod common;

use common::{bin, printed, root};
use schemabench::provision::{Request, Server, local};
use schemabench::record::decode_histogram;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Two identical variants on PostgreSQL, an open loop of 12 clients at
/// `rate` per second over two rounds.
fn scenario(dir: &Path, rate: u32) -> PathBuf {
    let path = dir.join("sharded.toml");
    std::fs::write(
        &path,
        format!(
            r#"name = "sharded"
question = "q"
workload = "{}"
backends = ["postgres"]
[params]
users = 200
orders = 2000
[load]
clients = 12
rate = {rate}
warmup = "300ms"
duration = "2s"
rounds = 2
[mix]
order_by_id = 4
place_order = 1
[[variant]]
name = "a"
[[variant]]
name = "b"
[verdict]
baseline = "a"
goal = {{ op = "order_by_id", metric = "p99" }}
"#,
            root().join("workloads/orders.toml").display()
        ),
    )
    .unwrap();
    path
}

fn result(folder: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(folder.join("result.json")).unwrap()).unwrap()
}

fn only_folder(dir: &Path) -> PathBuf {
    let folders: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    assert_eq!(folders.len(), 1, "{folders:?}");
    folders[0].clone()
}

/// Runs shards 1..=3 at once; returns their run folders.
fn run_shards(dir: &Path, scenario: &Path, url: &str, key: &str) -> Vec<PathBuf> {
    let children: Vec<_> = (1..=3)
        .map(|k| {
            let out = dir.join(format!("shard{k}"));
            let child = bin()
                .args(["run", "--quiet", "--postgres-url", url, "--run-key", key])
                .arg("--shard")
                .arg(format!("{k}/3"))
                .arg("--out")
                .arg(&out)
                .arg(scenario)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            (out, child)
        })
        .collect();
    children
        .into_iter()
        .map(|(out, child)| {
            let o = child.wait_with_output().unwrap();
            // A shard alone is not fit for decisions: the run exits 0 with
            // the reason in its result.
            assert_eq!(o.status.code(), Some(0), "{}", printed(&o));
            only_folder(&out)
        })
        .collect()
}

fn op<'a>(r: &'a Value, variant: &str, op: &str) -> &'a Value {
    let v = r["backends"][0]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == variant)
        .unwrap();
    v["ops"].as_array().unwrap().iter().find(|o| o["op"] == op).unwrap()
}

#[test]
fn three_shards_merge_exactly_into_one_run_that_shares_its_windows_and_its_schedule() {
    let bins = local::find_binaries().expect("PostgreSQL binaries");
    // Commits that do not wait for the WAL flush: this machine's fsync
    // stalls (up to a second) make any open loop late, sharded or not.
    let request = Request {
        settings: vec![("synchronous_commit".into(), "off".into())],
        ..Request::default()
    };
    let cluster = local::LocalCluster::start(&bins, &request).unwrap();
    let url = format!("postgres://postgres@127.0.0.1:{}/postgres", cluster.endpoint().port());
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario(dir.path(), 300);
    let shards = run_shards(dir.path(), &scenario, &url, "merge-test");

    let shard_results: Vec<Value> = shards.iter().map(|f| result(f)).collect();
    for (k, r) in shard_results.iter().enumerate() {
        assert_eq!(r["run"]["shard"]["index"], k as u64 + 1);
        assert_eq!(r["run"]["fit_for_decisions"], false, "a shard alone decides nothing");
    }
    let merged_dir = dir.path().join("merged");
    let out = bin()
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(&merged_dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", printed(&out));
    let merged = result(&only_folder(&merged_dir));
    assert_eq!(merged["run"]["complete"], true);
    assert_eq!(merged["run"]["fit_for_decisions"], true, "{}", merged["run"]);
    assert_eq!(merged["run"]["shard"]["count"], 3);

    for variant in ["a", "b"] {
        for name in ["order_by_id", "place_order"] {
            let m = op(&merged, variant, name);
            let parts: Vec<&Value> = shard_results.iter().map(|r| op(r, variant, name)).collect();
            let sum: u64 = parts.iter().map(|p| p["count"].as_u64().unwrap()).sum();
            assert_eq!(m["count"].as_u64().unwrap(), sum, "{variant} {name}");
            assert!(
                parts.iter().all(|p| p["count"].as_u64().unwrap() > 0),
                "every shard measured"
            );
            // Every shard's samples in one histogram.
            let mut all = schemabench::record::new_histogram();
            for p in &parts {
                all.add(decode_histogram(p["histogram"].as_str().unwrap()).unwrap())
                    .unwrap();
            }
            assert_eq!(all.len(), sum);
            for (q, key) in [(0.5, "p50"), (0.99, "p99"), (0.999, "p999")] {
                assert_eq!(
                    m["latency_ns"][key].as_u64().unwrap(),
                    all.value_at_quantile(q),
                    "{variant} {name} {key}"
                );
            }
            assert_eq!(m["latency_ns"]["max"].as_u64().unwrap(), all.max());
            // Rounds: per-second counts add up to the round's count.
            for round in m["rounds"].as_array().unwrap() {
                let per_second: u64 = round["per_second"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_u64().unwrap())
                    .sum();
                assert_eq!(per_second, round["count"].as_u64().unwrap());
            }
        }
    }
    // One window: every shard started within 50 ms of shard 1.
    let parts = merged["run"]["shard"]["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 3);
    for p in parts {
        let skew = p["start_skew_ms"].as_f64().unwrap();
        assert!(skew < 50.0, "shard {} started {skew} ms from shard 1", p["index"]);
    }
    // The combined open-loop schedule (300/s over three processes) is the
    // one schedule: every arrival scheduled once, across shards. How late
    // they start is a performance figure: `cargo bench --bench shards`
    // measures it against one process (< 1% late), not this test.
    for v in merged["backends"][0]["variants"].as_array().unwrap() {
        let scheduled = v["schedule"]["scheduled"].as_u64().unwrap() as f64;
        // 300/s × 2 s × 2 rounds, within the staggering of 12 clients.
        assert!(
            (scheduled - 1200.0).abs() <= 24.0,
            "{}: {scheduled} scheduled",
            v["name"]
        );
    }
    // The merged run renders and verifies like any run.
    let folder = only_folder(&merged_dir);
    let verify = bin().arg("verify").arg(&folder).output().unwrap();
    assert_eq!(verify.status.code(), Some(0), "{}", printed(&verify));
    let report = std::fs::read_to_string(folder.join("report.md")).unwrap();
    assert!(report.contains("Merged from 3 shards"), "{report}");
    // ... and is a baseline and a run to compare like any other.
    let baselines = dir.path().join("baselines");
    let save = bin()
        .args(["baseline", "save", "sharded"])
        .arg(&folder)
        .arg("--dir")
        .arg(&baselines)
        .output()
        .unwrap();
    assert_eq!(save.status.code(), Some(0), "{}", printed(&save));
    let compare = bin()
        .arg("compare")
        .arg(&folder)
        .args(["--baseline", "sharded", "--baselines"])
        .arg(&baselines)
        .output()
        .unwrap();
    assert_eq!(compare.status.code(), Some(0), "{}", printed(&compare));

    // Nothing left on the server: no barrier table, no schemabench database.
    let mut admin = cluster.endpoint().connect("postgres").unwrap();
    let left = admin
        .simple_query(
            "SELECT count(*) FROM pg_class WHERE relname LIKE 'schemabench_barrier%' UNION ALL \
             SELECT count(*) FROM pg_database WHERE datname LIKE 'schemabench_%'",
        )
        .unwrap();
    assert_eq!(left[0][0].as_deref(), Some("0"));
    assert_eq!(left[1][0].as_deref(), Some("0"));

    // Shards that do not belong together are refused, naming the difference.
    let refused = bin()
        .arg("merge")
        .args(&shards[..2])
        .arg("--out")
        .arg(dir.path().join("refused"))
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        printed(&refused).contains("shard(s) 3 of 3 are missing"),
        "{}",
        printed(&refused)
    );
    let other_seed = dir.path().join("other-seed");
    std::fs::create_dir(&other_seed).unwrap();
    let mut third = result(&shards[2]);
    third["seed"] = 99.into();
    std::fs::write(other_seed.join("result.json"), third.to_string()).unwrap();
    let differs = bin()
        .arg("merge")
        .args([&shards[0], &shards[1], &other_seed])
        .output()
        .unwrap();
    assert_eq!(differs.status.code(), Some(2));
    assert!(printed(&differs).contains("seed: 1 → 99"), "{}", printed(&differs));
    let twice = bin()
        .arg("merge")
        .args([&shards[0], &shards[1], &shards[1]])
        .output()
        .unwrap();
    assert_eq!(twice.status.code(), Some(2));
    assert!(
        printed(&twice).contains("shard 2 of 3 is given twice"),
        "{}",
        printed(&twice)
    );
}

#[test]
fn a_shard_without_a_url_or_with_too_few_clients_is_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = scenario(dir.path(), 300);
    let no_url = bin()
        .args(["run", "--shard", "1/2", "--run-key", "k"])
        .arg(&scenario)
        .env_remove("SCHEMABENCH_POSTGRES_URL")
        .output()
        .unwrap();
    assert_eq!(no_url.status.code(), Some(2));
    assert!(
        printed(&no_url).contains("--shard 1/2: shards measure one server"),
        "{}",
        printed(&no_url)
    );
    let few = bin()
        .args([
            "run",
            "--shard",
            "1/16",
            "--run-key",
            "k",
            "--postgres-url",
            "postgres://u@127.0.0.1:1/db",
        ])
        .arg(&scenario)
        .output()
        .unwrap();
    assert_eq!(few.status.code(), Some(2));
    assert!(
        printed(&few).contains("12 client(s) cannot be shared by 16 shards"),
        "{}",
        printed(&few)
    );
    let no_key = bin().args(["run", "--shard", "1/2"]).arg(&scenario).output().unwrap();
    assert_eq!(no_key.status.code(), Some(2));
    assert!(printed(&no_key).contains("--run-key"), "{}", printed(&no_key));
}
