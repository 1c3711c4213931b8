//! What a run folder gives other tools and readers: operations.csv with a
//! row per backend × variant × operation, HdrHistogram interval logs that
//! decode to the recorded counts, and a report.md that starts with the
//! verdict and says how to reproduce the run.

mod common;

use common::{bin, root};

/// A run folder re-rendered from a committed result.
fn folder() -> (tempfile::TempDir, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let fixture = root().join("tests/fixtures/quickstart_smoke.json");
    std::fs::copy(&fixture, dir.path().join("result.json")).unwrap();
    let out = bin().arg("report").arg(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let result = serde_json::from_slice(&std::fs::read(fixture).unwrap()).unwrap();
    (dir, result)
}

#[test]
fn operations_csv_has_a_row_per_variant_and_operation_with_ratios() {
    let (dir, result) = folder();
    let csv = std::fs::read_to_string(dir.path().join("operations.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let variants = result["backends"][0]["variants"].as_array().unwrap();
    let ops = variants[0]["ops"].as_array().unwrap().len();
    assert_eq!(rows.len(), variants.len() * ops);
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let baseline = result["scenario"]["verdict_rule"]["baseline"].as_str().unwrap();
    for row in &rows {
        assert_eq!(row.len(), header.len());
        let v = variants.iter().find(|v| v["name"] == row[col("variant")]).unwrap();
        let o = v["ops"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["op"] == row[col("op")])
            .unwrap();
        assert_eq!(row[col("ops")], o["count"].to_string());
        assert_eq!(row[col("p99_ns")], o["latency_ns"]["p99"].to_string());
        // Ratios for every variant but the baseline.
        let ratio = row[col("p99_ratio")];
        if row[col("variant")] == baseline {
            assert!(ratio.is_empty());
        } else {
            let r: f64 = ratio.parse().unwrap();
            assert!(r > 0.0 && !row[col("p99_class")].is_empty());
        }
    }
}

#[test]
fn each_hlog_decodes_to_the_operations_recorded() {
    let (dir, result) = folder();
    let logs: Vec<_> = std::fs::read_dir(dir.path().join("hlog"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let b = &result["backends"][0];
    let expected: usize = b["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["ops"].as_array().unwrap().len())
        .sum();
    assert_eq!(logs.len(), expected);
    for log in logs {
        let bytes = std::fs::read(&log).unwrap();
        let name = log.file_stem().unwrap().to_string_lossy().into_owned();
        let (variant, op) = b["variants"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|v| v["ops"].as_array().unwrap().iter().map(move |o| (v, o)))
            .find(|(v, o)| name == format!("sqlite-{}-{}", v["name"].as_str().unwrap(), o["op"].as_str().unwrap()))
            .unwrap_or_else(|| panic!("{name} names no variant and operation"));
        let mut intervals = 0;
        for entry in hdrhistogram::serialization::interval_log::IntervalLogIterator::new(&bytes) {
            if let Ok(hdrhistogram::serialization::interval_log::LogEntry::Interval(i)) = entry {
                intervals += 1;
                let raw =
                    base64::Engine::decode(&base64::engine::general_purpose::STANDARD, i.encoded_histogram()).unwrap();
                let h: hdrhistogram::Histogram<u64> = hdrhistogram::serialization::Deserializer::new()
                    .deserialize(&mut raw.as_slice())
                    .unwrap();
                assert_eq!(h.len(), op["count"].as_u64().unwrap(), "{name}");
                assert_eq!(i.tag().map(|t| t.as_str()), op["op"].as_str());
            }
        }
        assert_eq!(intervals, 1, "{name} ({})", variant["name"]);
    }
}

#[test]
fn report_md_starts_with_the_verdict_and_says_how_to_reproduce_the_run() {
    let (dir, result) = folder();
    let md = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
    let verdict = md.find("## Verdict").unwrap();
    let operations = md.find("## Operations").unwrap();
    assert!(verdict < operations);
    let line = md
        .lines()
        .find(|l| l.starts_with("Reproduce ("))
        .expect("a reproduction line");
    assert!(line.contains(&format!("--seed {}", result["seed"])), "{line}");
    assert!(
        line.contains(&format!("--order-seed {}", result["order_seed"])),
        "{line}"
    );
    assert!(line.contains("--param orders=") && line.contains("--quick"), "{line}");
    assert!(
        line.contains(result["backends"][0]["version"].as_str().unwrap()),
        "{line}"
    );
    assert!(md.contains("<details><summary>Plans"), "plans collapsed");
}
