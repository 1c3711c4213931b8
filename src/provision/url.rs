//! An existing server given by URL. schemabench only creates and drops its
//! own `schemabench_`-prefixed databases there; the password never appears in
//! logs, reports or `Debug` output.

use super::{Endpoint, ProvisionError, Server};
use std::str::FromStr;

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return redact_keywords(url);
    };
    let (auth, host) = match rest.rsplit_once('@') {
        Some(parts) => parts,
        None => return format!("{scheme}://{}", redact_query(rest)),
    };
    let user = auth.split(':').next().unwrap_or("");
    let masked = if auth.contains(':') {
        format!("{user}:***")
    } else {
        user.to_string()
    };
    format!("{scheme}://{masked}@{}", redact_query(host))
}

fn redact_query(s: &str) -> String {
    match s.split_once('?') {
        Some((base, q)) => {
            let parts: Vec<String> = q
                .split('&')
                .map(|kv| {
                    if kv.starts_with("password=") {
                        "password=***".to_string()
                    } else {
                        kv.to_string()
                    }
                })
                .collect();
            format!("{base}?{}", parts.join("&"))
        }
        None => s.to_string(),
    }
}

fn redact_keywords(s: &str) -> String {
    s.split_whitespace()
        .map(|kv| {
            if kv.starts_with("password=") {
                "password=***"
            } else {
                kv
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub struct UrlServer {
    endpoint: Endpoint,
    version: String,
}

impl UrlServer {
    pub fn connect(url: &str) -> Result<Self, ProvisionError> {
        let err = |message: String| ProvisionError::Url {
            url: redact(url),
            message,
        };
        let config = postgres::Config::from_str(url).map_err(|e| err(format!("not a PostgreSQL URL: {e}")))?;
        let host = config
            .get_hosts()
            .first()
            .map(|h| match h {
                postgres::config::Host::Tcp(h) => h.clone(),
                #[cfg(unix)]
                postgres::config::Host::Unix(p) => p.display().to_string(),
            })
            .unwrap_or_else(|| "localhost".into());
        // A URL whose host is a folder names the server's unix socket.
        let socket_dir = config.get_hosts().first().and_then(|h| match h {
            #[cfg(unix)]
            postgres::config::Host::Unix(p) => Some(p.clone()),
            _ => None,
        });
        let endpoint = Endpoint {
            host,
            port: config.get_ports().first().copied().unwrap_or(5432),
            socket_dir,
            user: config.get_user().unwrap_or("postgres").to_string(),
            password: config.get_password().map(|p| String::from_utf8_lossy(p).into_owned()),
            admin_db: config.get_dbname().unwrap_or("postgres").to_string(),
        };
        let mut client = config
            .connect(postgres::NoTls)
            .map_err(|e| err(format!("cannot connect: {e}")))?;
        let version: String = client
            .query_one("SHOW server_version", &[])
            .and_then(|r| r.try_get(0))
            .map_err(|e| err(e.to_string()))?;
        Ok(UrlServer { endpoint, version })
    }

    /// A server someone else runs (and stops), known by its endpoint: e.g. a
    /// cluster a tool holds while several engines come and go on it.
    pub fn existing(endpoint: Endpoint) -> Result<Self, ProvisionError> {
        let mut client = endpoint
            .config(&endpoint.admin_db)
            .connect(postgres::NoTls)
            .map_err(|e| ProvisionError::Url {
                url: endpoint.display(&endpoint.admin_db),
                message: format!("cannot connect: {e}"),
            })?;
        let version: String = client
            .query_one("SHOW server_version", &[])
            .and_then(|r| r.try_get(0))
            .map_err(|e| ProvisionError::Url {
                url: endpoint.display(&endpoint.admin_db),
                message: e.to_string(),
            })?;
        Ok(UrlServer { endpoint, version })
    }
}

impl Server for UrlServer {
    fn provisioner(&self) -> &'static str {
        "url"
    }
    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }
    fn describe(&self) -> String {
        format!(
            "existing server {} (PostgreSQL {})",
            self.endpoint.display(&self.endpoint.admin_db),
            self.version
        )
    }
    fn owned(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_survive_redaction() {
        assert_eq!(
            redact("postgres://bob:s3cret@db:5432/app"),
            "postgres://bob:***@db:5432/app"
        );
        assert_eq!(redact("postgres://bob@db/app"), "postgres://bob@db/app");
        assert_eq!(
            redact("postgresql://db/app?user=x&password=s3cret"),
            "postgresql://db/app?user=x&password=***"
        );
        assert_eq!(
            redact("host=db user=bob password=s3cret"),
            "host=db user=bob password=***"
        );
        let e = Endpoint {
            host: "db".into(),
            port: 5432,
            socket_dir: None,
            user: "bob".into(),
            password: Some("s3cret".into()),
            admin_db: "app".into(),
        };
        assert!(!format!("{e:?}").contains("s3cret"));
        assert!(!e.display("x").contains("s3cret"));
        let r = super::super::Request {
            url: Some("postgres://bob:s3cret@db/app".into()),
            ..Default::default()
        };
        assert!(!format!("{r:?}").contains("s3cret"));
    }
}
