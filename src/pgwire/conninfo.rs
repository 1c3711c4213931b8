//! Connection settings the way libpq reads them: a `postgres://` URL or a
//! `key=value` string, with the `PG*` environment variables filling what the
//! string leaves out. One [`ConnInfo`] describes every connection schemabench
//! opens to a server (loader, setup, sessions, EXPLAIN, sizes, cancel), so a
//! setting given once reaches all of them. `Debug` and [`ConnInfo::display`]
//! never show the password.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Where the server listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A host name or IP address (TCP).
    Tcp(String),
    /// The folder holding the server's unix socket (`.s.PGSQL.<port>`).
    Socket(PathBuf),
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Tcp(h) if h.contains(':') => write!(f, "[{h}]"),
            Host::Tcp(h) => f.write_str(h),
            Host::Socket(p) => write!(f, "{}", p.display()),
        }
    }
}

/// libpq's `sslmode`, without `allow` (which prefers plain text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    /// Never TLS.
    Disable,
    /// TLS when the server offers it, plain text otherwise (libpq's default).
    #[default]
    Prefer,
    /// TLS or nothing; the certificate is checked only when `sslrootcert` is
    /// given (then as `verify-ca`), as libpq does.
    Require,
    /// TLS, with a certificate signed by a trusted root.
    VerifyCa,
    /// `verify-ca`, and the certificate names the host connected to.
    VerifyFull,
}

impl SslMode {
    pub const NAMES: &'static str = "disable, prefer, require, verify-ca, verify-full";

