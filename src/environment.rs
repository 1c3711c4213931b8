//! The machine and harness a run used, stored with every result so numbers
//! can be explained (and distrusted) later.

use serde::{Deserialize, Serialize};

/// Host and harness facts.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Environment {
    /// CPU model from /proc/cpuinfo.
    pub cpu_model: String,
    /// Logical CPUs available to this process.
    pub cpus: usize,
    /// Total memory in bytes.
    pub memory_bytes: u64,
    pub os: String,
    pub hostname: String,
    /// schemabench version.
    pub harness_version: String,
    /// Git commit the harness was built from (`-dirty` with local changes).
    pub harness_commit: String,
    /// CPUs on the host (online).
    pub host_cpus: usize,
    /// Whether the harness is restricted to fewer CPUs than the host has
    /// (taskset, cgroup cpusets).
    pub client_pinned: bool,
    /// "client threads on 2 of 2 CPUs, not pinned".
    pub client_placement: String,
}

impl Environment {
    pub fn detect() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        Environment {
            cpu_model: field(&cpuinfo, "model name").unwrap_or_else(|| "unknown".into()),
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_bytes: field(&meminfo, "MemTotal").and_then(|v| kib(&v)).unwrap_or(0),
            os: os_name(),
            hostname: std::fs::read_to_string("/proc/sys/kernel/hostname")
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|_| "unknown".into()),
            harness_version: env!("CARGO_PKG_VERSION").to_string(),
            harness_commit: env!("SCHEMABENCH_GIT_COMMIT").to_string(),
            host_cpus: host_cpus(),
            client_pinned: false,
            client_placement: String::new(),
        }
        .with_placement()
    }

    fn with_placement(mut self) -> Self {
        let allowed = affinity_cpus().unwrap_or(self.cpus);
        self.client_pinned = allowed < self.host_cpus;
        self.client_placement = format!(
            "threads on {allowed} of {} CPUs, {}",
            self.host_cpus,
            if self.client_pinned { "pinned" } else { "not pinned" }
        );
        self
    }
}

fn host_cpus() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    if n > 0 { n as usize } else { 1 }
}

/// CPUs this process may run on (its affinity mask).
fn affinity_cpus() -> Option<usize> {
    // SAFETY: sched_getaffinity fills the set we own.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return None;
        }
        Some(libc::CPU_COUNT(&set) as usize)
    }
}

fn field(text: &str, name: &str) -> Option<String> {
    text.lines()
        .find(|l| l.split(':').next().is_some_and(|k| k.trim() == name))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

fn kib(v: &str) -> Option<u64> {
    v.split_whitespace().next()?.parse::<u64>().ok().map(|k| k * 1024)
}

fn os_name() -> String {
    let release = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let pretty = field(&release.replace('=', ":"), "PRETTY_NAME").map(|s| s.trim_matches('"').to_string());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").map(|s| s.trim().to_string());
    match (pretty, kernel) {
        (Some(p), Ok(k)) => format!("{p}, Linux {k}"),
        (Some(p), Err(_)) => p,
        (None, _) => std::env::consts::OS.to_string(),
    }
}

/// Peak resident memory of this process so far (VmHWM), if known.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    field(&status, "VmHWM").and_then(|v| kib(&v))
}

/// The whole machine's (busy, total) CPU time in clock ticks since boot,
/// from the first line of /proc/stat (`None` where there is none).
pub fn machine_jiffies() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let line = text.lines().next()?;
    let v: Vec<u64> = line.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3)? + v.get(4).unwrap_or(&0);
    Some((total - idle, total))
}

/// The busy fraction of all CPUs between two [`machine_jiffies`] readings.
pub fn busy_between(a: (u64, u64), b: (u64, u64)) -> Option<f64> {
    let total = b.1.checked_sub(a.1).filter(|&t| t > 0)?;
    Some(b.0.saturating_sub(a.0) as f64 / total as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_this_machine() {
        let env = Environment::detect();
        assert!(env.cpus >= 1);
        if cfg!(target_os = "linux") {
            assert!(env.memory_bytes > 0);
            assert_ne!(env.cpu_model, "");
            assert!(peak_rss_bytes().unwrap() > 0);
        }
        assert_eq!(env.harness_version, env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn a_spinning_thread_shows_in_the_machine_busy_fraction() {
        if !cfg!(target_os = "linux") {
            return;
        }
        let a = machine_jiffies().expect("/proc/stat");
        let until = std::time::Instant::now() + std::time::Duration::from_millis(300);
        while std::time::Instant::now() < until {
            std::hint::black_box(0u64.wrapping_add(1));
        }
        let b = machine_jiffies().unwrap();
        let busy = busy_between(a, b).expect("time passed");
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        // One of the machine's CPUs was busy the whole time (minus tick granularity).
        assert!(busy >= 0.5 / cpus && busy <= 1.0, "{busy}");
        assert_eq!(busy_between(b, b), None);
    }
}
