//! The equal-load phase on real SQLite: a write guard in a scenario whose
//! goal is a read is judged with every variant open-loop at one rate, and
//! an index on the insert's table then costs inserts time, as an insert-only
//! control shows; in the closed loop the same index made inserts look faster
//! (a faster read path leaves the writers more CPU).

mod common;

#[test]
fn an_index_never_makes_inserts_faster_at_equal_load() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = common::bin()
        .current_dir(common::root())
        .args(["run", "checks/write_cost_fk.toml", "--backend", "sqlite", "--json"])
        .args(["--param", "users=2000", "--param", "orders=50000"])
        .args(["--warmup", "300ms", "--duration", "1500ms", "--rounds", "3"])
        .arg("--out")
        .arg(out_dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json prints the result");
    assert_eq!(result["run"]["complete"], true, "{stderr}");

    let sqlite = &result["backends"][0];
    let rate = sqlite["equal_load_rate_per_s"]
        .as_u64()
        .expect("the equal-load phase ran");
    for v in sqlite["variants"].as_array().unwrap() {
        let phase = &v["equal_load"];
        assert_eq!(phase["rounds_completed"], 3, "{}", v["name"]);
        let ops: u64 = phase["ops"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["count"].as_u64().unwrap())
            .sum();
        let per_s = ops as f64 / (3.0 * 1.5);
        // Every variant was offered the same schedule and kept it.
        assert!(
            (per_s / rate as f64 - 1.0).abs() < 0.25,
            "{} ran {per_s:.0}/s of {rate}/s",
            v["name"]
        );
    }

    let guard = &result["comparison"]["verdicts"][0]["candidates"][0]["guards"][0];
    assert_eq!(guard["guard"], "place_order p50");
    assert_eq!(guard["at_equal_load"].as_u64(), Some(rate));
    let ratio = guard["effect"]["ratio"].as_f64().unwrap();
    assert!(ratio > 1.0, "the index made inserts faster at equal load: {ratio}");
    // The guard's figure is the equal-load effect, kept apart from the closed loop's.
    let equal = result["comparison"]["effects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["op"] == "place_order" && e["metric"] == "p50" && e["equal_load"] == true)
        .expect("equal-load effects are in result.json");
    assert_eq!(equal["ratio"], guard["effect"]["ratio"]);

    let folder = out_dir.path().join(result["run"]["id"].as_str().unwrap());
    let report = std::fs::read_to_string(folder.join("report.md")).unwrap();
    assert!(report.contains("## At equal load (sqlite)"), "{report}");
    assert!(
        report.contains(&format!("open-loop at {rate} operations/s")),
        "{report}"
    );
    assert!(report.contains("place_order p50 at equal load"), "{report}");
}
