//! An existing server given by URL. schemabench only creates and drops its
//! own `schemabench_`-prefixed databases there; the password never appears in
//! logs, reports or `Debug` output.

use super::{Endpoint, ProvisionError, Server};
use crate::pgwire::{ConnInfo, Host};

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
    match crate::pgwire::conninfo::keyword_pairs(s) {
        Ok(pairs) => pairs
            .into_iter()
            .map(|(k, v)| match k.as_str() {
                "password" => "password=***".to_string(),
                _ if v.is_empty() || v.contains([' ', '\'', '\\']) => {
                    format!("{k}='{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
                }
                _ => format!("{k}={v}"),
            })
            .collect::<Vec<_>>()
            .join(" "),
        // Unparseable: show nothing of it rather than risk a password.
        Err(_) => "<connection string>".into(),
    }
}

pub struct UrlServer {
    endpoint: Endpoint,
    version: String,
}

impl UrlServer {
    /// Connects to the server `url` names (a `postgres://` URL or libpq
    /// `key=value` settings; `PG*` variables fill what it leaves out).
    pub fn connect(url: &str) -> Result<Self, ProvisionError> {
        let err = |message: String| ProvisionError::Url {
            url: redact(url),
            message,
        };
        let conn = ConnInfo::parse(url).map_err(|e| err(format!("not a usable connection string: {e}")))?;
        let socket_dir = match &conn.host {
            Host::Socket(dir) => Some(dir.clone()),
            Host::Tcp(_) => None,
        };
        Self::existing(Endpoint { conn, socket_dir })
    }

    /// A server someone else runs (and stops), known by its endpoint: e.g. a
    /// cluster a tool holds while several engines come and go on it.
    pub fn existing(endpoint: Endpoint) -> Result<Self, ProvisionError> {
        let err = |message: String| ProvisionError::Url {
            url: endpoint.display(endpoint.admin_db()),
            message,
        };
        let mut client = endpoint
            .connect(endpoint.admin_db())
            .map_err(|e| err(format!("cannot connect: {e}")))?;
        let rows = client
            .simple_query("SHOW server_version")
            .map_err(|e| err(e.to_string()))?;
        let version = crate::pgwire::cell(&rows, 0).unwrap_or_default().to_string();
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
            self.endpoint.display(self.endpoint.admin_db()),
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
        assert_eq!(
            redact("host=db password='s3 cret' user=bob"),
            "host=db password=*** user=bob"
        );
        assert!(!redact("host=db password='s3 cret").contains("cret"));
        let e = Endpoint {
            conn: ConnInfo::parse_with_env("postgres://bob:s3cret@db/app", &|_| None).unwrap(),
            socket_dir: None,
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
