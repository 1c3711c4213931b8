//! Snapshots of what readers see, rendered from fixed results (real runs'
//! result.json, committed under tests/fixtures/): the terminal summary,
//! report.md and the verdict sentences. A renderer change shows as a diff;
//! accept it with `cargo insta review` (or `INSTA_UPDATE=always`).

use schemabench::report::verdict::{Style, banners, sentence};
use schemabench::report::{markdown, terminal};
use schemabench::result::RunResult;
use std::path::Path;

fn fixture(name: &str) -> RunResult {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    RunResult::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const FIXTURES: [&str; 2] = ["sqlite_vs_postgres.json", "quickstart_smoke.json"];

#[test]
fn report_md() {
    for name in FIXTURES {
        insta::assert_snapshot!(format!("report_md-{name}"), markdown::render(&fixture(name)));
    }
}

#[test]
fn terminal_summary() {
    for name in FIXTURES {
        let r = fixture(name);
        let folder = Path::new("reports/runs").join(&r.run.id);
        insta::assert_snapshot!(format!("terminal-{name}"), terminal::render(&r, &folder));
    }
}

#[test]
fn verdict_sentences() {
    for name in FIXTURES {
        let r = fixture(name);
        let mut text = String::new();
        for style in [Style::Plain, Style::Markdown] {
            for b in banners(&r.run, style) {
                text.push_str(&format!("{style:?} banner: {b}\n"));
            }
            for v in &r.comparison.verdicts {
                text.push_str(&format!("{style:?}: {}\n", sentence(v, style)));
            }
        }
        insta::assert_snapshot!(format!("verdict-{name}"), text);
    }
}

#[test]
fn a_result_reads_back_to_the_same_json() {
    for name in FIXTURES {
        let text =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)).unwrap();
        let again = fixture(name).to_json();
        let first = again.lines().zip(text.lines()).position(|(a, b)| a != b);
        assert!(
            again == text,
            "{name} changed on a read and write, first at line {:?}: {:?} vs {:?}",
            first.map(|i| i + 1),
            first.map(|i| again.lines().nth(i)),
            first.map(|i| text.lines().nth(i))
        );
    }
}

#[test]
fn an_older_schema_version_is_refused_with_a_clear_message() {
    let err = RunResult::from_json(r#"{"schema_version": 1, "run": {}}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("schema version 1") && err.contains("re-run"), "{err}");
    let err = RunResult::from_json("[1, 2]").unwrap_err().to_string();
    assert!(err.contains("not a schemabench result"), "{err}");
}
