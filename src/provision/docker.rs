//! A PostgreSQL container started through the `docker` command: a pinned,
//! configurable image on host networking (no bridge needed), never pulled,
//! listening on a free loopback port passed as `PGPORT`, ready when a TCP
//! connection answers a query. Dropping the handle removes the container.
//! (The CLI replaced testcontainers, which brought about 170 crates into
//! every build for a handful of calls.)

use super::{Endpoint, ProvisionError, Request, Server};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// Default images, pinned: plain PostgreSQL, with pgvector, with TimescaleDB.
pub const DEFAULT_IMAGE: &str = "postgres:15.10-bookworm";
pub const DEFAULT_VECTOR_IMAGE: &str = "pgvector/pgvector:0.8.0-pg15";
pub const DEFAULT_TIMESCALEDB_IMAGE: &str = "timescale/timescaledb:2.19.3-pg15";

/// The image for a run: `--docker-image`/`SCHEMABENCH_DOCKER_IMAGE`, else
/// the default for the extensions the workload needs.
pub fn image_for(request: &Request) -> String {
    if let Some(i) = &request.docker_image {
        return i.clone();
    }
    if let Ok(i) = std::env::var("SCHEMABENCH_DOCKER_IMAGE")
        && !i.is_empty()
    {
        return i;
    }
    if request.preload.iter().any(|l| l == "timescaledb") {
        DEFAULT_TIMESCALEDB_IMAGE.into()
    } else if request.extensions.iter().any(|e| e == "vector") {
        DEFAULT_VECTOR_IMAGE.into()
    } else {
        DEFAULT_IMAGE.into()
    }
}

/// Sends one HTTP/1.0 GET to the Docker API on a unix socket and returns
/// whether it answered 200. TCP daemons are only checked for a connection.
fn docker_get_ok(path_and_query: &str) -> bool {
    let host = std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
    let Some(socket) = host.strip_prefix("unix://") else {
        return host
            .strip_prefix("tcp://")
            .and_then(|a| a.parse::<std::net::SocketAddr>().ok())
            .is_some_and(|a| std::net::TcpStream::connect_timeout(&a, Duration::from_millis(300)).is_ok());
    };
    let Ok(mut s) = std::os::unix::net::UnixStream::connect(socket) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(2000)));
    let mut reply = [0u8; 64];
    s.write_all(format!("GET {path_and_query} HTTP/1.0\r\n\r\n").as_bytes())
        .is_ok()
        && s.read(&mut reply).is_ok_and(|n| {
            let head = String::from_utf8_lossy(&reply[..n]);
            head.starts_with("HTTP/1.") && head.split_whitespace().nth(1) == Some("200")
        })
}

/// Whether a Docker daemon answers on `DOCKER_HOST` (or the default socket).
pub fn daemon_answers() -> bool {
    docker_get_ok("/_ping")
}

/// Whether `image` (`name:tag`) is already present on the daemon.
/// schemabench never pulls: a missing image is an error telling the user
/// to pull (or build) it, so no run ever reaches out to a registry.
pub fn image_present(image: &str) -> bool {
    let encoded: String = image
        .chars()
        .map(|c| match c {
            '/' => "%2F".to_string(),
            ':' => "%3A".to_string(),
            c => c.to_string(),
        })
        .collect();
    docker_get_ok(&format!("/images/{encoded}/json"))
}

pub struct DockerServer {
    endpoint: Endpoint,
    image: String,
    ready_in: Duration,
    /// The container's id while it exists.
    container: Option<String>,
    /// The container, listed for a second signal's cleanup.
    _listed: crate::leftovers::Registration,
}

