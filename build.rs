//! Records the git commit the binary was built from, for result files.
//! Built from a package (crates.io, `cargo package`) there is no `.git` of
//! schemabench's own — a git repository further up is the user's, not
//! schemabench's — so the commit is "unknown" and the version says the rest.
use std::path::Path;
use std::process::Command;

fn main() {
    if !Path::new(".git").exists() {
        println!("cargo:rustc-env=SCHEMABENCH_GIT_COMMIT=unknown");
        println!("cargo:rerun-if-changed=build.rs");
        return;
    }
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let dirty = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .ok()
        .is_some_and(|o| !o.stdout.is_empty());
    let suffix = if dirty { "-dirty" } else { "" };
    println!("cargo:rustc-env=SCHEMABENCH_GIT_COMMIT={commit}{suffix}");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/index");
}
