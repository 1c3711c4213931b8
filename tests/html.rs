//! report.html as a user receives it: one self-contained page whose verdict
//! comes first, with a chart per operation and per measure, and nothing
//! that would make a browser fetch anything.

mod common;

use common::{bin, root};

/// report.html rendered from a committed result (a two-variant quick run
/// with two operations), through `schemabench report --html --stdout`.
fn rendered() -> String {
    let dir = tempfile::tempdir().unwrap();
    let result = dir.path().join("result.json");
    std::fs::copy(root().join("tests/fixtures/quickstart_smoke.json"), &result).unwrap();
    let out = bin()
        .args(["report", "--html", "--stdout"])
        .arg(&result)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_page_puts_the_verdict_first_and_draws_every_chart() {
    let html = rendered();
    let result: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root().join("tests/fixtures/quickstart_smoke.json")).unwrap()).unwrap();
    let variants = result["backends"][0]["variants"].as_array().unwrap().len();
    let ops = result["scenario"]["mix"].as_array().unwrap().len();
    assert!(html.len() < 1_000_000, "{} bytes", html.len());
    let verdict = html.find("id=\"verdict\"").expect("a verdict box");
    let first_chart = html.find("<svg").expect("charts");
    assert!(verdict < first_chart, "the verdict comes before the charts");
    // Per operation a spectrum and a p99 timeline; then throughput, storage
    // and setup time.
    let figures: Vec<&str> = html.split("<figure").skip(1).collect();
    assert_eq!(figures.len(), ops * 2 + 3, "figures");
    let spectra: Vec<&&str> = figures
        .iter()
        .filter(|f| f.contains("class=\"chart spectrum\""))
        .collect();
    assert_eq!(spectra.len(), ops);
    for s in spectra {
        // A line per variant and its legend mark (grid lines are thinner).
        let lines = s.matches("stroke-width=\"2\"").count();
        assert_eq!(lines, 2 * variants, "lines in a spectrum");
        assert!(s.contains("99%"), "percentile axis labelled");
    }
    let bars = figures.iter().filter(|f| f.contains("class=\"chart bars\"")).count();
    assert_eq!(bars, 2);
    assert!(html.contains("<details>"), "plans are collapsible");
    assert!(html.contains("Smoke run"), "the smoke-run banner");
}

#[test]
fn the_page_loads_nothing_from_anywhere() {
    let html = rendered();
    for needle in ["src=", "href=", "@import", "url(", "<link", "<img", "<iframe"] {
        assert!(!html.contains(needle), "`{needle}` in report.html");
    }
    // The only URL is the SVG namespace, which is a name, not a request.
    let urls: Vec<&str> = html
        .match_indices("http")
        .map(|(i, _)| &html[i..(i + 30).min(html.len())])
        .collect();
    assert!(
        urls.iter().all(|u| u.starts_with("http://www.w3.org/2000/svg")),
        "{urls:?}"
    );
}
