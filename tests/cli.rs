//! Integration tests through the `schemabench` binary and the library entry
//! point: bad inputs are rejected cleanly, shipped files validate, and the
//! quickstart scenario runs end to end at tiny scale on real SQLite.

mod common;

use common::{bin, root};
use std::path::{Path, PathBuf};

fn toml_in(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

/// The `# expect: <text>` first line of a bad input.
fn expectation(file: &Path, text: &str) -> String {
    text.lines()
        .next()
        .and_then(|l| l.strip_prefix("# expect:"))
        .unwrap_or_else(|| panic!("{} must start with `# expect: <text>`", file.display()))
        .trim()
        .to_string()
}

/// Exit code 2, no panic, the expected message.
fn assert_rejected(name: &str, out: &std::process::Output, expect: &str) -> (String, String) {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let all = format!("{stdout}{stderr}");
    assert_eq!(out.status.code(), Some(2), "{name}: exit code\n{all}");
    assert!(!all.contains("panicked"), "{name} panicked:\n{all}");
    assert!(all.contains(expect), "{name}: expected `{expect}` in:\n{all}");
    (stdout, stderr)
}

#[test]
fn every_bad_input_is_rejected_with_a_located_message_and_exit_code_2() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("tests/bad_inputs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 150, "the corpus has {} files", files.len());
    let (mut configs, mut commands) = (0, 0);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let expect = expectation(&file, &text);
        let rel = file.strip_prefix(root()).unwrap();
        let name = rel.display().to_string();
        if file.extension().is_some_and(|e| e == "args") {
            // A command line: the message names the flag or argument at fault.
            commands += 1;
            let args: Vec<&str> = text.lines().nth(1).unwrap_or_default().split_whitespace().collect();
            let out = bin().current_dir(root()).args(&args).output().unwrap();
            assert_rejected(&name, &out, &expect);
            let named = args
                .iter()
                .map(|a| a.split('=').next().unwrap_or(a))
                .any(|a| a.len() > 2 && expect.contains(a))
                // A missing argument is named by its placeholder, e.g. `<FILES>`.
                || (expect.starts_with('<') && expect.contains('>'));
            assert!(named, "{name}: `{expect}` names none of the arguments {args:?}");
            continue;
        }
        configs += 1;
        let out = bin().current_dir(root()).arg("validate").arg(rel).output().unwrap();
        let (stdout, _) = assert_rejected(&name, &out, &expect);
        // The first line names the file and the line and column; a problem
        // with the file as a whole (`# position: file`) names the field.
        let first = stdout.lines().next().unwrap_or_default();
        assert!(
            first.starts_with(&name),
            "{name}: first line does not name the file: {first}"
        );
        let whole_file = text.contains("\n# position: file\n") || text.contains("cannot tell whether");
        let rest = &first[name.len()..];
        if whole_file {
            assert!(rest.contains('`'), "{name}: nothing named in `{first}`");
        } else {
            let position = rest.split(':').take(3).collect::<Vec<_>>();
            assert!(
                position.len() == 3 && position[1].parse::<u32>().is_ok() && position[2].parse::<u32>().is_ok(),
                "{name}: no line:column in `{first}`"
            );
        }
    }
    eprintln!("{configs} bad scenario and workload files, {commands} bad command lines");
}

#[test]
fn shipped_scenarios_and_workloads_validate_and_list() {
    let mut files = toml_in("scenarios");
    files.extend(toml_in("workloads"));
    let checks = toml_in("checks");
    let out = bin()
        .current_dir(root())
        .arg("validate")
        .args(&files)
        .args(&checks)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("scenario `quickstart`"), "{stdout}");
    assert!(
        stdout.contains("variants: no_index (baseline), user_id, user_created"),
        "{stdout}"
    );

    let out = bin().current_dir(root()).arg("list").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    for f in &files {
        let stem = f.file_stem().unwrap().to_string_lossy();
        assert!(stdout.contains(&*stem), "list misses {stem}:\n{stdout}");
    }
    assert!(!stdout.contains("INVALID"), "{stdout}");
}

