//! Where a PostgreSQL server comes from: an existing server (`url`), a
//! throwaway cluster made with the installed `initdb`/`postgres` (`local`),
//! or — later — a container. Whatever a provisioner starts, dropping its
//! [`Server`] stops and deletes: on success, error, panic unwinding and
//! Ctrl-C (which ends the run normally).

pub mod docker;
pub mod local;
pub mod url;

use crate::pgwire::{ConnInfo, Host, Wire, WireError};
use std::fmt;
use std::path::PathBuf;

/// How to connect to a provisioned server: its connection settings (TLS,
/// options and timeouts included; the admin database as `dbname`) and its
/// unix socket folder, if reachable. `Debug` never shows the password.
#[derive(Clone, Debug)]
pub struct Endpoint {
    /// Host, port, user, password, TLS and other settings; `dbname` is a
    /// database to connect to for administration (creating databases).
    pub conn: ConnInfo,
    /// Unix socket folder, when the server listens on one we can reach.
    pub socket_dir: Option<PathBuf>,
}

impl Endpoint {
    /// A server schemabench started on 127.0.0.1:`port` (trust, no TLS).
    pub fn local(port: u16, socket_dir: Option<PathBuf>) -> Endpoint {
        Endpoint {
            conn: ConnInfo::local("127.0.0.1", port, "postgres", "postgres"),
            socket_dir,
        }
    }

    pub fn port(&self) -> u16 {
        self.conn.port
    }

    /// The database used for administration.
    pub fn admin_db(&self) -> &str {
        &self.conn.dbname
    }

    /// Settings for a connection to `db` over `transport` (`Unix`: the
    /// socket folder; `Tcp`: the host as given).
    pub fn conninfo(&self, db: &str, transport: Transport) -> ConnInfo {
        let mut c = self.conn.with_db(db);
        if let (Transport::Unix, Some(dir)) = (transport, &self.socket_dir) {
            c.host = Host::Socket(dir.clone());
            c.sslmode = crate::pgwire::SslMode::Disable;
        }
        c
    }

    /// Opens an administrative connection to `db` (as the settings say).
    pub fn connect(&self, db: &str) -> Result<Wire, WireError> {
        Wire::connect(&self.conn.with_db(db))
    }

    /// Whether the server accepts a connection and answers a query (the
    /// readiness test: a bare TCP connect succeeds too early).
    pub fn accepts_queries(&self) -> bool {
        let probe = ConnInfo {
            connect_timeout: Some(std::time::Duration::from_secs(2)),
            ..self.conn.clone()
        };
        Wire::connect(&probe).and_then(|mut w| w.batch("SELECT 1")).is_ok()
    }

    /// `postgres://user@host:port/db`, never with the password.
    pub fn display(&self, db: &str) -> String {
        self.conn.with_db(db).display()
    }
}

/// A running server for the duration of a run.
pub trait Server: Send + Sync {
    /// `local`, `url` or `docker`.
    fn provisioner(&self) -> &'static str;
    fn endpoint(&self) -> &Endpoint;
    /// One line for the start of a run, e.g. "local throwaway cluster (PostgreSQL 15.18) on 127.0.0.1:41234".
    fn describe(&self) -> String;
    /// Whether the server was started by schemabench (and all its databases
    /// are throwaway).
    fn owned(&self) -> bool;

    /// Restarts the server (for cold-cache measurements); only servers
    /// schemabench started can be restarted.
    fn restart(&mut self) -> Result<(), ProvisionError> {
        Err(ProvisionError::Url {
            url: String::new(),
            message: "a cold cache needs a server schemabench started (local or docker), not one given by URL".into(),
        })
    }
}

/// Which provisioner to use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Choice {
    /// URL if given, else a container if a Docker daemon answers, else a
    /// local cluster if binaries are found.
    #[default]
    Auto,
    Local,
    Docker,
    Url,
}

/// How client sessions reach the server: TCP on loopback (the default, what
/// a remote application sees) or the server's unix socket (local servers).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    #[default]
    Tcp,
    Unix,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Unix => "unix",
        }
    }
}

