//! Sharded runs on one throwaway cluster (docs/scale-out.md):
//!
//! 1. `shards/open_loop`: one process at an open-loop rate against three
//!    `--shard K/3` processes sharing the same rate and clients, in
//!    alternating pairs: late operations (target < 1%) and the p99 of the
//!    three merged against the one process's (the same within noise).
//! 2. `shards/merge_64`: `schemabench merge`'s work for 64 shard results of
//!    a 10-minute run (target < 2 s): one shard's real result stretched to
//!    ten minutes of per-second timelines and rounds with wide histograms,
//!    64 copies read from JSON and merged.
//!
//! `cargo bench --bench shards`; `cargo test --benches`: one short pair and
//! 8 shards.

mod common;

use schemabench::provision::{Request, Server, local};
use schemabench::record::{encode_histogram, new_histogram};
use schemabench::result::RunResult;
use schemabench::result::merge::{ShardResult, merge};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn scenario(dir: &Path, rate: u32, duration: &str) -> PathBuf {
    let path = dir.join("s.toml");
    std::fs::write(
        &path,
        format!(
            r#"name = "shards"
question = "q"
workload = "{}"
backends = ["postgres"]
[params]
users = 1000
orders = 20000
[load]
clients = 12
rate = {rate}
warmup = "1s"
duration = "{duration}"
rounds = 1
[mix]
order_by_id = 1
[[variant]]
name = "a"
[verdict]
baseline = "a"
goal = {{ op = "order_by_id", metric = "p99" }}
"#,
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("workloads/orders.toml")
                .display()
        ),
    )
    .unwrap();
    path
}

fn folder_in(dir: &Path) -> PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir() && !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .unwrap()
}

fn read(folder: &Path) -> RunResult {
    RunResult::from_json(&std::fs::read_to_string(folder.join("result.json")).unwrap()).unwrap()
}

