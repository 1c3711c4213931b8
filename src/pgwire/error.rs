//! What can go wrong on a connection: the server's ErrorResponse with every
//! field it sent, a broken or timed-out connection, or a protocol violation.

use fallible_iterator::FallibleIterator;
use postgres_protocol::message::backend::ErrorFields;
use std::fmt;

/// SQLSTATE codes and classes the harness acts on (PostgreSQL manual,
/// appendix A).
pub mod sqlstate {
    pub const SERIALIZATION_FAILURE: &str = "40001";
    pub const DEADLOCK_DETECTED: &str = "40P01";
    /// Cancelled by `statement_timeout` or a CancelRequest.
    pub const QUERY_CANCELED: &str = "57014";
    pub const LOCK_NOT_AVAILABLE: &str = "55P03";
    /// Class 23: integrity constraint violations.
    pub const CLASS_INTEGRITY_CONSTRAINT: &str = "23";
    /// Class 08: connection exceptions.
    pub const CLASS_CONNECTION_EXCEPTION: &str = "08";
    /// `57P01`..`57P05`: administrator shutdown, crash shutdown, cannot
    /// connect now, database dropped, idle session timeout.
    pub const PREFIX_OPERATOR_INTERVENTION: &str = "57P";
}

/// An ErrorResponse (or NoticeResponse) with all of its fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerError {
    /// `ERROR`, `FATAL`, `PANIC` (or `WARNING`, `NOTICE`, ... for notices).
    pub severity: String,
    /// SQLSTATE, e.g. `57014`.
    pub code: String,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    /// 1-based character position in the statement.
    pub position: Option<u32>,
    /// Call stack context (`CONTEXT:` in psql).
    pub context: Option<String>,
    pub schema: Option<String>,
    pub table: Option<String>,
    pub column: Option<String>,
    pub datatype: Option<String>,
    pub constraint: Option<String>,
    /// Where in the server's source the error was raised.
    pub routine: Option<String>,
}

impl ServerError {
    /// Reads the fields of an ErrorResponse or NoticeResponse.
    pub fn parse(mut fields: ErrorFields<'_>) -> ServerError {
        let mut e = ServerError::default();
        while let Ok(Some(f)) = fields.next() {
            let text = String::from_utf8_lossy(f.value_bytes()).into_owned();
            match f.type_() {
                // 'V' is the untranslated severity; prefer it over 'S'.
                b'V' => e.severity = text,
                b'S' if e.severity.is_empty() => e.severity = text,
                b'C' => e.code = text,
                b'M' => e.message = text,
                b'D' => e.detail = Some(text),
                b'H' => e.hint = Some(text),
                b'P' => e.position = text.parse().ok(),
                b'W' => e.context = Some(text),
                b's' => e.schema = Some(text),
                b't' => e.table = Some(text),
                b'c' => e.column = Some(text),
                b'd' => e.datatype = Some(text),
                b'n' => e.constraint = Some(text),
                b'R' => e.routine = Some(text),
                _ => {}
            }
        }
        e
    }

    /// Whether the server ends the session after this error.
    pub fn is_fatal(&self) -> bool {
        matches!(self.severity.as_str(), "FATAL" | "PANIC")
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.severity, self.message)?;
        if let Some(d) = &self.detail {
            write!(f, " ({d})")?;
        }
        if let Some(h) = &self.hint {
            write!(f, "; hint: {h}")?;
        }
        Ok(())
    }
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireErrorKind {
    /// The server answered with an error.
    Server(Box<ServerError>),
    /// The socket failed or the server closed the connection.
    Io(String),
    /// No reply within the deadline, even after a cancel request.
    Timeout(String),
    /// The user interrupted the run while this request was out.
    Interrupted,
    /// The server sent something the client did not expect.
    Protocol(String),
    /// A value could not be encoded for its parameter.
    Encode(String),
    /// Connecting failed before the server said anything (TLS, settings).
    Connect(String),
}

/// A failure on the wire, and whether the connection can still be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    pub kind: WireErrorKind,
    /// The connection can no longer be used.
    pub closed: bool,
}

impl WireError {
    pub fn server(e: ServerError) -> Self {
        let closed = e.is_fatal();
        WireError {
            kind: WireErrorKind::Server(Box::new(e)),
            closed,
        }
    }

    pub fn io(e: impl fmt::Display) -> Self {
        WireError {
            kind: WireErrorKind::Io(e.to_string()),
            closed: true,
        }
    }

    pub fn protocol(what: impl Into<String>) -> Self {
        WireError {
            kind: WireErrorKind::Protocol(what.into()),
            closed: true,
        }
    }

    pub fn connect(what: impl Into<String>) -> Self {
        WireError {
            kind: WireErrorKind::Connect(what.into()),
            closed: true,
        }
    }

    /// The SQLSTATE, for server errors.
    pub fn code(&self) -> Option<&str> {
        match &self.kind {
            WireErrorKind::Server(e) => Some(&e.code),
            _ => None,
        }
    }

    /// The server's error, if it sent one.
    pub fn as_server(&self) -> Option<&ServerError> {
        match &self.kind {
            WireErrorKind::Server(e) => Some(e),
            _ => None,
        }
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            WireErrorKind::Server(e) => write!(f, "{e} (SQLSTATE {})", e.code),
            WireErrorKind::Io(m) => f.write_str(m),
            WireErrorKind::Timeout(m) => write!(f, "timeout: {m}"),
            WireErrorKind::Interrupted => f.write_str("interrupted"),
            WireErrorKind::Protocol(m) => write!(f, "protocol error: {m}"),
            WireErrorKind::Encode(m) => write!(f, "cannot encode a parameter: {m}"),
            WireErrorKind::Connect(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for WireError {}

impl From<std::io::Error> for WireError {
    fn from(e: std::io::Error) -> Self {
        WireError::io(e)
    }
}