#[test]
fn the_quickstart_runs_end_to_end_and_reports_a_verdict() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = bin()
        .current_dir(root())
        .args(["run", "scenarios/quickstart.toml", "--json", "--rounds", "2"])
        .args(["--warmup", "100ms", "--duration", "400ms"])
        .args(["--param", "users=500", "--param", "orders=20000"])
        .arg("--out")
        .arg(out_dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json prints the result");

    assert_eq!(result["schema_version"], 2);
    assert_eq!(result["run"]["complete"], true);
    assert_eq!(result["scenario"]["params"]["orders"], 20000.0);
    let sqlite = &result["backends"][0];
    assert_eq!(sqlite["backend"], "sqlite");
    assert_eq!(sqlite["load"]["rows"], 20500);
    assert!(sqlite["load"]["rows_per_sec"].as_f64().unwrap() > 0.0);
    let variants: Vec<&str> = sqlite["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(variants, ["no_index", "user_id", "user_created"]);
    for v in sqlite["variants"].as_array().unwrap() {
        assert_eq!(v["rounds_completed"], 2);
        for op in v["ops"].as_array().unwrap() {
            assert!(
                op["count"].as_u64().unwrap() > 0,
                "{} {} ran nothing",
                v["name"],
                op["op"]
            );
            let l = &op["latency_ns"];
            assert!(l["p50"].as_u64().unwrap() <= l["p99"].as_u64().unwrap());
            assert!(l["p99"].as_u64().unwrap() <= l["max"].as_u64().unwrap());
            assert!(!op["histogram"].as_str().unwrap().is_empty());
        }
    }
    // The composite index must be measurably larger than no index at all.
    let size = |i: usize| sqlite["variants"][i]["sizes"]["total_bytes"].as_u64().unwrap();
    assert!(size(2) > size(0));
    assert_eq!(sqlite["answers"]["mismatches"].as_array().unwrap().len(), 0);

    let verdict = &result["comparison"]["verdicts"][0];
    let text = stderr
        .lines()
        .find_map(|l| l.strip_prefix("Verdict: "))
        .expect("the summary has a verdict line");
    assert!(
        variants.iter().any(|v| text.contains(v)),
        "the verdict names no variant: {text}"
    );
    if let Some(winner) = verdict["winner"].as_str() {
        assert!(variants.contains(&winner));
    }

    // The run folder holds the same result and a report that leads with the verdict.
    let folder = out_dir.path().join(result["run"]["id"].as_str().unwrap());
    let on_disk: serde_json::Value =
        serde_json::from_slice(&std::fs::read(folder.join("result.json")).unwrap()).unwrap();
    assert_eq!(on_disk, result);
    let report = std::fs::read_to_string(folder.join("report.md")).unwrap();
    let verdict_at = report.find("## Verdict").unwrap();
    assert!(verdict_at < report.find("## Operations").unwrap());
    assert!(report.contains("| user_created |"));
    // The same sentence, with Markdown emphasis on the variant names.
    assert!(
        report.replace("**", "").contains(text.split('.').next().unwrap()),
        "report lacks the verdict"
    );
    assert!(report.contains("## Environment"));

    // Every ratio the report shows is in result.json.
    let effects = result["comparison"]["effects"].as_array().unwrap();
    // 2 variants × (2 ops × 7 metrics + storage), and the 2 ops × 7 metrics
    // again at equal load (the write guard is judged there); setup time has
    // no ratio to a baseline without setup statements, WAL per write none on
    // SQLite.
    assert_eq!(effects.len(), 2 * (2 * 7 + 1 + 2 * 7), "{effects:#?}");
    assert!(sqlite["equal_load_rate_per_s"].as_u64().is_some_and(|r| r > 0));
    assert!(report.contains("## At equal load (sqlite)"));

    // The report renders again from result.json alone, byte for byte.
    let again = bin().args(["report", "--stdout"]).arg(&folder).output().unwrap();
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(
        again.stdout == report.as_bytes(),
        "`schemabench report` rendered a different report.md"
    );
    std::fs::remove_file(folder.join("report.md")).unwrap();
    let rewrite = bin().arg("report").arg(&folder).output().unwrap();
    assert_eq!(rewrite.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(folder.join("report.md")).unwrap(), report);
    assert!(String::from_utf8_lossy(&rewrite.stdout).contains("Verdict: "));
}

#[test]
fn a_variant_that_returns_wrong_answers_is_flagged_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("wrong.toml");
    std::fs::write(
        &scenario,
        format!(
            r#"name = "wrong"
question = "Does a broken rewrite get caught?"
workload = "{}"
[params]
users = 200
orders = 2000
[load]
clients = 1
warmup = "50ms"
duration = "200ms"
rounds = 1
[mix]
recent_orders = 1
[[variant]]
name = "right"
[[variant]]
name = "broken"
ops.recent_orders = {{ sql = "SELECT id, status, total, created_at FROM orders WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT 5" }}
[verdict]
baseline = "right"
goal = {{ op = "recent_orders", metric = "p99" }}
"#,
            root().join("workloads/orders.toml").display()
        ),
    )
    .unwrap();
    let out = bin()
        .arg("run")
        .arg(&scenario)
        .arg("--out")
        .arg(dir.path().join("runs"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("ANSWERS DIFFER"), "{stdout}");
    assert!(stdout.contains("broken on recent_orders"), "{stdout}");
    assert!(!stdout.contains("broken wins"), "{stdout}");
}

#[test]
fn an_unknown_param_override_is_an_error_before_any_work() {
    let out = bin()
        .current_dir(root())
        .args(["run", "scenarios/quickstart.toml", "--param", "user=10", "--out"])
        .arg(std::env::temp_dir().join("schemabench-never-created"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("no scale parameter `user`; did you mean `users`?"),
        "{stderr}"
    );
    assert!(!std::env::temp_dir().join("schemabench-never-created").exists());
}

fn small_scenario(dir: &Path, variants: &str, duration: &str) -> PathBuf {
    common::orders_scenario(
        dir,
        "small",
        duration,
        2,
        &format!(
            "[mix]\norder_by_id = 1\n{variants}\n[verdict]\nbaseline = \"a\"\ngoal = {{ op = \"order_by_id\", metric = \"p99\" }}"
        ),
    )
}

fn only_run_folder(runs: &Path) -> PathBuf {
    let entries: Vec<PathBuf> = std::fs::read_dir(runs).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries[0].clone()
}

#[test]
fn a_failing_setup_statement_keeps_an_incomplete_report_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = small_scenario(
        dir.path(),
        // Valid on the empty schema (checked before any work), fails on the
        // loaded data: users place many orders.
        "[[variant]]\nname = \"a\"\n[[variant]]\nname = \"b\"\nsetup = [\"CREATE UNIQUE INDEX oops ON orders (user_id)\"]",
        "200ms",
    );
    let runs = dir.path().join("runs");
    let out = bin()
        .arg("run")
        .arg(&scenario)
        .arg("--out")
        .arg(&runs)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("variant `b`: setup statement 1"), "{stderr}");
    assert!(stderr.contains("UNIQUE constraint failed"), "{stderr}");
    let folder = only_run_folder(&runs);
    let result: serde_json::Value =
        serde_json::from_slice(&std::fs::read(folder.join("result.json")).unwrap()).unwrap();
    assert_eq!(result["run"]["complete"], false);
    assert!(
        result["run"]["failure"]
            .as_str()
            .unwrap()
            .contains("UNIQUE constraint failed")
    );
    assert!(
        std::fs::read_to_string(folder.join("report.md"))
            .unwrap()
            .contains("INCOMPLETE RUN")
    );
}