    pub fn parse(s: &str) -> Option<SslMode> {
        Some(match s {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// Everything needed to open one connection.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnInfo {
    pub host: Host,
    pub port: u16,
    pub user: String,
    pub password: Option<String>,
    pub dbname: String,
    pub sslmode: SslMode,
    /// CA certificates (PEM) to trust; `None`: the system's roots.
    pub sslrootcert: Option<PathBuf>,
    /// Command-line options for the server process, e.g. `-c search_path=app`.
    pub options: Option<String>,
    pub application_name: String,
    /// Limit on connecting (TCP or socket connect, TLS and authentication).
    pub connect_timeout: Option<Duration>,
}

impl fmt::Debug for ConnInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnInfo")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("dbname", &self.dbname)
            .field("sslmode", &self.sslmode)
            .field("sslrootcert", &self.sslrootcert)
            .field("options", &self.options)
            .field("application_name", &self.application_name)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

/// A connection string schemabench cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConnInfoError {
    pub message: String,
}

fn bad(message: impl Into<String>) -> ConnInfoError {
    ConnInfoError {
        message: message.into(),
    }
}

/// The settings a connection string may carry (libpq's names).
pub const KEYS: &[&str] = &[
    "host",
    "port",
    "user",
    "password",
    "dbname",
    "sslmode",
    "sslrootcert",
    "options",
    "application_name",
    "connect_timeout",
];

/// Environment variables read, by setting.
const ENV: &[(&str, &str)] = &[
    ("host", "PGHOST"),
    ("port", "PGPORT"),
    ("user", "PGUSER"),
    ("password", "PGPASSWORD"),
    ("dbname", "PGDATABASE"),
    ("sslmode", "PGSSLMODE"),
    ("sslrootcert", "PGSSLROOTCERT"),
    ("options", "PGOPTIONS"),
    ("application_name", "PGAPPNAME"),
    ("connect_timeout", "PGCONNECT_TIMEOUT"),
];

impl ConnInfo {
    /// A plain TCP connection to a server schemabench started (trust
    /// authentication, no TLS).
    pub fn local(host: &str, port: u16, user: &str, dbname: &str) -> ConnInfo {
        ConnInfo {
            host: Host::Tcp(host.into()),
            port,
            user: user.into(),
            password: None,
            dbname: dbname.into(),
            sslmode: SslMode::Disable,
            sslrootcert: None,
            options: None,
            application_name: "schemabench".into(),
            connect_timeout: Some(Duration::from_secs(10)),
        }
    }

    /// Parses a URL (`postgres://user:pw@host:port/db?sslmode=require`) or a
    /// `key=value` string; settings it does not give come from the process's
    /// `PG*` environment variables, then libpq's defaults.
    pub fn parse(s: &str) -> Result<ConnInfo, ConnInfoError> {
        Self::parse_with_env(s, &|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
    }

    /// [`ConnInfo::parse`] with the environment given (tests).
    pub fn parse_with_env(s: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<ConnInfo, ConnInfoError> {
        let s = s.trim();
        let pairs = if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            url_pairs(s)?
        } else {
            keyword_pairs(s)?
        };
        let mut settings: Vec<(String, String)> = Vec::new();
        for (k, v) in pairs {
            if !KEYS.contains(&k.as_str()) {
                let hint = crate::suggest::did_you_mean(&k, KEYS.iter().copied())
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                return Err(bad(format!(
                    "unknown connection setting `{k}`{hint} (accepted: {})",
                    KEYS.join(", ")
                )));
            }
            settings.retain(|(name, _)| *name != k);
            settings.push((k, v));
        }
        let get = |key: &str| -> Option<String> {
            settings
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .or_else(|| ENV.iter().find(|(k, _)| *k == key).and_then(|(_, var)| env(var)))
        };
        let host = match get("host") {
            Some(h) if h.contains(',') => {
                return Err(bad(format!("host `{h}`: several hosts are not supported; give one")));
            }
            Some(h) if h.starts_with('/') => Host::Socket(PathBuf::from(h)),
            Some(h) if !h.is_empty() => Host::Tcp(h),
            _ => default_host(),
        };
        let port = match get("port") {
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|&p| p > 0)
                .ok_or_else(|| bad(format!("port `{p}` is not a port number (1-65535)")))?,
            None => 5432,
        };
        let user = get("user").unwrap_or_else(default_user);
        let sslmode = match get("sslmode") {
            Some(m) => SslMode::parse(&m)
                .ok_or_else(|| bad(format!("sslmode `{m}` is not supported (accepted: {})", SslMode::NAMES)))?,
            None => SslMode::Prefer,
        };
        let connect_timeout = match get("connect_timeout") {
            Some(t) => {
                let secs: u64 = t
                    .trim()
                    .parse()
                    .map_err(|_| bad(format!("connect_timeout `{t}` is not a whole number of seconds")))?;
                // libpq: 0 means wait forever, and less than 2 s counts as 2 s.
                (secs > 0).then(|| Duration::from_secs(secs.max(2)))
            }
            None => None,
        };
        Ok(ConnInfo {
            dbname: get("dbname").unwrap_or_else(|| user.clone()),
            host,
            port,
            password: get("password"),
            sslmode,
            sslrootcert: get("sslrootcert").filter(|p| p != "system").map(PathBuf::from),
            options: get("options"),
            application_name: get("application_name").unwrap_or_else(|| "schemabench".into()),
            connect_timeout,
            user,
        })
    }

    /// The same server and settings, another database.
    pub fn with_db(&self, dbname: &str) -> ConnInfo {
        ConnInfo {
            dbname: dbname.into(),
            ..self.clone()
        }
    }

    /// `postgres://user@host:port/db?sslmode=...`, never with the password.
    pub fn display(&self) -> String {
        let mut s = match &self.host {
            Host::Tcp(_) => format!("postgres://{}@{}:{}/{}", self.user, self.host, self.port, self.dbname),
            Host::Socket(dir) => format!(
                "postgres://{}@/{}?host={}&port={}",
                self.user,
                self.dbname,
                dir.display(),
                self.port
            ),
        };
        if !matches!(self.sslmode, SslMode::Prefer | SslMode::Disable) {
            s.push(if s.contains('?') { '&' } else { '?' });
            s.push_str(&format!("sslmode={}", self.sslmode.as_str()));
        }
        s
    }
}

/// libpq's default: the Debian socket folder when it exists, else localhost.
fn default_host() -> Host {
    let dir = PathBuf::from("/var/run/postgresql");
    if dir.is_dir() {
        Host::Socket(dir)
    } else {
        Host::Tcp("localhost".into())
    }
}

fn default_user() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres".into())
}

fn decode(s: &str) -> Result<String, ConnInfoError> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        // The text is not shown: it may be a password.
        .map_err(|_| bad("a part of the URL is not valid percent-encoded UTF-8"))
}

/// `text` with every password in it replaced by `<redacted>`: the value
/// after `password=` in a keyword string (quoted or not), and the part
/// after `user:` before `@` in a URL. For server settings (a standby's
/// `primary_conninfo`) and anything else that may quote a connection string.
pub fn redact_conninfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = find_ascii_ci(rest, "password") {
        let (before, after) = rest.split_at(at + "password".len());
        out.push_str(before);
        let trimmed = after.trim_start();
        let Some(value) = trimmed.strip_prefix('=') else {
            rest = after;
            continue;
        };
        out.push_str(&after[..after.len() - trimmed.len()]);
        out.push('=');
        let value_start = value.trim_start();
        out.push_str(&value[..value.len() - value_start.len()]);
        out.push_str("<redacted>");
        rest = match value_start.strip_prefix('\'') {
            Some(quoted) => {
                let mut end = quoted.len();
                let mut escaped = false;
                for (i, c) in quoted.char_indices() {
                    match c {
                        _ if escaped => escaped = false,
                        '\\' => escaped = true,
                        '\'' => {
                            end = i + 1;
                            break;
                        }
                        _ => {}
                    }
                }
                &quoted[end.min(quoted.len())..]
            }
            None => {
                let end = value_start
                    .find(|c: char| c.is_whitespace() || c == '&')
                    .unwrap_or(value_start.len());
                &value_start[end..]
            }
        };
    }
    out.push_str(rest);
    redact_url_passwords(&out)
}