/// What the run asks of its server.
#[derive(Clone, Default)]
pub struct Request {
    pub choice: Choice,
    /// How measured sessions connect (`--transport`).
    pub transport: Transport,
    /// `--postgres-url` or `SCHEMABENCH_POSTGRES_URL`.
    pub url: Option<String>,
    /// Server settings for servers schemabench starts (name, value).
    pub settings: Vec<(String, String)>,
    /// Libraries the workload needs preloaded (e.g. `timescaledb`).
    pub preload: Vec<String>,
    /// Extensions the workload needs (chooses the default container image).
    pub extensions: Vec<String>,
    /// Container image `name:tag` (`--docker-image`).
    pub docker_image: Option<String>,
    /// Parent folder for a local cluster (system temp when `None`).
    pub work_dir: Option<PathBuf>,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("choice", &self.choice)
            .field("transport", &self.transport)
            .field("url", &self.url.as_deref().map(url::redact))
            .field("settings", &self.settings)
            .field("preload", &self.preload)
            .field("extensions", &self.extensions)
            .field("docker_image", &self.docker_image)
            .field("work_dir", &self.work_dir)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    #[error(
        "no PostgreSQL server available: pass --postgres-url (or set SCHEMABENCH_POSTGRES_URL), \
         start Docker (with --docker-image if no registry is reachable), \
         or install PostgreSQL 15 (scripts/install-backends.sh) so a local throwaway cluster can be started"
    )]
    NothingAvailable,
    #[error("local cluster: {0}")]
    Local(String),
    #[error("docker: {0}")]
    Docker(String),
    #[error("--postgres-url {url}: {message}")]
    Url { url: String, message: String },
}

/// Why no server could be provisioned for `request`, without starting one;
/// `None` when one can be (a URL, an answering Docker daemon, or local
/// binaries, as `provision` would choose).
pub fn unavailable(request: &Request) -> Option<String> {
    match request.choice {
        Choice::Url => None,
        Choice::Auto if request.url.is_some() => None,
        Choice::Docker if !docker::daemon_answers() => Some("no Docker daemon answers".into()),
        Choice::Docker => {
            let image = docker::image_for(request);
            (!docker::image_present(&image)).then(|| format!("image {image} is not on the Docker daemon"))
        }
        Choice::Auto if docker_usable(request) => None,
        Choice::Local | Choice::Auto => local::find_binaries()
            .is_none()
            .then(|| ProvisionError::NothingAvailable.to_string()),
    }
}

/// Auto mode uses Docker only when a daemon answers and the image is already
/// there (schemabench never pulls).
fn docker_usable(request: &Request) -> bool {
    docker::daemon_answers() && docker::image_present(&docker::image_for(request))
}

/// Provisions a server as requested. Auto order: URL → a container if a
/// Docker daemon answers and has the image → a local cluster if binaries are
/// found.
pub fn provision(request: &Request) -> Result<Box<dyn Server>, ProvisionError> {
    if request.choice == Choice::Docker
        || (request.choice == Choice::Auto && request.url.is_none() && docker_usable(request))
    {
        if !docker::daemon_answers() {
            return Err(ProvisionError::Docker(
                "no Docker daemon answers (set DOCKER_HOST or start one; scripts/dockerd.sh starts a private one)"
                    .into(),
            ));
        }
        return Ok(Box::new(docker::DockerServer::start(request)?));
    }
    match (&request.choice, &request.url) {
        // Without a URL, the PG* environment variables (then libpq's defaults).
        (Choice::Url, None) => Ok(Box::new(url::UrlServer::connect("")?)),
        (Choice::Url | Choice::Auto, Some(u)) => Ok(Box::new(url::UrlServer::connect(u)?)),
        (Choice::Local | Choice::Docker, _) | (Choice::Auto, None) => match local::find_binaries() {
            Some(bins) => Ok(Box::new(local::LocalCluster::start(&bins, request)?)),
            None if request.choice == Choice::Local => Err(ProvisionError::Local(
                "initdb/postgres not found (looked in $SCHEMABENCH_PG_BIN, /usr/lib/postgresql/*/bin and PATH); run scripts/install-backends.sh".into(),
            )),
            None => Err(ProvisionError::NothingAvailable),
        },
    }
}

#[cfg(test)]
mod tests;
