//! Will the run fit? Before any work, the data's size is estimated from its
//! generators and compared with the free space of the folder the databases
//! will live in: the loaded base, plus one copy per variant, plus the copy
//! being made while the previous one still exists, with room for indexes.
//! A run that would not fit is refused with the figures (`--force` runs it
//! anyway); servers schemabench does not keep its files for (a URL, a
//! container) are not checked.

use super::plan::{RunOptions, RunPlan};
use crate::backend::BackendKind;
use crate::provision::Choice;
use crate::util::format_bytes;
use std::path::{Path, PathBuf};

/// Room for indexes, WAL and free space inside files, over the raw data.
const OVERHEAD: f64 = 1.5;

/// What a run is expected to take.
#[derive(Debug, Clone, PartialEq)]
pub struct Footprint {
    /// Generated rows on disk, about (no indexes).
    pub data_bytes: u64,
    /// Free space the run needs in its work folder.
    pub needed_bytes: u64,
    /// The folder the databases live in, when schemabench keeps them.
    pub folder: Option<PathBuf>,
}

/// A run that would not fit.
#[derive(Debug, thiserror::Error)]
#[error(
    "this run needs about {} of free space in `{}` (data about {} generated, copied for each of {copies} \
     database copies, with room for indexes) but only {} is free; shrink it with --param, put the databases \
     elsewhere with --work-dir, or run anyway with --force",
    format_bytes(*needed),
    folder.display(),
    format_bytes(*data),
    format_bytes(*free)
)]
pub struct TooLarge {
    pub needed: u64,
    pub data: u64,
    pub free: u64,
    pub copies: u64,
    pub folder: PathBuf,
}

/// The estimate for `plan` run with `options`.
pub fn estimate(plan: &RunPlan, options: &RunOptions) -> Footprint {
    let data_bytes = crate::datagen::data_bytes(plan.tables());
    let copies = copies(plan);
    let keeps_files = plan.scenario.backends.iter().any(|&b| match b {
        BackendKind::Sqlite => true,
        BackendKind::Postgres => {
            options.postgres.url.is_none() && matches!(options.postgres.choice, Choice::Auto | Choice::Local)
        }
    });
    Footprint {
        data_bytes,
        needed_bytes: (data_bytes as f64 * copies as f64 * OVERHEAD) as u64,
        folder: keeps_files.then(|| options.work_dir.clone().unwrap_or_else(std::env::temp_dir)),
    }
}

/// The base, every variant's copy, and one more being made.
fn copies(plan: &RunPlan) -> u64 {
    let most = plan
        .scenario
        .backends
        .iter()
        .map(|&b| plan.targets.iter().filter(|t| t.backend == b).count() as u64)
        .max()
        .unwrap_or(0);
    most + 2
}

/// Refuses `plan` when its footprint exceeds the free space of its folder.
pub fn check(plan: &RunPlan, options: &RunOptions) -> Result<Footprint, TooLarge> {
    let f = estimate(plan, options);
    if let Some(folder) = &f.folder
        && let Some(free) = free_bytes(folder)
        && f.needed_bytes > free
    {
        return Err(TooLarge {
            needed: f.needed_bytes,
            data: f.data_bytes,
            free,
            copies: copies(plan),
            folder: folder.clone(),
        });
    }
    Ok(f)
}

/// Free bytes for an unprivileged user in the file system holding `dir`.
pub fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: statvfs writes into the struct we own; the path is NUL-terminated.
    if unsafe { libc::statvfs(c.as_ptr(), &mut s) } != 0 {
        return None;
    }
    Some(s.f_bavail as u64 * s.f_frsize as u64)
}
