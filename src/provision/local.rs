//! A throwaway cluster: `initdb` into a temp folder, `postgres` on a free
//! loopback port with its socket in that folder. As root the server runs as
//! the `postgres` OS user (PostgreSQL refuses root). Dropping the cluster
//! stops the server by its PID (fast shutdown, then SIGKILL) and deletes the
//! folder; if schemabench itself is killed, the kernel signals the server
//! (`PR_SET_PDEATHSIG`).

use super::{Endpoint, ProvisionError, Request, Server};
use std::ffi::CString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Settings for clusters schemabench starts, unless the scenario or CLI says
/// otherwise. Durability stays on: relaxed durability is flagged in reports.
/// The settings a server schemabench starts runs with (a local cluster or
/// a container): the defaults, preloaded libraries, and the request's own
/// settings last. With TimescaleDB preloaded, no background workers: its
/// scheduler would hold a session on every database with the extension,
/// and a database with a session cannot be a TEMPLATE for the variants'
/// copies; and no telemetry (nothing leaves the machine).
pub(super) fn server_settings(request: &Request) -> Vec<(String, String)> {
    let mut settings: Vec<(String, String)> = DEFAULT_SETTINGS
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    if !request.preload.is_empty() {
        settings.push(("shared_preload_libraries".into(), request.preload.join(",")));
        if request.preload.iter().any(|l| l == "timescaledb") {
            settings.push(("timescaledb.max_background_workers".into(), "0".into()));
            settings.push(("timescaledb.telemetry_level".into(), "off".into()));
        }
    }
    for (k, v) in &request.settings {
        settings.retain(|(name, _)| name != k);
        settings.push((k.clone(), v.clone()));
    }
    settings
}

pub const DEFAULT_SETTINGS: &[(&str, &str)] = &[
    ("shared_buffers", "256MB"),
    ("max_connections", "100"),
    ("fsync", "on"),
    ("synchronous_commit", "on"),
    ("full_page_writes", "on"),
    ("max_wal_size", "2GB"),
    ("checkpoint_timeout", "15min"),
];

/// Installed PostgreSQL programs.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub dir: PathBuf,
}

impl Binaries {
    pub fn path(&self, program: &str) -> PathBuf {
        self.dir.join(program)
    }
}

/// Finds `initdb` and `postgres`: `$SCHEMABENCH_PG_BIN`, then the newest
/// `/usr/lib/postgresql/*/bin`, then `PATH`.
pub fn find_binaries() -> Option<Binaries> {
    let has = |d: &Path| d.join("initdb").is_file() && d.join("postgres").is_file();
    if let Some(d) = std::env::var_os("SCHEMABENCH_PG_BIN").map(PathBuf::from) {
        return has(&d).then_some(Binaries { dir: d });
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, d)| has(d))
        .collect();
    versions.sort();
    if let Some((_, d)) = versions.pop() {
        return Some(Binaries { dir: d });
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .find(|d| has(d))
        .map(|dir| Binaries { dir })
}

/// The OS user the server runs as when we are root.
#[derive(Clone, Copy)]
struct RunAs {
    uid: u32,
    gid: u32,
}

fn run_as() -> Result<Option<RunAs>, ProvisionError> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let name = CString::new("postgres").expect("no NUL");
    // SAFETY: getpwnam returns a pointer into static storage or NULL; we copy
    // the two fields out immediately on this thread.
    let pw = unsafe { libc::getpwnam(name.as_ptr()) };
    if pw.is_null() {
        return Err(ProvisionError::Local(
            "running as root, but there is no `postgres` OS user to run the server as (install postgresql-15 or create the user)".into(),
        ));
    }
    // SAFETY: checked non-null above.
    let (uid, gid) = unsafe { ((*pw).pw_uid, (*pw).pw_gid) };
    Ok(Some(RunAs { uid, gid }))
}

fn chown(path: &Path, who: &RunAs) -> Result<(), ProvisionError> {
    std::os::unix::fs::chown(path, Some(who.uid), Some(who.gid))
        .map_err(|e| ProvisionError::Local(format!("chown {}: {e}", path.display())))
}

fn command(program: PathBuf, who: &Option<RunAs>) -> Command {
    let mut c = Command::new(program);
    if let Some(w) = who {
        c.uid(w.uid).gid(w.gid);
    }
    c.env_remove("PGDATA").env("LC_ALL", "C");
    c
}

/// Why a server setting is refused on clusters schemabench starts, if it
/// is: those clusters trust every local connection without a password, so
/// nothing may make them reachable beyond this machine's loopback and the
/// run's private socket folder, or move the files that say so. `ssl_*`
/// settings stay allowed: the cluster listens on loopback only.
pub fn refused_setting(name: &str) -> Option<&'static str> {
    match name.trim().to_ascii_lowercase().as_str() {
        "listen_addresses" => Some(
            "the cluster trusts every connection without a password, so it listens on 127.0.0.1 only; \
             benchmark a reachable server through --postgres-url instead",
        ),
        "port" => Some("schemabench picks a free loopback port for each cluster (a fixed port can clash)"),
        "hba_file" | "ident_file" | "config_file" | "data_directory" => {
            Some("schemabench writes the cluster's files and its loopback-only authentication itself")
        }
        "unix_socket_directories" | "unix_socket_permissions" | "unix_socket_group" => {
            Some("the cluster's socket lives in the run's private folder, reachable by the run's user only")
        }
        _ => None,
    }
}