fn run(args: &[&str], scenario: &Path, out: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_schemabench"))
        .args(["run", "--quiet", "--out"])
        .arg(out)
        .args(args)
        .arg(scenario)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// (late fraction, p99 ns) of the one variant's read.
fn figures(r: &RunResult) -> (f64, u64) {
    let v = &r.backends[0].variants[0];
    (v.schedule.as_ref().unwrap().late_fraction, v.ops[0].latency_ns.p99)
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let mut template = None;
    if common::should_run("shards/open_loop") {
        template = Some(open_loop(bench));
    }
    if common::should_run("shards/merge_64") {
        merge_64(bench, template);
    }
}

/// One process against three shards at one rate; returns a shard result.
fn open_loop(bench: bool) -> RunResult {
    let bins = local::find_binaries().expect("PostgreSQL binaries");
    let cluster = local::LocalCluster::start(&bins, &Request::default()).unwrap();
    let url = format!("postgres://postgres@127.0.0.1:{}/postgres", cluster.endpoint().port());
    let dir = tempfile::tempdir().unwrap();
    let (rate, duration, pairs) = if bench { (3000, "10s", 3) } else { (600, "1s", 1) };
    let scenario = scenario(dir.path(), rate, duration);
    let (mut ratios, mut template) = (Vec::new(), None);
    for pair in 0..pairs {
        let one_dir = dir.path().join(format!("one{pair}"));
        assert!(
            run(&["--postgres-url", &url], &scenario, &one_dir)
                .wait()
                .unwrap()
                .success()
        );
        let one = read(&folder_in(&one_dir));
        let key = format!("bench-{pair}");
        let children: Vec<(PathBuf, std::process::Child)> = (1..=3)
            .map(|k| {
                let out = dir.path().join(format!("pair{pair}-shard{k}"));
                let shard = format!("{k}/3");
                let child = run(
                    &["--postgres-url", &url, "--shard", &shard, "--run-key", &key],
                    &scenario,
                    &out,
                );
                (out, child)
            })
            .collect();
        let mut shards = Vec::new();
        for (out, mut child) in children {
            assert!(child.wait().unwrap().success());
            let folder = folder_in(&out);
            shards.push(ShardResult {
                run_id: folder.file_name().unwrap().to_string_lossy().into_owned(),
                result: read(&folder),
            });
        }
        template.get_or_insert_with(|| shards[0].result.clone());
        let merged = merge(shards, "merged").unwrap();
        let (late1, p99_1) = figures(&one);
        let (late3, p99_3) = figures(&merged);
        let skew = merged
            .run
            .shard
            .as_ref()
            .unwrap()
            .parts
            .iter()
            .map(|p| p.start_skew_ms)
            .fold(0.0, f64::max);
        println!(
            "shards/open_loop pair {}: {rate}/s over 12 clients — one process {:.2}% late, p99 {:.0} µs; 3 shards \
             {:.2}% late (target < 1%), p99 {:.0} µs; ratio {:.2}×; window starts within {skew:.1} ms",
            pair + 1,
            late1 * 100.0,
            p99_1 as f64 / 1e3,
            late3 * 100.0,
            p99_3 as f64 / 1e3,
            p99_3 as f64 / p99_1 as f64
        );
        ratios.push(p99_3 as f64 / p99_1 as f64);
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "shards/open_loop p99 of 3 shards / one process: median {:.2}× of {pairs} pair(s)",
        ratios[ratios.len() / 2]
    );
    template.expect("at least one pair")
}

/// 64 (8 outside `--bench`) shards of a 10-minute run merged from JSON.
fn merge_64(bench: bool, template: Option<RunResult>) {
    let Some(mut t) = template else {
        println!("shards/merge_64: needs shards/open_loop's shard result (run both)");
        return;
    };
    let n: u32 = if bench { 64 } else { 8 };
    // Ten minutes: two rounds of five minutes per variant.
    let (rounds, seconds) = (2usize, 300usize);
    // A wide histogram: 200,000 latencies from 50 µs to 2 s, log-spread.
    let mut wide = new_histogram();
    for i in 0..200_000u64 {
        let x = (i * 7919 % 200_000) as f64 / 200_000.0;
        wide.record((50_000.0 * (40_000f64).powf(x)) as u64).unwrap();
    }
    let wide = encode_histogram(&wide);
    for b in &mut t.backends {
        for v in &mut b.variants {
            v.rounds_completed = rounds;
            for o in &mut v.ops {
                let r0 = o.rounds[0].clone();
                o.rounds = (0..rounds)
                    .map(|_| {
                        let mut r = r0.clone();
                        r.per_second = vec![1000; seconds];
                        r.p99_per_second_ns = vec![5_000_000; seconds];
                        r.histogram = Some(wide.clone());
                        r
                    })
                    .collect();
                o.histogram = wide.clone();
            }
        }
    }
    let texts: Vec<String> = (1..=n)
        .map(|k| {
            let mut s = t.clone();
            let info = s.run.shard.as_mut().unwrap();
            info.index = Some(k);
            info.count = n;
            s.to_json()
        })
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    let start = Instant::now();
    let shards: Vec<ShardResult> = texts
        .iter()
        .enumerate()
        .map(|(k, text)| ShardResult {
            run_id: format!("shard{}", k + 1),
            result: RunResult::from_json(text).unwrap(),
        })
        .collect();
    let merged = merge(shards, "merged").unwrap();
    let took = start.elapsed();
    assert_eq!(
        merged.backends[0].variants[0].ops[0].rounds[0].count,
        t.backends[0].variants[0].ops[0].rounds[0].count * n as u64
    );
    println!(
        "shards/merge_{n}: {n} shard results of a 10-minute run ({:.1} MB of JSON) read and merged in {:.3} s \
         (target < 2 s for 64)",
        bytes as f64 / 1e6,
        took.as_secs_f64()
    );
}
