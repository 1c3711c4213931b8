//! Everything a run starts that must not outlive it — server processes,
//! containers, temp folders — registered while it exists, so that a second
//! signal can remove all of it at once and exit without waiting for the
//! run to unwind. Normal cleanup stays with the owners (`Drop`); a
//! [`Registration`] only lists the thing and unlists it when dropped.

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Something to remove if the run is abandoned.
#[derive(Debug, Clone)]
pub enum Leftover {
    /// A server process this run started (killed with SIGKILL).
    Process(i32),
    /// A folder this run created (removed with its contents).
    Folder(PathBuf),
    /// A container this run started (`docker rm --force --volumes`).
    Container(String),
}

static REGISTRY: Mutex<Vec<(u64, Leftover)>> = Mutex::new(Vec::new());
static NEXT: AtomicU64 = AtomicU64::new(1);

/// Lists a leftover until dropped.
#[derive(Debug)]
#[must_use = "the leftover is unlisted when this is dropped"]
pub struct Registration(u64);

/// Lists `what` as something an abandoned run must remove.
pub fn register(what: Leftover) -> Registration {
    let id = NEXT.fetch_add(1, Ordering::Relaxed);
    lock().push((id, what));
    Registration(id)
}

impl Drop for Registration {
    fn drop(&mut self) {
        lock().retain(|(id, _)| *id != self.0);
    }
}

fn lock() -> std::sync::MutexGuard<'static, Vec<(u64, Leftover)>> {
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner())
}

/// What is listed now, oldest first.
pub fn listed() -> Vec<Leftover> {
    lock().iter().map(|(_, l)| l.clone()).collect()
}

/// Removes everything listed, newest first: processes are killed first (a
/// server's folder goes after its server), then containers and folders.
/// Returns what could not be removed, described.
pub fn remove_all_now() -> Vec<String> {
    let all: Vec<Leftover> = lock().drain(..).rev().map(|(_, l)| l).collect();
    remove(&all)
}

/// Removes `all` (newest first), processes before anything else.
fn remove(all: &[Leftover]) -> Vec<String> {
    let mut failed = Vec::new();
    let mut killed = false;
    for l in all {
        if let Leftover::Process(pid) = l {
            // SAFETY: signalling a process this run started, by its PID.
            unsafe { libc::kill(*pid, libc::SIGKILL) };
            killed = true;
        }
    }
    if killed {
        // The killed servers' backends notice and exit; give them a moment
        // before their folders go.
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    for l in all {
        match l {
            Leftover::Process(_) => {}
            Leftover::Container(id) => {
                let gone = std::process::Command::new("docker")
                    .args(["rm", "--force", "--volumes", id])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success());
                if !gone {
                    failed.push(format!("container {id}"));
                }
            }
            Leftover::Folder(dir) => {
                let removed = std::fs::remove_dir_all(dir).or_else(|_| {
                    std::thread::sleep(std::time::Duration::from_millis(200));
                    std::fs::remove_dir_all(dir)
                });
                if removed.is_err() && dir.exists() {
                    failed.push(format!("folder {}", dir.display()));
                }
            }
        }
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_folder_and_process_are_removed_at_once_and_unlisting_is_by_drop() {
        let dir = tempfile::tempdir().unwrap().keep();
        std::fs::write(dir.join("f"), "x").unwrap();
        let mut child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        let listed_now = |d: &std::path::Path| listed().iter().any(|l| matches!(l, Leftover::Folder(f) if f == d));
        let registration = register(Leftover::Folder(dir.clone()));
        assert!(listed_now(&dir));
        drop(registration);
        assert!(!listed_now(&dir), "dropping the registration unlists it");
        // The global list is shared with other tests running now: remove
        // our own list, not everything listed.
        let failed = remove(&[Leftover::Folder(dir.clone()), Leftover::Process(child.id() as i32)]);
        assert!(failed.is_empty(), "{failed:?}");
        assert!(!dir.exists());
        let status = child.wait().unwrap();
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(libc::SIGKILL)
        );
    }
}
