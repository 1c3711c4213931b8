//! report.html in a real browser: headless Chromium (Debian's `chromium`,
//! which `scripts/test.sh` installs) opens a real run's page. Every chart
//! has drawn marks in the DOM, the screenshot is not blank, the page makes
//! no network request, and it renders in under a second. Without Chromium
//! the tests say why and pass.

mod common;

use common::{bin, root};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

fn chromium() -> Option<PathBuf> {
    let found = ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::var_os("PATH")?
            .to_str()?
            .split(':')
            .map(|d| Path::new(d).join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        eprintln!("skipped: no chromium on PATH (scripts/test.sh installs Debian's chromium)");
    }
    found
}

/// Headless Chromium that cannot reach anything: every host resolves to
/// nothing and every request would go to a closed loopback port, so a
/// request the page tried shows in the net log without leaving the machine.
fn headless(browser: &Path, profile: &Path) -> Command {
    let mut c = Command::new(browser);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-sync",
        "--disable-domain-reliability",
        "--no-pings",
        "--dns-prefetch-disable",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=127.0.0.1:9",
        "--window-size=1280,2400",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// A run folder with report.html drawn from a committed result.
fn report(dir: &Path) -> PathBuf {
    std::fs::copy(
        root().join("tests/fixtures/quickstart_smoke.json"),
        dir.join("result.json"),
    )
    .unwrap();
    let out = bin().args(["report", "--html"]).arg(dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    dir.join("report.html")
}

/// Chromium's own service traffic (component updates, network time,
/// accounts), which it starts whatever page is open and which the flags
/// above keep on this machine; not the page's.
fn browser_service(url: &str) -> bool {
    let host = url
        .split("://")
        .nth(1)
        .and_then(|r| r.split(['/', ':']).next())
        .unwrap_or("");
    ["google.com", "googleapis.com", "gstatic.com", "gvt1.com"]
        .iter()
        .any(|d| host == *d || host.ends_with(&format!(".{d}")))
}

#[test]
fn report_html_draws_every_chart_in_a_real_browser_and_fetches_nothing() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = report(dir.path());
    let url = format!("file://{}", page.display());
    let html = std::fs::read_to_string(&page).unwrap();
    let figures = html.matches("<figure").count();

    // The DOM after load: every chart an <svg> with drawn marks.
    let out = headless(&browser, &dir.path().join("profile1"))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dom = String::from_utf8_lossy(&out.stdout);
    let charts: Vec<&str> = dom.split("<figure").skip(1).collect();
    assert_eq!(charts.len(), figures, "every figure is in the DOM");
    for (i, chart) in charts.iter().enumerate() {
        let chart = &chart[..chart.find("</figure>").unwrap_or(chart.len())];
        assert!(chart.contains("<svg"), "figure {i} has no svg");
        let marks = chart.matches("stroke-width=\"2\"").count() + chart.matches("<rect").count();
        assert!(marks >= 3, "figure {i} drew {marks} marks");
    }
    eprintln!("{} charts in the DOM", charts.len());

    // A screenshot that is not blank, and the network log of that load.
    let png = dir.path().join("page.png");
    let netlog = dir.path().join("net.json");
    let out = headless(&browser, &dir.path().join("profile2"))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("--log-net-log={}", netlog.display()))
        .arg(&url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let decoder = png::Decoder::new(std::fs::File::open(&png).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let channels = info.color_type.samples();
    let px: Vec<&[u8]> = pixels[..info.buffer_size()].chunks(channels).collect();
    let inked = px.iter().filter(|p| p[..3].iter().any(|c| *c < 200)).count();
    let colours: std::collections::BTreeSet<[u8; 3]> = px.iter().map(|p| [p[0], p[1], p[2]]).collect();
    let share = inked as f64 / px.len() as f64;
    eprintln!(
        "screenshot {}x{}: {:.1}% inked, {} colours",
        info.width,
        info.height,
        share * 100.0,
        colours.len()
    );
    assert!(
        share > 0.02,
        "the screenshot is nearly blank ({:.2}% inked)",
        share * 100.0
    );
    assert!(colours.len() > 20, "the screenshot has {} colours", colours.len());
    let log = std::fs::read_to_string(&netlog).unwrap_or_default();
    let requested: Vec<&str> = log
        .split("\"url\":\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|u| {
            !(u.starts_with("file:") || u.starts_with("data:") || u.starts_with("about:") || u.starts_with("chrome"))
        })
        .filter(|u| !browser_service(u))
        .collect();
    assert!(requested.is_empty(), "the page requested {requested:?}");
}

#[test]
fn report_html_renders_in_under_a_second() {
    let Some(browser) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = report(dir.path());
    // A wrapper page times the report's load in an iframe (load event to
    // load event, layout and SVG parsing included) and writes it into its
    // DOM, which --dump-dom prints after the wrapper has loaded.
    let wrapper = dir.path().join("timer.html");
    std::fs::write(
        &wrapper,
        format!(
            "<!DOCTYPE html><html><body><script>const t0 = performance.now();</script>\
             <iframe id=\"f\" src=\"{}\" width=\"1280\" height=\"2400\" \
             onload=\"document.body.setAttribute('data-ms', String(performance.now() - t0))\"></iframe>\
             </body></html>",
            page.file_name().unwrap().to_string_lossy()
        ),
    )
    .unwrap();
    let mut times = Vec::new();
    for i in 0..3 {
        let out = headless(&browser, &dir.path().join(format!("profile{i}")))
            .arg("--dump-dom")
            .arg(format!("file://{}", wrapper.display()))
            .output()
            .unwrap();
        let dom = String::from_utf8_lossy(&out.stdout);
        let ms: f64 = dom
            .split("data-ms=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no timing in {dom}"));
        times.push(ms);
    }
    times.sort_by(f64::total_cmp);
    let median = Duration::from_secs_f64(times[1] / 1000.0);
    eprintln!("report.html loaded and laid out in {times:?} ms (median {median:?})");
    assert!(median < Duration::from_secs(1), "median {median:?}");
}
