//! CPU time of this process, of its reaped children, and of a server's
//! process tree (from /proc), and waiting for an idle machine.

use std::time::{Duration, Instant};

/// CPU time and context switches of a process (or its reaped children).
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    /// User + system time.
    pub cpu: Duration,
    /// Voluntary (blocked) + involuntary (preempted) context switches.
    pub switches: u64,
}

impl std::ops::Sub for Usage {
    type Output = Usage;
    fn sub(self, earlier: Usage) -> Usage {
        Usage {
            cpu: self.cpu.saturating_sub(earlier.cpu),
            switches: self.switches.saturating_sub(earlier.switches),
        }
    }
}

fn rusage(who: libc::c_int) -> Usage {
    // SAFETY: getrusage fills the struct we own.
    let mut r: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(who, &mut r) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Usage {
        cpu: tv(r.ru_utime) + tv(r.ru_stime),
        switches: (r.ru_nvcsw + r.ru_nivcsw) as u64,
    }
}

/// This process so far (all threads, finished ones included).
pub fn own() -> Usage {
    rusage(libc::RUSAGE_SELF)
}

/// Children this process has waited for.
pub fn reaped_children() -> Usage {
    rusage(libc::RUSAGE_CHILDREN)
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

/// The fields after the command name of /proc/<pid>/stat (field 3 first).
fn stat_fields(pid: u32) -> Option<Vec<u64>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 1..];
    Some(
        rest.split_whitespace()
            .skip(1)
            .map(|f| f.parse().unwrap_or(0))
            .collect(),
    )
}

/// CPU time of a server: the postmaster, every live child (backends,
/// background workers), and children it has already reaped (backends that
/// exited: their time is in the postmaster's cutime/cstime).
pub fn process_tree(pid: u32) -> Duration {
    // Indexes into stat_fields: ppid 0, utime 10, stime 11, cutime 12, cstime 13.
    let mut ticks = 0u64;
    if let Some(f) = stat_fields(pid) {
        ticks += f[10] + f[11] + f[12] + f[13];
    }
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for entry in dir.flatten() {
            let Some(child) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            if let Some(f) = stat_fields(child)
                && f.first() == Some(&(pid as u64))
            {
                ticks += f[10] + f[11];
            }
        }
    }
    Duration::from_secs_f64(ticks as f64 / clock_ticks())
}

/// Live children of `pid`.
pub fn children(pid: u32) -> usize {
    std::fs::read_dir("/proc").map_or(0, |dir| {
        dir.flatten()
            .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()))
            .filter(|&c| stat_fields(c).is_some_and(|f| f.first() == Some(&(pid as u64))))
            .count()
    })
}

/// [`process_tree`] once the server has reaped the backends of a finished
/// client (down to `children` live children, waiting at most 5 s): a
/// backend that is exiting, or exited but not yet reaped, shows no CPU
/// time in /proc, so reading at once would lose a whole run's work.
pub fn settled_tree(pid: u32, children_before: usize) -> Duration {
    let deadline = Instant::now() + Duration::from_secs(5);
    while children(pid) > children_before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    process_tree(pid)
}

/// Waits until the machine's CPUs are at least `idle` idle over half a
/// second, for at most `limit`; returns the idle fraction last seen.
pub fn wait_idle(idle: f64, limit: Duration) -> f64 {
    let deadline = Instant::now() + limit;
    loop {
        let Some((b0, t0)) = crate::environment::machine_jiffies() else {
            return 1.0;
        };
        std::thread::sleep(Duration::from_millis(500));
        let Some((b1, t1)) = crate::environment::machine_jiffies() else {
            return 1.0;
        };
        let seen = 1.0 - (b1 - b0) as f64 / (t1 - t0).max(1) as f64;
        if seen >= idle || Instant::now() >= deadline {
            return seen;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_child_shows_in_the_process_tree_and_after_it_is_reaped() {
        let me = std::process::id();
        let before = process_tree(me);
        let reaped_before = reaped_children();
        // A child that burns CPU for a moment.
        let mut child = std::process::Command::new("sh")
            .args(["-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"])
            .spawn()
            .unwrap();
        child.wait().unwrap();
        let after = process_tree(me);
        let reaped = (reaped_children() - reaped_before).cpu;
        assert!(reaped > Duration::from_millis(20), "reaped child CPU {reaped:?}");
        assert!(
            after - before >= reaped.mul_f64(0.5),
            "tree {:?} vs child {reaped:?}",
            after - before
        );
    }
}