/// Runs `docker ARGS` and returns its standard output, trimmed. The CLI
/// reads `DOCKER_HOST` like the probes above.
fn docker(args: &[&str]) -> Result<String, ProvisionError> {
    let out = std::process::Command::new("docker")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| ProvisionError::Docker(format!("cannot run the `docker` command: {e}")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(ProvisionError::Docker(format!(
            "`docker {}` failed: {}",
            args.first().copied().unwrap_or_default(),
            err.trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

impl DockerServer {
    pub fn start(request: &Request) -> Result<Self, ProvisionError> {
        let begin = Instant::now();
        let image = image_for(request);
        if !image_present(&image) {
            return Err(ProvisionError::Docker(format!(
                "image {image} is not present on the Docker daemon; schemabench never pulls — run `docker pull {image}` \
                 (or scripts/build-local-image.sh without registry access) and pass it with --docker-image"
            )));
        }
        let port = super::local::free_port()?;
        let settings = super::local::server_settings(request);
        let (pgport, owner) = (
            format!("PGPORT={port}"),
            format!("schemabench.pid={}", std::process::id()),
        );
        // Host networking (no bridge), never a pull, labelled with our PID.
        let mut args: Vec<&str> = vec![
            "run",
            "--detach",
            "--pull",
            "never",
            "--network",
            "host",
            "--label",
            &owner,
            "--env",
            &pgport,
            "--env",
            "POSTGRES_HOST_AUTH_METHOD=trust",
            &image,
        ];
        let flags: Vec<String> = settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
        for f in &flags {
            args.push("-c");
            args.push(f);
        }
        let id = docker(&args).map_err(|e| ProvisionError::Docker(format!("starting {image}: {e}")))?;
        let mut server = DockerServer {
            endpoint: Endpoint::local(port, None),
            image: image.clone(),
            ready_in: Duration::ZERO,
            _listed: crate::leftovers::register(crate::leftovers::Leftover::Container(id.clone())),
            container: Some(id),
        };
        // Official images start a socket-only server to initialise, then the
        // real one: ready means a TCP connection answers a query.
        server.wait_connectable(Duration::from_secs(120))?;
        server.ready_in = begin.elapsed();
        Ok(server)
    }

    fn wait_connectable(&self, limit: Duration) -> Result<(), ProvisionError> {
        let deadline = Instant::now() + limit;
        let id = self.container.as_deref().unwrap_or_default();
        let mut checked = Instant::now();
        loop {
            if self.endpoint.accepts_queries() {
                return Ok(());
            }
            // A container that exited will never answer: say why now.
            let exited = checked.elapsed() > Duration::from_secs(1) && {
                checked = Instant::now();
                docker(&["inspect", "--format", "{{.State.Running}}", id]).is_ok_and(|r| r == "false")
            };
            if exited || Instant::now() > deadline {
                let logs = std::process::Command::new("docker")
                    .args(["logs", "--tail", "15", id])
                    .output()
                    .map(|o| String::from_utf8_lossy(&o.stderr).trim().to_string())
                    .unwrap_or_default();
                return Err(ProvisionError::Docker(format!(
                    "{} {} on port {}; its last log lines:\n{logs}",
                    self.image,
                    if exited {
                        "exited before accepting connections"
                    } else {
                        "did not accept connections"
                    },
                    self.endpoint.port()
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The container's id.
    pub fn container_id(&self) -> Option<&str> {
        self.container.as_deref()
    }
}

impl Drop for DockerServer {
    fn drop(&mut self) {
        if let Some(id) = self.container.take() {
            let _ = docker(&["rm", "--force", "--volumes", &id]);
        }
    }
}

impl Server for DockerServer {
    fn provisioner(&self) -> &'static str {
        "docker"
    }
    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }
    fn describe(&self) -> String {
        format!(
            "docker container {} (host network) on 127.0.0.1:{}, ready in {} ms",
            self.image,
            self.endpoint.port(),
            self.ready_in.as_millis()
        )
    }
    fn owned(&self) -> bool {
        true
    }
    fn restart(&mut self) -> Result<(), ProvisionError> {
        let id = self
            .container
            .as_deref()
            .ok_or_else(|| ProvisionError::Docker("container gone".into()))?;
        docker(&["restart", "--time", "30", id])?;
        self.wait_connectable(Duration::from_secs(60))
    }
}
