//! Run folders: `reports/runs/<UTC timestamp>-<scenario>/`. The name is
//! reserved before any expensive work by creating the hidden
//! `.<id>.partial` folder with one `mkdir`, which fails when another run
//! holds it (two runs started in the same second into one `--out`); the
//! loser takes the next suffix (`-2`, `-3`, ...), so `run.id` is the final
//! folder's name from the start. Files are written into the partial folder
//! (temp file, fsync, rename) and the folder is renamed into place at the
//! end. Nothing is ever removed or overwritten: a partial folder left by a
//! killed run keeps its data and makes later runs take another suffix.

use std::io;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;
use time::macros::format_description;

/// `20261127T101500Z-quickstart`.
pub fn run_id(at: OffsetDateTime, scenario: &str) -> String {
    let stamp = at
        .format(format_description!("[year][month][day]T[hour][minute][second]Z"))
        .expect("constant format");
    format!("{stamp}-{scenario}")
}

/// A run folder being written.
#[derive(Debug)]
pub struct RunFolder {
    parent: PathBuf,
    id: String,
    partial: PathBuf,
}

/// A file of the run folder that could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write `{}`", path.display())]
pub struct WriteError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

impl RunFolder {
    /// Reserves `<parent>/.<id>.partial` (or the first free `<id>-N`),
    /// creating `parent` if needed.
    pub fn create(parent: &Path, id: &str) -> io::Result<Self> {
        std::fs::create_dir_all(parent)?;
        for n in 1u32.. {
            let name = if n == 1 { id.to_string() } else { format!("{id}-{n}") };
            if parent.join(&name).exists() {
                continue;
            }
            let partial = parent.join(format!(".{name}.partial"));
            match std::fs::create_dir(&partial) {
                Ok(()) => {
                    return Ok(RunFolder {
                        parent: parent.to_path_buf(),
                        id: name,
                        partial,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        unreachable!("an unbounded range always yields")
    }

    /// The reserved name: the final folder's, and the result's `run.id`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Where the files are until [`RunFolder::finish`].
    pub fn partial_path(&self) -> &Path {
        &self.partial
    }

    /// Writes one file into the folder: a temp file, flushed to disk, then
    /// renamed; `name` may include a subfolder, e.g. `plans/x.json`. A
    /// failure (a full disk) names the file and removes the temp file.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<(), WriteError> {
        write_file(&self.partial.join(name), bytes)
    }

    /// Moves the folder into place (its reserved name) and returns its
    /// final path; the parent folder is flushed so the rename survives a
    /// crash.
    pub fn finish(self) -> Result<PathBuf, WriteError> {
        let target = self.parent.join(&self.id);
        let fail = |source| WriteError {
            path: target.clone(),
            source,
        };
        sync_dir(&self.partial).map_err(fail)?;
        std::fs::rename(&self.partial, &target).map_err(fail)?;
        sync_dir(&self.parent).map_err(fail)?;
        Ok(target)
    }
}

/// Writes `path` whole or not at all: a temp file beside it (its folder
/// created if needed), flushed to disk, then renamed over it. A failure
/// (a full disk) names the file and removes the temp file.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let parent = path.parent().unwrap_or(Path::new("."));
    let file = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
    let tmp = parent.join(format!(".{file}.tmp"));
    let written = (|| {
        std::fs::create_dir_all(parent)?;
        let mut f = std::fs::File::create(&tmp)?;
        io::Write::write_all(&mut f, bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    written.map_err(|source| {
        let _ = std::fs::remove_file(&tmp);
        WriteError {
            path: path.to_path_buf(),
            source,
        }
    })
}

/// Flushes a folder's entries (names created or renamed in it).
fn sync_dir(dir: &Path) -> io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn folders_are_named_by_time_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let id = run_id(datetime!(2026-11-27 10:15:00 UTC), "quickstart");
        assert_eq!(id, "20261127T101500Z-quickstart");
        let first = RunFolder::create(dir.path(), &id).unwrap();
        // A second run in the same second gets its own name at once.
        let second = RunFolder::create(dir.path(), &id).unwrap();
        assert_eq!(second.id(), "20261127T101500Z-quickstart-2");
        second.write("result.json", b"[]").unwrap();
        first.write("result.json", b"{}").unwrap();
        let first = first.finish().unwrap();
        let second = second.finish().unwrap();
        assert_eq!(first.file_name().unwrap(), "20261127T101500Z-quickstart");
        assert_eq!(second.file_name().unwrap(), "20261127T101500Z-quickstart-2");
        assert_eq!(std::fs::read(first.join("result.json")).unwrap(), b"{}");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 2, "no partial folders or temp files left");
    }

    #[test]
    fn an_unwritable_location_fails_at_creation() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, "").unwrap();
        assert!(RunFolder::create(&file.join("runs"), "x").is_err());
    }

    #[test]
    fn a_partial_folder_left_by_a_killed_run_is_kept_and_skipped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(".x.partial")).unwrap();
        std::fs::write(dir.path().join(".x.partial/result.json"), "kept").unwrap();
        let f = RunFolder::create(dir.path(), "x").unwrap();
        assert_eq!(f.id(), "x-2");
        assert_eq!(
            std::fs::read_to_string(dir.path().join(".x.partial/result.json")).unwrap(),
            "kept"
        );
        assert_eq!(f.finish().unwrap().file_name().unwrap(), "x-2");
    }

    #[test]
    fn many_runs_reserving_one_name_at_once_each_get_their_own() {
        let dir = tempfile::tempdir().unwrap();
        let ids: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| RunFolder::create(dir.path(), "same").unwrap()))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    let f = h.join().unwrap();
                    let id = f.id().to_string();
                    f.write("id", id.as_bytes()).unwrap();
                    let path = f.finish().unwrap();
                    assert_eq!(std::fs::read_to_string(path.join("id")).unwrap(), id);
                    id
                })
                .collect()
        });
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 8, "{ids:?}");
    }
}