#[test]
fn a_summary_that_goes_stale_after_writes_is_caught_and_ruled_out() {
    // The same wide copy as scenarios/denormalize_orders.toml, without the
    // trigger that keeps it in sync: right before any write, wrong after.
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("stale.toml");
    std::fs::write(
        &scenario,
        format!(
            r#"name = "stale"
question = "Does a copy without its trigger keep up?"
workload = "{}"

[params]
users = 2_000
orders = 20_000

[load]
clients = 2
warmup = "200ms"
duration = "500ms"
rounds = 1

[mix]
pending_by_country = 70
place_order = 30

[[variant]]
name = "joined"

[[variant]]
name = "stale_copy"
setup = [
  """CREATE TABLE orders_wide AS
       SELECT o.id, o.user_id, o.status, o.total, o.created_at, u.name AS user_name, u.country AS user_country
       FROM orders o JOIN users u ON u.id = o.user_id""",
]
ops.pending_by_country = {{ sql = """SELECT id, total, created_at, user_name FROM orders_wide
                                    WHERE user_country = $1 AND status = 'pending'
                                    ORDER BY created_at DESC, id DESC LIMIT 50""" }}

[verdict]
baseline = "joined"
goal = {{ op = "pending_by_country", metric = "p99" }}
"#,
            root().join("workloads/orders.toml").display()
        ),
    )
    .unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let out = bin()
        .arg("run")
        .arg(&scenario)
        .args(["--json", "--quiet", "--out"])
        .arg(out_dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "differing answers exit 1\n{stderr}");
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let answers = &result["backends"][0]["answers"];
    assert_eq!(answers["writes_applied"], 200, "{answers}");
    let mismatches = answers["mismatches"].as_array().unwrap();
    assert!(
        mismatches
            .iter()
            .any(|m| m["variant"] == "stale_copy" && m["phase"] == "after_writes"),
        "{answers}"
    );
    assert!(
        mismatches.iter().all(|m| m["phase"] != "before_writes"),
        "the copy is right before any write: {answers}"
    );
    let verdict = &result["comparison"]["verdicts"][0];
    assert!(verdict["winner"].is_null(), "{verdict}");
    let report = std::fs::read_to_string(
        out_dir
            .path()
            .join(result["run"]["id"].as_str().unwrap())
            .join("report.md"),
    )
    .unwrap();
    assert!(report.contains("| after writes |"), "{report}");
}

