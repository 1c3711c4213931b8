//! A PostgreSQL container started with testcontainers: a pinned, configurable
//! image on host networking (no bridge needed), listening on a free loopback
//! port passed as `PGPORT`, ready when its log says so and a connection
//! succeeds. Dropping the handle removes the container.

use super::{Endpoint, ProvisionError, Request, Server};
use std::io::{Read, Write};
use std::time::{Duration, Instant};
use testcontainers::core::WaitFor;
use testcontainers::runners::SyncRunner;
use testcontainers::{Container, GenericImage, ImageExt};

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
    container: Option<Container<GenericImage>>,
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
        let (name, tag) = image.rsplit_once(':').unwrap_or((&image, "latest"));
        let port = super::local::free_port()?;
        let mut args: Vec<String> = Vec::new();
        let mut settings: Vec<(String, String)> = super::local::DEFAULT_SETTINGS
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if !request.preload.is_empty() {
            settings.push(("shared_preload_libraries".into(), request.preload.join(",")));
        }
        for (k, v) in &request.settings {
            settings.retain(|(n, _)| n != k);
            settings.push((k.clone(), v.clone()));
        }
        for (k, v) in settings {
            args.push("-c".into());
            args.push(format!("{k}={v}"));
        }
        let container = GenericImage::new(name, tag)
            .with_wait_for(WaitFor::message_on_stderr(
                "database system is ready to accept connections",
            ))
            .with_network("host")
            .with_env_var("PGPORT", port.to_string())
            .with_env_var("POSTGRES_HOST_AUTH_METHOD", "trust")
            .with_cmd(args)
            .with_startup_timeout(Duration::from_secs(120))
            .start()
            .map_err(|e| ProvisionError::Docker(format!("starting {image}: {e}")))?;
        let mut server = DockerServer {
            endpoint: Endpoint::local(port, None),
            image: image.clone(),
            ready_in: Duration::ZERO,
            container: Some(container),
        };
        // Official images restart the server after initialisation: wait for
        // a real connection, not only the first ready message.
        server.wait_connectable()?;
        server.ready_in = begin.elapsed();
        Ok(server)
    }

    fn wait_connectable(&self) -> Result<(), ProvisionError> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if self.endpoint.accepts_queries() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(ProvisionError::Docker(format!(
                    "{} did not accept connections on port {}",
                    self.image,
                    self.endpoint.port()
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The container's id.
    pub fn container_id(&self) -> Option<&str> {
        self.container.as_ref().map(|c| c.id())
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
        let c = self
            .container
            .as_ref()
            .ok_or_else(|| ProvisionError::Docker("container gone".into()))?;
        c.stop().map_err(|e| ProvisionError::Docker(format!("stopping: {e}")))?;
        c.start()
            .map_err(|e| ProvisionError::Docker(format!("starting: {e}")))?;
        self.wait_connectable()
    }
}
