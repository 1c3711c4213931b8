//! deploy/k8s and the image: the manifests pass the Kubernetes API schema
//! (kubernetes-validate, strict: unknown fields are errors), the scenario
//! in the ConfigMap validates, and the image built by scripts/build-image.sh
//! runs a scenario from a mounted folder with nothing but host networking.

mod common;

use common::{bin, printed, root};
use std::process::Command;

/// The validator: `SCHEMABENCH_KUBE_VALIDATE` (scripts/test.sh installs it
/// in a virtualenv and sets it) or `kubernetes-validate` on the PATH.
fn validator() -> String {
    std::env::var("SCHEMABENCH_KUBE_VALIDATE").unwrap_or_else(|_| "kubernetes-validate".into())
}

fn manifests() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(root().join("deploy/k8s"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_manifest_passes_the_kubernetes_schema_strictly() {
    let files = manifests();
    assert!(files.len() >= 4, "{files:?}");
    let out = Command::new(validator())
        .args(["--strict", "--kubernetes-version", "1.30.0"])
        .args(&files)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} ({e}): scripts/test.sh installs kubernetes-validate (pip) and sets \
                 SCHEMABENCH_KUBE_VALIDATE",
                validator()
            )
        });
    let text = printed(&out);
    assert!(out.status.success(), "{text}");
    assert_eq!(text.matches("passed").count(), files.len(), "{text}");
    // The validator rejects what Kubernetes would: an unknown field.
    let dir = tempfile::tempdir().unwrap();
    let job = std::fs::read_to_string(root().join("deploy/k8s/shards-job.yaml")).unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        job.replace("completionMode: Indexed", "completionMode: Indexed\n  completionz: 3"),
    )
    .unwrap();
    let out = Command::new(validator())
        .args(["--strict", "--kubernetes-version", "1.30.0"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success(), "{}", printed(&out));
}

/// The ConfigMap's `scenario.toml`, with the image's workload folder
/// pointed at this checkout's.
fn configmap_scenario() -> String {
    let yaml = std::fs::read_to_string(root().join("deploy/k8s/configmap.yaml")).unwrap();
    let body: Vec<&str> = yaml
        .lines()
        .skip_while(|l| l.trim() != "scenario.toml: |")
        .skip(1)
        .take_while(|l| l.is_empty() || l.starts_with("    "))
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect();
    assert!(!body.is_empty(), "no scenario.toml in the ConfigMap");
    body.join("\n").replace(
        "/usr/share/schemabench/workloads/",
        &format!("{}/", root().join("workloads").display()),
    )
}

#[test]
fn the_configmap_scenario_is_a_valid_sharded_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scenario.toml");
    std::fs::write(&path, configmap_scenario()).unwrap();
    let out = bin().arg("validate").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", printed(&out));
    // Three shards of it are accepted up to the point of needing a server.
    let shard = bin()
        .args(["run", "--shard", "3/3", "--run-key", "k", "--shard-wait", "1s"])
        .args(["--postgres-url", "postgres://u@127.0.0.1:1/db", "--out"])
        .arg(dir.path().join("runs"))
        .arg(&path)
        .output()
        .unwrap();
    let text = printed(&shard);
    assert_eq!(shard.status.code(), Some(2), "{text}");
    assert!(
        !text.contains("--shard 3/3:"),
        "the scenario itself is refused for sharding: {text}"
    );
}

/// Runs with SCHEMABENCH_IMAGE (scripts/test.sh builds it with
/// scripts/build-image.sh and starts a private daemon); without it,
/// reports why and passes.
#[test]
fn the_image_runs_a_mounted_scenario_with_host_networking_only() {
    let Ok(image) = std::env::var("SCHEMABENCH_IMAGE") else {
        eprintln!("skipped: SCHEMABENCH_IMAGE is not set (scripts/test.sh sets it)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.toml"),
        "name = \"in_image\"\nquestion = \"q\"\nworkload = \"/usr/share/schemabench/workloads/orders.toml\"\n\
         [mix]\norder_by_id = 1\n[[variant]]\nname = \"a\"\n",
    )
    .unwrap();
    // The image's user writes the run folder.
    Command::new("chmod").arg("777").arg(dir.path()).status().unwrap();
    let mount = format!("{}:/work", dir.path().display());
    let out = Command::new("docker")
        .args([
            "run",
            "--rm",
            "--network",
            "host",
            "--pull",
            "never",
            "-v",
            &mount,
            &image,
        ])
        .args(["run", "/work/s.toml", "--quick", "--quiet", "--out", "/work/runs"])
        .output()
        .unwrap();
    let text = printed(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    let runs: Vec<_> = std::fs::read_dir(dir.path().join("runs")).unwrap().collect();
    assert_eq!(runs.len(), 1, "{text}");
    let folder = runs[0].as_ref().unwrap().path();
    let verify = bin().arg("verify").arg(&folder).output().unwrap();
    assert_eq!(verify.status.code(), Some(0), "{}", printed(&verify));
}