#[test]
fn backend_picks_one_engine_and_rounds_run_in_a_recorded_order() {
    let out_dir = tempfile::tempdir().unwrap();
    let run = |order_seed: &str| {
        let out = bin()
            .current_dir(root())
            .args(["run", "checks/aa_identical.toml", "--backend", "sqlite", "--quick"])
            .args(["--rounds", "3", "--duration", "200ms", "--warmup", "100ms"])
            .args(["--order-seed", order_seed, "--json", "--quiet", "--out"])
            .arg(out_dir.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let a = run("7");
    let backends: Vec<&str> = a["backends"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["backend"].as_str().unwrap())
        .collect();
    assert_eq!(backends, ["sqlite"]);
    assert_eq!(a["order_seed"], 7);
    let order = |r: &serde_json::Value| r["backends"][0]["round_order"].clone();
    assert_eq!(order(&a), order(&run("7")), "--order-seed repeats the order");
    // Balanced: with two variants, whoever ran first runs second next round.
    let rounds = order(&a);
    for pair in rounds.as_array().unwrap().windows(2) {
        assert_ne!(
            pair[0][0], pair[1][0],
            "the same variant ran first twice in a row: {rounds}"
        );
    }
    let others: Vec<serde_json::Value> = (8..14).map(|s| order(&run(&s.to_string()))).collect();
    assert!(
        others.iter().any(|o| *o != order(&a)),
        "six other order seeds all gave the same order"
    );
    // Each round measured its own fresh copy, with its own setup time.
    let setups = a["backends"][0]["variants"][0]["setup_rounds"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(setups, 3);

    let out = bin()
        .current_dir(root())
        .args(["run", "scenarios/quickstart.toml", "--backend", "postgres", "--quick"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--backend postgres: the scenario runs on sqlite only"),
        "{stderr}"
    );
}