/// `scheme://user:secret@host` → `scheme://user:<redacted>@host`.
fn redact_url_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c == '/' || c == '?' || c.is_whitespace())
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match (authority.rfind('@'), authority.find(':')) {
            (Some(at), Some(colon)) if colon < at => {
                out.push_str(&authority[..colon + 1]);
                out.push_str("<redacted>");
                out.push_str(&authority[at..]);
            }
            _ => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// The byte offset of `needle` (ASCII) in `haystack`, ignoring case.
fn find_ascii_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Whether a piece of a connection string may be shown in an error: not
/// when it could hold a password (a mistyped URL such as
/// `postgresql:/bob:s3cret@host/db`, or `user:secret@host`).
fn showable(text: &str) -> bool {
    !text.contains('@') && !text.contains(':') && find_ascii_ci(text, "password").is_none()
}

/// The settings of a `postgres://` URL, in order (query parameters last, so
/// they override the authority as in libpq).
fn url_pairs(s: &str) -> Result<Vec<(String, String)>, ConnInfoError> {
    let rest = s.split_once("://").map_or(s, |(_, r)| r);
    let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut pairs = Vec::new();
    let (auth, hostport) = match authority.rsplit_once('@') {
        Some((a, h)) => (Some(a), h),
        None => (None, authority),
    };
    if let Some(auth) = auth {
        let (user, password) = auth.split_once(':').map_or((auth, None), |(u, p)| (u, Some(p)));
        if !user.is_empty() {
            pairs.push(("user".into(), decode(user)?));
        }
        if let Some(p) = password {
            pairs.push(("password".into(), decode(p)?));
        }
    }
    if !hostport.is_empty() {
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, tail) = v6
                .split_once(']')
                .ok_or_else(|| bad(format!("`{hostport}`: an IPv6 address needs a closing `]`")))?;
            (h.to_string(), tail.strip_prefix(':').map(str::to_string))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (decode(h)?, Some(p.to_string())),
                None => (decode(hostport)?, None),
            }
        };
        if !host.is_empty() {
            pairs.push(("host".into(), host));
        }
        if let Some(p) = port.filter(|p| !p.is_empty()) {
            pairs.push(("port".into(), p));
        }
    }
    if !path.is_empty() {
        pairs.push(("dbname".into(), decode(path)?));
    }
    for kv in query.split('&').filter(|kv| !kv.is_empty()) {
        let (k, v) = kv.split_once('=').ok_or_else(|| {
            if showable(kv) {
                bad(format!("URL parameter `{kv}` has no `=value`"))
            } else {
                bad("a URL parameter has no `=value` (not shown: it may hold a password)")
            }
        })?;
        pairs.push((decode(k)?, decode(v)?));
    }
    Ok(pairs)
}