pub(crate) fn free_port() -> Result<u16, ProvisionError> {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| ProvisionError::Local(format!("no free loopback port: {e}")))
}

/// How to (re)start the server process.
struct Spawn {
    program: PathBuf,
    who: Option<RunAs>,
    data: PathBuf,
    port: u16,
    socket_dir: PathBuf,
    settings: Vec<(String, String)>,
    log: PathBuf,
}

impl Spawn {
    fn start(&self) -> Result<Child, ProvisionError> {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| ProvisionError::Local(format!("server log: {e}")))?;
        if let Some(w) = &self.who {
            chown(&self.log, w)?;
        }
        let mut cmd = command(self.program.clone(), &self.who);
        cmd.arg("-D")
            .arg(&self.data)
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-k")
            .arg(&self.socket_dir)
            .args(["-c", "listen_addresses=127.0.0.1"]);
        for (k, v) in &self.settings {
            cmd.arg("-c").arg(format!("{k}={v}"));
        }
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(log_file);
        // SAFETY: prctl is async-signal-safe; it runs in the child after fork
        // and after the uid change (which would clear it).
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        cmd.spawn()
            .map_err(|e| ProvisionError::Local(format!("starting postgres: {e}")))
    }
}

pub struct LocalCluster {
    // Field order matters: the server stops (Drop) before the folder goes.
    child: Child,
    spawn: Spawn,
    endpoint: Endpoint,
    version: String,
    log: PathBuf,
    dir: tempfile::TempDir,
    /// Time from `initdb` to the first accepted connection.
    pub ready_in: Duration,
    /// The server and the folder, listed for a second signal's cleanup.
    listed: [crate::leftovers::Registration; 2],
}

impl LocalCluster {
    pub fn start(bins: &Binaries, request: &Request) -> Result<Self, ProvisionError> {
        let begin = Instant::now();
        let who = run_as()?;
        let mut builder = tempfile::Builder::new();
        builder.prefix("schemabench-pg-");
        let dir = match &request.work_dir {
            Some(p) => builder.tempdir_in(p),
            None => builder.tempdir(),
        }
        .map_err(|e| ProvisionError::Local(format!("creating a temp folder: {e}")))?;
        if let Some(w) = &who {
            chown(dir.path(), w)?;
        }
        let data = dir.path().join("data");
        let log = dir.path().join("server.log");
        let out = command(bins.path("initdb"), &who)
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ])
            .output()
            .map_err(|e| ProvisionError::Local(format!("running initdb: {e}")))?;
        if !out.status.success() {
            return Err(ProvisionError::Local(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        // "postgres (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)" -> "15.20"
        let version_text = Command::new(bins.path("postgres"))
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        let version = version_text
            .split_once("(PostgreSQL)")
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .unwrap_or("unknown")
            .to_string();

        let settings = server_settings(request);

        let port = free_port()?;
        let spawn = Spawn {
            program: bins.path("postgres"),
            who,
            data: data.clone(),
            port,
            socket_dir: dir.path().to_path_buf(),
            settings,
            log: log.clone(),
        };
        let folder = crate::leftovers::register(crate::leftovers::Leftover::Folder(dir.path().to_path_buf()));
        let child = spawn.start()?;
        let process = crate::leftovers::register(crate::leftovers::Leftover::Process(child.id() as i32));
        let mut cluster = LocalCluster {
            child,
            spawn,
            endpoint: Endpoint::local(port, Some(dir.path().to_path_buf())),
            version,
            log,
            dir,
            ready_in: Duration::ZERO,
            listed: [process, folder],
        };
        // On failure, dropping `cluster` stops the server and removes the folder.
        cluster
            .wait_ready(Duration::from_secs(30))
            .map_err(ProvisionError::Local)?;
        cluster.ready_in = begin.elapsed();
        tracing::debug!(
            port,
            ready_ms = cluster.ready_in.as_millis() as u64,
            "local cluster ready"
        );
        Ok(cluster)
    }

    fn wait_ready(&mut self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "postgres exited ({status}) during start-up: {}",
                    self.log_tail()
                ));
            }
            match self.endpoint.accepts_queries() {
                true => return Ok(()),
                _ if Instant::now() > deadline => {
                    return Err(format!("not ready after {timeout:?}: {}", self.log_tail()));
                }
                _ => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().rev().take(5).collect();
        lines.into_iter().rev().collect::<Vec<_>>().join(" | ")
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The cluster's folder (removed on drop).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Stops the server and starts it again on the same data and port: its
    /// shared buffers start empty (the OS page cache stays as it was).
    pub fn restart(&mut self) -> Result<(), ProvisionError> {
        self.stop();
        self.child = self.spawn.start()?;
        self.listed[0] = crate::leftovers::register(crate::leftovers::Leftover::Process(self.child.id() as i32));
        self.wait_ready(Duration::from_secs(30)).map_err(ProvisionError::Local)
    }

    fn stop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        // SAFETY: signalling our own child by PID.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) }; // fast shutdown
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Server for LocalCluster {
    fn provisioner(&self) -> &'static str {
        "local"
    }
    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }
    fn describe(&self) -> String {
        format!(
            "local throwaway cluster (PostgreSQL {}) on 127.0.0.1:{}, ready in {} ms",
            self.version,
            self.endpoint.port(),
            self.ready_in.as_millis()
        )
    }
    fn owned(&self) -> bool {
        true
    }
    fn restart(&mut self) -> Result<(), ProvisionError> {
        LocalCluster::restart(self)
    }
}
