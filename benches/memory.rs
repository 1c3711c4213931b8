//! Harness memory against run length: the same quick quickstart run with a
//! 1 s and a 10 s measured window, in separate processes.
//! Peak RSS must not follow the number of operations (histograms, not sample
//! vectors). `cargo bench --bench memory`.

use std::process::Command;

fn run(duration: &str, out: &std::path::Path) -> (u64, u64) {
    let output = Command::new(env!("CARGO_BIN_EXE_schemabench"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "run",
            "scenarios/quickstart.toml",
            "--quick",
            "--json",
            "--warmup",
            "100ms",
            "--duration",
            duration,
            // Memory against window length; the guards' equal-load phase
            // would only double the time.
            "--equal-load",
            "off",
        ])
        .arg("--out")
        .arg(out)
        .output()
        .expect("runs schemabench");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON result");
    let ops: u64 = result["backends"][0]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|v| {
            v["ops"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["count"].as_u64().unwrap())
        })
        .sum();
    (ops, result["run"]["peak_rss_bytes"].as_u64().unwrap_or(0))
}

mod common;

fn main() {
    if !common::should_run("memory/run_length") {
        return;
    }
    let bench = std::env::args().any(|a| a == "--bench");
    let (short, long) = if bench { ("1s", "10s") } else { ("200ms", "400ms") };
    let out = tempfile::tempdir().unwrap();
    let (short_ops, short_rss) = run(short, out.path());
    let (long_ops, long_rss) = run(long, out.path());
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!(
        "memory/run_length   {short:>6}: {short_ops:>9} ops, peak RSS {:.1} MiB",
        mib(short_rss)
    );
    println!(
        "memory/run_length   {long:>6}: {long_ops:>9} ops, peak RSS {:.1} MiB",
        mib(long_rss)
    );
    println!(
        "memory/run_length   {:.1}× the operations, {:+.1} MiB peak RSS ({:.3}×)",
        long_ops as f64 / short_ops.max(1) as f64,
        mib(long_rss) - mib(short_rss),
        long_rss as f64 / short_rss.max(1) as f64
    );
}
