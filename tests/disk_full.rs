//! Full disks, on small tmpfs mounts (needs root, as CI runs; elsewhere the
//! tests say why and pass): a PostgreSQL load that fills the work folder
//! fails with the server's own reason and leaves nothing behind; a run
//! folder that cannot be written names the file, keeps the result, and the
//! folder is recovered with `schemabench report` and passes `verify`.

mod common;

use common::{bin, root};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs of `size` mounted on a new folder; unmounted when dropped.
struct Tmpfs {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: mounting a tmpfs needs root (CI runs as root)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("small");
        std::fs::create_dir(&path).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=1777"), "tmpfs"])
            .arg(&path)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("skipped: cannot mount a tmpfs here");
            return None;
        }
        Some(Tmpfs { _dir: dir, path })
    }

    fn resize(&self, size: &str) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.path)
            .status()
            .unwrap();
        assert!(ok.success());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).status();
    }
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_postgres_load_that_fills_the_disk_fails_with_the_reason_and_leaves_nothing() {
    let Some(fs) = Tmpfs::mount("160m") else { return };
    let dir = tempfile::tempdir().unwrap();
    let scenario = common::postgres_scenario(dir.path(), "full", "1s");
    let out = bin()
        .arg("run")
        .arg(&scenario)
        .args([
            "--provisioner",
            "local",
            "--force",
            "--param",
            "orders=3000000",
            "--out",
        ])
        .arg(dir.path().join("runs"))
        .arg("--work-dir")
        .arg(&fs.path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert!(!stderr.contains("Connection reset"), "{stderr}");
    assert_eq!(entries(&fs.path), Vec::<String>::new(), "left in the work folder");
}

#[test]
fn a_full_disk_while_writing_the_run_folder_keeps_the_result_and_the_folder_recovers() {
    let Some(fs) = Tmpfs::mount("64k") else { return };
    let out_dir = fs.path.join("runs");
    let out = bin()
        .current_dir(root())
        .args(["run", "scenarios/quickstart.toml", "--quick", "--quiet", "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot write"), "{stderr}");
    assert!(stderr.contains("result.json"), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    let partial: Vec<String> = entries(&out_dir);
    assert_eq!(partial.len(), 1, "{partial:?}");
    assert!(
        partial[0].starts_with('.') && partial[0].ends_with(".partial"),
        "{partial:?}"
    );
    let partial = out_dir.join(&partial[0]);
    // The message says where the result is; no temp file is left beside it.
    let kept = stderr
        .split('`')
        .find(|s| s.ends_with("-result.json"))
        .map(PathBuf::from)
        .unwrap_or_else(|| partial.join("result.json"));
    assert!(kept.exists(), "{}: {stderr}", kept.display());
    assert!(
        !entries(&partial).iter().any(|e| e.ends_with(".tmp")),
        "{:?}",
        entries(&partial)
    );

    // Recovery as the message says: free space, move the result in, render.
    fs.resize("64m");
    if kept != partial.join("result.json") {
        std::fs::copy(&kept, partial.join("result.json")).unwrap();
        std::fs::remove_file(&kept).unwrap();
    }
    let report = bin().arg("report").arg(&partial).output().unwrap();
    assert!(report.status.success(), "{}", String::from_utf8_lossy(&report.stderr));
    let name = partial.file_name().unwrap().to_string_lossy();
    let done = out_dir.join(name.trim_start_matches('.').trim_end_matches(".partial"));
    std::fs::rename(&partial, &done).unwrap();
    let verify = bin().arg("verify").arg(&done).output().unwrap();
    assert!(
        verify.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}
