//! `report.html`: one self-contained page (inline CSS and SVG, no request
//! leaves it) for design documents and browsers. The verdict comes first;
//! per backend: a table per operation, its latency spectrum, p99 and
//! throughput over the window, storage and setup-time bars, and each
//! variant's statements and plans in collapsible sections; then the
//! environment. Rendered from a [`RunResult`] alone, so `schemabench report
//! --html` redraws it from result.json.

use super::charts::{self, Series};
use super::verdict::{Style, banners, recall_text, sentence};
use crate::record::decode_histogram;
use crate::result::{BackendResult, OpResult, RunResult, VariantResult};
use crate::util::{format_bytes, format_ns, format_number};
use std::fmt::Write;

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 0 auto; max-width: 1180px;
       padding: 16px 24px; color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ccc; }
.question { font-size: 1.15em; color: #444; margin-top: 0; }
.verdict { border: 2px solid #2c6e2c; background: #f2f8f2; padding: 10px 16px; border-radius: 6px; }
.banner { border: 2px solid #b00; background: #fff3f3; padding: 8px 16px; border-radius: 6px; font-weight: 600; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
th:first-child, td:first-child, td.text { text-align: left; }
figure { margin: 8px 0 20px; } figure svg { max-width: 100%; height: auto; }
details { margin: 6px 0; } summary { cursor: pointer; font-weight: 600; }
pre { background: #f6f6f6; padding: 8px; overflow-x: auto; font-size: 0.85em; white-space: pre-wrap; }
.note { color: #666; font-size: 0.9em; }
@media print { body { max-width: none; } figure, table { break-inside: avoid; } summary { display: none; } }
";

/// Opens every collapsed section before printing, so plans print too.
const PRINT_SCRIPT: &str =
    "window.addEventListener('beforeprint', () => document.querySelectorAll('details').forEach(d => d.open = true));";

/// A page's opening up to `<body>`, with the report's style.
pub fn head(h: &mut String, title: &str) {
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style><script>{PRINT_SCRIPT}</script></head><body>\n",
        escape(title)
    );
}

/// The whole page.
pub fn render(r: &RunResult) -> String {
    let mut h = String::with_capacity(256 * 1024);
    head(&mut h, &format!("{} — schemabench", r.scenario.name));
    let _ = writeln!(h, "<h1>{}</h1>", escape(&r.scenario.name));
    let _ = writeln!(h, "<p class=\"question\">{}</p>", escape(&r.scenario.question));
    if let Some(rule) = &r.scenario.rule {
        let _ = writeln!(h, "<p><strong>Rule tested:</strong> {}</p>", escape(rule));
    }
    for b in banners(&r.run, Style::Plain) {
        let _ = writeln!(h, "<p class=\"banner\">{}</p>", escape(&b));
    }
    let _ = writeln!(h, "<div class=\"verdict\" id=\"verdict\">");
    for v in &r.comparison.verdicts {
        let _ = writeln!(h, "<p>{}</p>", escape(&sentence(v, Style::Plain)));
    }
    if r.comparison.verdicts.is_empty() {
        let _ = writeln!(h, "<p>No verdict: nothing was compared.</p>");
    }
    let _ = writeln!(h, "</div>");
    let _ = writeln!(
        h,
        "<p class=\"note\">{} · seed {} · run <code>{}</code> · {}</p>",
        escape(&r.run.load_model),
        r.seed,
        escape(&r.run.id),
        escape(&r.run.started_at)
    );
    for b in &r.backends {
        backend(&mut h, r, b);
    }
    environment(&mut h, r);
    h.push_str("</body></html>\n");
    h
}

fn backend(h: &mut String, r: &RunResult, b: &BackendResult) {
    let _ = writeln!(h, "<h2>{} {}</h2>", b.backend, escape(&b.version));
    let _ = writeln!(h, "<p>{}. {}.</p>", escape(&b.server), escape(&b.placement.summary));
    if !b.relaxed_durability.is_empty() {
        let _ = writeln!(
            h,
            "<p class=\"banner\">Relaxed durability: {} — results do not reflect crash-safe commits.</p>",
            escape(&b.relaxed_durability.join(", "))
        );
    }
    for line in super::sweeps::lines(r, b).into_iter().chain(super::groups::lines(b)) {
        let _ = writeln!(h, "<p>{}</p>", escape(&line));
    }
    let names: Vec<String> = b.variants.iter().map(|v| v.name.clone()).collect();
    // Whole seconds of the window: a last, partial second would show as a drop.
    let seconds = (r.scenario.load.duration.as_secs() as usize).max(1);
    for (i, op) in r.scenario.mix.iter().enumerate() {
        let per_variant: Vec<(&VariantResult, &OpResult)> = b
            .variants
            .iter()
            .filter_map(|v| v.ops.iter().find(|o| o.op == op.op).map(|o| (v, o)))
            .collect();
        if per_variant.is_empty() {
            continue;
        }
        let _ = writeln!(h, "<h3 id=\"op-{}-{i}\">{}</h3>", b.backend, escape(&op.op));
        op_table(h, &per_variant);
        // One point per variant; the values of a sweep form one curve.
        let mut recall: Vec<Series> = Vec::new();
        for (v, o) in &per_variant {
            let Some(rc) = o.recall.as_ref() else { continue };
            let _ = writeln!(h, "<p>{}: {}</p>", escape(&v.name), escape(&recall_text(rc)));
            let point = (o.latency_ns.p99 as f64, rc.mean);
            // Names are unique, so a series of this name is this sweep's.
            let name = family_name(r, &v.name);
            match recall.iter_mut().find(|s| s.name == name) {
                Some(series) => series.points.push(point),
                None => recall.push(Series {
                    name,
                    points: vec![point],
                }),
            }
        }
        if !recall.is_empty() {
            figure(
                h,
                "recall",
                &charts::recall_latency(&format!("{} recall against p99", op.op), &recall, &|x| format_ns(x)),
            );
        }
        let spectrum: Vec<Series> = per_variant
            .iter()
            .filter_map(|(v, o)| spectrum_series(&v.name, o))
            .collect();
        figure(
            h,
            "spectrum",
            &charts::spectrum(&format!("{} latency by percentile", op.op), &spectrum),
        );
        let p99: Vec<Series> = per_variant
            .iter()
            .filter_map(|(v, o)| {
                let round = o.rounds.first()?;
                Some(Series {
                    name: v.name.clone(),
                    points: round
                        .p99_per_second_ns
                        .iter()
                        .enumerate()
                        .take(seconds)
                        .filter(|(_, ns)| **ns > 0)
                        .map(|(s, ns)| (s as f64 + 0.5, *ns as f64))
                        .collect(),
                })
            })
            .collect();
        figure(
            h,
            "timeline",
            &charts::timeline(&format!("{} p99 per second (round 1)", op.op), "p99", &p99, &|y| {
                format_ns(y)
            }),
        );
    }
    let throughput: Vec<Series> = b
        .variants
        .iter()
        .map(|v| {
            let mut per_second: Vec<f64> = Vec::new();
            for o in &v.ops {
                let counts = o.rounds.first().map(|r| r.per_second.as_slice()).unwrap_or(&[]);
                for (s, n) in counts.iter().enumerate().take(seconds) {
                    if per_second.len() <= s {
                        per_second.resize(s + 1, 0.0);
                    }
                    per_second[s] += f64::from(*n);
                }
            }
            Series {
                name: v.name.clone(),
                points: per_second
                    .iter()
                    .enumerate()
                    .map(|(s, n)| (s as f64 + 0.5, *n))
                    .collect(),
            }
        })
        .collect();
    let _ = writeln!(h, "<h3>Throughput, storage and setup</h3>");
    figure(
        h,
        "timeline",
        &charts::timeline(
            "operations per second, all operations (round 1)",
            "ops/s",
            &throughput,
            &|y| format_number(y),
        ),
    );
    let storage: Vec<f64> = b.variants.iter().map(|v| v.sizes.total_bytes as f64).collect();
    figure(
        h,
        "bars",
        &charts::bars("storage after setup", &names, &storage, &|y| format_bytes(y as u64)),
    );
    let setup: Vec<f64> = b.variants.iter().map(|v| v.setup.setup_seconds).collect();
    figure(
        h,
        "bars",
        &charts::bars("setup time (statements)", &names, &setup, &|y| format_ns(y * 1e9)),
    );
    for v in &b.variants {
        variant_details(h, r, b, v);
    }
}

/// A variant's name in charts: its sweep's "variant (setting)" for swept ones.
fn family_name(r: &RunResult, variant: &str) -> String {
    r.scenario
        .variants
        .iter()
        .find(|s| s.name == variant)
        .and_then(|s| s.sweep.as_ref())
        .map_or_else(|| variant.to_string(), |s| format!("{} ({})", s.of, s.setting))
}

/// One row per variant: throughput, percentiles, errors.
fn op_table(h: &mut String, rows: &[(&VariantResult, &OpResult)]) {
    h.push_str(
        "<table><tr><th>variant</th><th>ops/s</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th>\
         <th>max</th><th>errors</th></tr>\n",
    );
    for (v, o) in rows {
        let l = &o.latency_ns;
        let errors: u64 = o.errors.values().sum();
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{errors}</td></tr>",
            escape(&v.name),
            format_number(o.throughput_per_s),
            format_ns(l.p50 as f64),
            format_ns(l.p90 as f64),
            format_ns(l.p99 as f64),
            format_ns(l.p999 as f64),
            format_ns(l.max as f64),
        );
    }
    h.push_str("</table>\n");
}

/// A variant's latency spectrum from its merged histogram.
fn spectrum_series(name: &str, o: &OpResult) -> Option<Series> {
    let hist = decode_histogram(&o.histogram).ok()?;
    if hist.is_empty() {
        return None;
    }
    let points = charts::spectrum_xs(hist.len() as f64)
        .into_iter()
        .map(|x| (x, hist.value_at_quantile(1.0 - 1.0 / x) as f64))
        .collect();
    Some(Series {
        name: name.to_string(),
        points,
    })
}

fn figure(h: &mut String, kind: &str, svg: &str) {
    let _ = writeln!(h, "<figure class=\"chart {kind}\">{svg}</figure>");
}

/// The variant's statements and plans, collapsed.
fn variant_details(h: &mut String, r: &RunResult, b: &BackendResult, v: &VariantResult) {
    let _ = writeln!(
        h,
        "<details><summary>{}: statements and plans</summary>",
        escape(&v.name)
    );
    if let Some(s) = r.scenario.variants.iter().find(|s| s.name == v.name) {
        if let Some(d) = &s.description {
            let _ = writeln!(h, "<p>{}</p>", escape(d));
        }
        let setup = s.setup.get(b.backend).cloned().unwrap_or_default();
        let text = if setup.is_empty() {
            "-- no setup: the base schema".to_string()
        } else {
            setup.join(";\n")
        };
        let _ = writeln!(h, "<pre>{}</pre>", escape(&text));
    }
    let _ = writeln!(
        h,
        "<p class=\"note\">setup {} · storage {}</p>",
        format_ns(v.setup.setup_seconds * 1e9),
        format_bytes(v.sizes.total_bytes)
    );
    for p in &v.plans {
        let _ = writeln!(h, "<p><b>{}</b>: {}</p>", escape(&p.op), escape(&p.summary()));
        for step in &p.steps {
            let detail = serde_json::to_string_pretty(&step.detail).unwrap_or_default();
            let _ = writeln!(h, "<pre>{}</pre>", escape(&detail));
        }
    }
    h.push_str("</details>\n");
}

fn environment(h: &mut String, r: &RunResult) {
    let e = &r.environment;
    let _ = writeln!(h, "<h2>Environment</h2><table>");
    let rows = [
        (
            "CPU",
            format!("{} ({} available of {})", e.cpu_model, e.cpus, e.host_cpus),
        ),
        ("client placement", e.client_placement.clone()),
        ("memory", format_bytes(e.memory_bytes)),
        ("OS", e.os.clone()),
        ("schemabench", format!("{} ({})", e.harness_version, e.harness_commit)),
    ];
    for (k, v) in rows {
        let _ = writeln!(
            h,
            "<tr><td class=\"text\">{k}</td><td class=\"text\">{}</td></tr>",
            escape(&v)
        );
    }
    h.push_str("</table>\n");
}
