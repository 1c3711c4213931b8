//! Run folders: `reports/runs/<UTC timestamp>-<scenario>/`. The folder is
//! created (hidden, as `.<id>.partial`) before any expensive work so an
//! unwritable location fails in the first second; files are written into it
//! and the folder is renamed into place at the end. An existing run folder is
//! never overwritten: a clashing name gets a numeric suffix.

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

impl RunFolder {
    /// Creates `<parent>/.<id>.partial`, creating `parent` if needed.
    pub fn create(parent: &Path, id: &str) -> io::Result<Self> {
        std::fs::create_dir_all(parent)?;
        let partial = parent.join(format!(".{id}.partial"));
        if partial.exists() {
            std::fs::remove_dir_all(&partial)?;
        }
        std::fs::create_dir(&partial)?;
        Ok(RunFolder {
            parent: parent.to_path_buf(),
            id: id.to_string(),
            partial,
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Writes one file into the folder (temp file, then rename); `name` may
    /// include a subfolder, e.g. `plans/x.json`.
    pub fn write(&self, name: &str, bytes: &[u8]) -> io::Result<()> {
        let target = self.partial.join(name);
        let parent = target.parent().unwrap_or(&self.partial);
        std::fs::create_dir_all(parent)?;
        let file = target.file_name().unwrap_or_default().to_string_lossy();
        let tmp = parent.join(format!(".{file}.tmp"));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, target)
    }

    /// Moves the folder into place and returns its final path.
    pub fn finish(self) -> io::Result<PathBuf> {
        for n in 1.. {
            let name = if n == 1 {
                self.id.clone()
            } else {
                format!("{}-{n}", self.id)
            };
            let target = self.parent.join(name);
            if target.exists() {
                continue;
            }
            match std::fs::rename(&self.partial, &target) {
                Ok(()) => return Ok(target),
                Err(_) if target.exists() => continue,
                Err(e) => return Err(e),
            }
        }
        unreachable!("an unbounded range always yields")
    }
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
        first.write("result.json", b"{}").unwrap();
        let first = first.finish().unwrap();
        let second = RunFolder::create(dir.path(), &id).unwrap();
        second.write("result.json", b"[]").unwrap();
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
}