/// The settings of a `key=value key2='quoted value'` string.
pub(crate) fn keyword_pairs(s: &str) -> Result<Vec<(String, String)>, ConnInfoError> {
    let mut pairs = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(pairs);
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.next() != Some('=') {
            // A mistyped URL (`postgresql:/bob:s3cret@host/db`) lands here:
            // never echo what may hold a password.
            let what = if showable(&key) {
                format!("`{key}`")
            } else {
                "a setting (not shown: it may hold a password)".to_string()
            };
            return Err(bad(format!(
                "{what} has no `=value`; expected a postgres://user@host/db URL or key=value settings"
            )));
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'\'').is_some() {
            loop {
                match chars.next() {
                    Some('\\') => value.extend(chars.next()),
                    Some('\'') => break,
                    Some(c) => value.push(c),
                    None => return Err(bad(format!("the value of `{key}` has no closing quote"))),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                if c == '\\' {
                    value.extend(chars.next());
                } else {
                    value.push(c);
                }
            }
        }
        pairs.push((key, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str, env: &[(&str, &str)]) -> Result<ConnInfo, ConnInfoError> {
        let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ConnInfo::parse_with_env(s, &|k| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }

    #[test]
    fn urls_carry_every_setting_libpq_reads() {
        let c = parse(
            "postgresql://bob:p%40ss@db.example:6543/app?sslmode=verify-full&sslrootcert=/ca.pem\
             &options=-c%20search_path%3Dapp&application_name=nightly&connect_timeout=5",
            &[],
        )
        .unwrap();
        assert_eq!(c.host, Host::Tcp("db.example".into()));
        assert_eq!((c.port, c.user.as_str(), c.dbname.as_str()), (6543, "bob", "app"));
        assert_eq!(c.password.as_deref(), Some("p@ss"));
        assert_eq!(c.sslmode, SslMode::VerifyFull);
        assert_eq!(c.sslrootcert, Some(PathBuf::from("/ca.pem")));
        assert_eq!(c.options.as_deref(), Some("-c search_path=app"));
        assert_eq!(c.application_name, "nightly");
        assert_eq!(c.connect_timeout, Some(Duration::from_secs(5)));
        assert!(!format!("{c:?}").contains("p@ss"));
        assert!(!c.display().contains("p@ss"));
        assert_eq!(c.display(), "postgres://bob@db.example:6543/app?sslmode=verify-full");
    }

    #[test]
    fn socket_folders_ipv6_and_keyword_strings_parse() {
        let c = parse("postgres://%2Ftmp%2Fpg:5433/app", &[]).unwrap();
        assert_eq!(c.host, Host::Socket("/tmp/pg".into()));
        assert_eq!(c.port, 5433);
        let c = parse("postgres:///app?host=/run/pg", &[]).unwrap();
        assert_eq!(c.host, Host::Socket("/run/pg".into()));
        let c = parse("postgres://[::1]:5433/x", &[]).unwrap();
        assert_eq!(c.host, Host::Tcp("::1".into()));
        assert_eq!(c.display(), format!("postgres://{}@[::1]:5433/x", c.user));
        let c = parse("host=127.0.0.1 port=5 user=u password='a b\\'c' dbname=d", &[]).unwrap();
        assert_eq!(c.password.as_deref(), Some("a b'c"));
        assert_eq!((c.port, c.dbname.as_str()), (5, "d"));
    }

    #[test]
    fn environment_variables_fill_what_the_string_leaves_out() {
        let env = [
            ("PGHOST", "10.0.0.1"),
            ("PGPORT", "7000"),
            ("PGUSER", "envuser"),
            ("PGPASSWORD", "envpw"),
            ("PGDATABASE", "envdb"),
            ("PGSSLMODE", "require"),
        ];
        let c = parse("postgres://urluser@/urldb", &env).unwrap();
        assert_eq!(c.host, Host::Tcp("10.0.0.1".into()));
        assert_eq!((c.port, c.user.as_str(), c.dbname.as_str()), (7000, "urluser", "urldb"));
        assert_eq!(c.password.as_deref(), Some("envpw"));
        assert_eq!(c.sslmode, SslMode::Require);
        let c = parse("", &env).unwrap();
        assert_eq!((c.user.as_str(), c.dbname.as_str()), ("envuser", "envdb"));
    }

    #[test]
    fn passwords_are_redacted_in_every_form_and_never_echoed_in_errors() {
        let secret = "Zq9-s3cret";
        for text in [
            format!("host=db port=5432 password={secret} user=bob"),
            format!("host=db password = '{secret} with spaces' user=bob"),
            format!("PASSWORD='it\\'s {secret}'"),
            format!("postgres://bob:{secret}@db:5432/app?sslmode=require"),
            format!("user=replicator password={secret} host=primary port=5432 sslmode=prefer"),
        ] {
            let shown = redact_conninfo(&text);
            assert!(!shown.contains(secret), "{text} -> {shown}");
            assert!(shown.contains("<redacted>"), "{shown}");
        }
        assert_eq!(redact_conninfo("host=db user=bob"), "host=db user=bob");
        for typo in [
            format!("postgresql:/bob:{secret}@db/app"),
            format!("bob:{secret}@db/app"),
            format!("postgres://bob@db/app?password{secret}"),
        ] {
            let e = parse(&typo, &[]).unwrap_err().to_string();
            assert!(!e.contains(secret), "{typo}: {e}");
        }
    }

    #[test]
    fn bad_settings_say_what_is_accepted() {
        let e = parse("postgres://h/db?sslmod=require", &[]).unwrap_err();
        assert!(e.message.contains("did you mean `sslmode`"), "{e}");
        let e = parse("postgres://h/db?sslmode=allow", &[]).unwrap_err();
        assert!(e.message.contains("accepted: disable, prefer"), "{e}");
        let e = parse("postgres://h:99999/db", &[]).unwrap_err();
        assert!(e.message.contains("port `99999`"), "{e}");
        let e = parse("postgres://a,b/db", &[]).unwrap_err();
        assert!(e.message.contains("several hosts"), "{e}");
        let e = parse("host", &[]).unwrap_err();
        assert!(e.message.contains("no `=value`"), "{e}");
    }
}
