//! Run folders carry a manifest (SHA-256 of every file); `schemabench
//! verify` finds any file changed, missing or added after the run, and a
//! report.md that result.json does not render to.

mod common;

use common::{bin, root};
use std::path::{Path, PathBuf};

fn verify(folder: &Path) -> (Option<i32>, String) {
    let out = bin().arg("verify").arg(folder).output().unwrap();
    (out.status.code(), common::printed(&out))
}

#[test]
fn verify_passes_a_fresh_folder_and_names_every_change_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .current_dir(root())
        .args(["run", "scenarios/quickstart.toml", "--quick", "--quiet", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let folder: PathBuf = std::fs::read_dir(dir.path()).unwrap().next().unwrap().unwrap().path();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(folder.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["algorithm"], "sha256");
    assert!(manifest["files"]["result.json"].as_str().unwrap().len() == 64);
    assert!(
        manifest["files"]
            .as_object()
            .unwrap()
            .keys()
            .any(|k| k.starts_with("plans/"))
    );
    let (code, text) = verify(&folder);
    assert_eq!(code, Some(0), "{text}");

    // A hand-edited report: both its digest and its rendering differ.
    let report = folder.join("report.md");
    let original = std::fs::read_to_string(&report).unwrap();
    std::fs::write(&report, original.replacen("p99", "p95", 1)).unwrap();
    let (code, text) = verify(&folder);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("report.md: changed"), "{text}");
    assert!(text.contains("not what result.json renders to"), "{text}");

    // `report` renders it again and rewrites the manifest.
    assert!(bin().arg("report").arg(&folder).output().unwrap().status.success());
    assert_eq!(verify(&folder).0, Some(0));

    // A result changed under its report, a plan removed, a file added.
    let result = folder.join("result.json");
    let json = std::fs::read_to_string(&result).unwrap();
    std::fs::write(&result, json.replacen("\"seed\": ", "\"seed\": 1", 1)).unwrap();
    let plan = std::fs::read_dir(folder.join("plans"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::remove_file(&plan).unwrap();
    std::fs::write(folder.join("notes.txt"), "added").unwrap();
    let (code, text) = verify(&folder);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("result.json: changed"), "{text}");
    assert!(text.contains("but missing"), "{text}");
    assert!(text.contains("notes.txt: not in the manifest"), "{text}");
    assert!(text.contains("not what result.json renders to"), "{text}");

    // No manifest at all: exit 2, naming the file.
    std::fs::remove_file(folder.join("manifest.json")).unwrap();
    let (code, text) = verify(&folder);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("manifest.json"), "{text}");
}
