//! A small blocking client for PostgreSQL's wire protocol, used for the
//! timed path only (setup, EXPLAIN and sizes go through the `postgres`
//! crate). One request is one `write` of Bind+Execute+Sync into a reused
//! buffer and the reply is read straight from the socket into a reused
//! buffer by the calling thread: no runtime, no channel, no hand-off to
//! another thread, no allocation per operation. That keeps the harness's
//! CPU per operation below pgbench's and, as important, does not add
//! cross-CPU wake-ups that make the *server* spend more per query
//! (docs/performance.md has the measurements).
//!
//! Over a unix socket the client waits in `poll` before reading, like
//! libpq: a read that blocks there costs a second context switch per
//! request. Pipelining is the same requests sent before their replies are read:
//! [`Wire::queue`] buffers, [`Wire::send`] writes, [`Wire::reply`] reads one.

use crate::provision::{Endpoint, Transport};
use bytes::BytesMut;
use postgres::types::Type;
use postgres_protocol::authentication::{md5_hash, sasl};
use postgres_protocol::message::frontend;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;

/// A failure on the wire: a server error (with SQLSTATE) or a broken connection.
#[derive(Debug, Clone)]
pub struct WireError {
    pub code: Option<String>,
    pub message: String,
    /// The connection can no longer be used.
    pub closed: bool,
}

impl WireError {
    fn io(e: io::Error) -> Self {
        WireError {
            code: None,
            message: e.to_string(),
            closed: true,
        }
    }

    fn protocol(what: impl Into<String>) -> Self {
        WireError {
            code: None,
            message: format!("protocol error: {}", what.into()),
            closed: true,
        }
    }
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.code {
            Some(c) => write!(f, "{} (SQLSTATE {c})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl From<io::Error> for WireError {
    fn from(e: io::Error) -> Self {
        WireError::io(e)
    }
}

enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    fn fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsRawFd;
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Unix(s) => s.as_raw_fd(),
        }
    }

    /// Waits until the socket is readable.
    fn wait_readable(&self) {
        let mut p = libc::pollfd {
            fd: self.fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one pollfd we own; errors fall through to the read.
        unsafe { libc::poll(&mut p, 1, -1) };
    }

    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.write_all(buf),
            Stream::Unix(s) => s.write_all(buf),
        }
    }
}

/// A prepared statement: its server-side name and the types the server
/// reported for its parameters and result columns (`None`: not a built-in
/// type, sent and read as text).
#[derive(Debug, Clone)]
pub struct Prepared {
    name: String,
    pub params: Vec<Option<Type>>,
    pub columns: Vec<Option<Type>>,
    /// 1 (binary) for known types, 0 (text) otherwise.
    param_formats: Vec<i16>,
    column_formats: Vec<i16>,
}

fn formats(types: &[Option<Type>]) -> Vec<i16> {
    types.iter().map(|t| t.is_some() as i16).collect()
}

/// One row of a reply: each column's bytes, `None` for NULL.
pub struct Row<'a> {
    body: &'a [u8],
}

impl<'a> Row<'a> {
    /// The columns in order.
    pub fn columns(&self) -> impl Iterator<Item = Option<&'a [u8]>> + 'a {
        let mut rest = self.body.get(2..).unwrap_or(&[]);
        let n = self.body.get(..2).map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
        (0..n).map_while(move |_| {
            let len = i32::from_be_bytes(rest.get(..4)?.try_into().ok()?);
            rest = &rest[4..];
            if len < 0 {
                return Some(None);
            }
            let (value, tail) = rest.split_at_checked(len as usize)?;
            rest = tail;
            Some(Some(value))
        })
    }
}

const READY_FOR_QUERY: u8 = b'Z';

pub struct Wire {
    stream: Stream,
    out: BytesMut,
    input: Vec<u8>,
    /// Unread bytes are `input[pos..end]`.
    pos: usize,
    end: usize,
    /// Requests sent whose replies have not been read.
    in_flight: usize,
    next_statement: u32,
    closed: bool,
}

impl Wire {
    /// Connects, authenticates (trust, password, MD5 or SCRAM-SHA-256) and
    /// waits until the server is ready for queries.
    pub fn connect(endpoint: &Endpoint, db: &str, transport: Transport) -> Result<Wire, WireError> {
        let stream = match transport {
            Transport::Tcp => {
                let s = TcpStream::connect((endpoint.host.as_str(), endpoint.port))?;
                s.set_nodelay(true)?;
                Stream::Tcp(s)
            }
            Transport::Unix => {
                let dir = endpoint.socket_dir.as_ref().ok_or_else(|| WireError {
                    code: None,
                    message: "this server has no unix socket schemabench can reach".into(),
                    closed: true,
                })?;
                Stream::Unix(UnixStream::connect(dir.join(format!(".s.PGSQL.{}", endpoint.port)))?)
            }
        };
        let mut wire = Wire {
            stream,
            out: BytesMut::with_capacity(1024),
            input: vec![0; 16 * 1024],
            pos: 0,
            end: 0,
            in_flight: 0,
            next_statement: 0,
            closed: false,
        };
        wire.startup(endpoint, db)?;
        Ok(wire)
    }

    fn startup(&mut self, endpoint: &Endpoint, db: &str) -> Result<(), WireError> {
        let params = [
            ("user", endpoint.user.as_str()),
            ("database", db),
            ("application_name", "schemabench"),
            ("client_encoding", "UTF8"),
        ];
        frontend::startup_message(params.iter().copied(), &mut self.out)?;
        self.flush()?;
        let password = || {
            endpoint.password.as_deref().ok_or_else(|| WireError {
                code: None,
                message: "the server asks for a password and none was given".into(),
                closed: true,
            })
        };
        let mut scram: Option<sasl::ScramSha256> = None;
        loop {
            let (tag, body) = self.message()?;
            match tag {
                b'R' => {
                    let code = be_i32(body, 0)?;
                    let data = body[4..].to_vec();
                    match code {
                        0 => {}
                        3 => frontend::password_message(password()?.as_bytes(), &mut self.out)?,
                        5 => {
                            let salt: [u8; 4] = data
                                .get(..4)
                                .and_then(|s| s.try_into().ok())
                                .ok_or_else(|| WireError::protocol("short MD5 salt"))?;
                            let hash = md5_hash(endpoint.user.as_bytes(), password()?.as_bytes(), salt);
                            frontend::password_message(hash.as_bytes(), &mut self.out)?;
                        }
                        10 => {
                            let offered = data.split(|&b| b == 0).any(|m| m == b"SCRAM-SHA-256");
                            if !offered {
                                return Err(WireError::protocol("the server offers no SASL mechanism we support"));
                            }
                            let s = sasl::ScramSha256::new(password()?.as_bytes(), sasl::ChannelBinding::unsupported());
                            frontend::sasl_initial_response("SCRAM-SHA-256", s.message(), &mut self.out)?;
                            scram = Some(s);
                        }
                        11 => {
                            let s = scram
                                .as_mut()
                                .ok_or_else(|| WireError::protocol("unexpected SASL step"))?;
                            s.update(&data)?;
                            frontend::sasl_response(s.message(), &mut self.out)?;
                        }
                        12 => {
                            let s = scram
                                .as_mut()
                                .ok_or_else(|| WireError::protocol("unexpected SASL step"))?;
                            s.finish(&data)?;
                        }
                        other => {
                            return Err(WireError::protocol(format!(
                                "authentication method {other} is not supported"
                            )));
                        }
                    }
                    self.flush()?;
                }
                READY_FOR_QUERY => return Ok(()),
                b'E' => return Err(server_error(body, true)),
                _ => {} // ParameterStatus, BackendKeyData, notices
            }
        }
    }

    /// Runs SQL with the simple protocol (session setup statements).
    pub fn simple(&mut self, sql: &str) -> Result<(), WireError> {
        frontend::query(sql, &mut self.out)?;
        self.flush()?;
        self.until_ready(|_| Ok(()))
    }

    /// Prepares `sql` as a named statement and learns its types.
    pub fn prepare(&mut self, sql: &str) -> Result<Prepared, WireError> {
        self.next_statement += 1;
        let name = format!("s{}", self.next_statement);
        frontend::parse(&name, sql, std::iter::empty(), &mut self.out)?;
        frontend::describe(b'S', &name, &mut self.out)?;
        frontend::sync(&mut self.out);
        self.flush()?;
        let mut prepared = Prepared {
            name,
            params: Vec::new(),
            columns: Vec::new(),
            param_formats: Vec::new(),
            column_formats: Vec::new(),
        };
        self.until_ready(|(tag, body)| {
            match tag {
                b't' => {
                    let n = be_i16(body, 0)? as usize;
                    prepared.params = (0..n)
                        .map(|i| be_i32(body, 2 + 4 * i).map(|oid| Type::from_oid(oid as u32)))
                        .collect::<Result<_, _>>()?;
                }
                b'T' => {
                    let n = be_i16(body, 0)? as usize;
                    let mut at = 2;
                    for _ in 0..n {
                        let nul = body[at..]
                            .iter()
                            .position(|&b| b == 0)
                            .ok_or_else(|| WireError::protocol("bad RowDescription"))?;
                        at += nul + 1;
                        // table oid (4), column (2), type oid (4), size (2), modifier (4), format (2)
                        let oid = be_i32(body, at + 6)? as u32;
                        prepared.columns.push(Type::from_oid(oid));
                        at += 18;
                    }
                }
                _ => {}
            }
            Ok(())
        })?;
        prepared.param_formats = formats(&prepared.params);
        prepared.column_formats = formats(&prepared.columns);
        Ok(prepared)
    }

    /// Buffers one execution of `statement` (Bind, Execute, Sync); `bind`
    /// writes parameter `i` for type `ty` (binary when the type is known,
    /// text otherwise) and says whether it was NULL.
    pub fn queue(
        &mut self,
        statement: &Prepared,
        mut bind: impl FnMut(usize, Option<&Type>, &mut BytesMut) -> Result<postgres::types::IsNull, BoxError>,
    ) -> Result<(), WireError> {
        let mut index = 0;
        let result = frontend::bind(
            "",
            &statement.name,
            statement.param_formats.iter().copied(),
            statement.params.iter(),
            |ty, buf| {
                let r = bind(index, ty.as_ref(), buf);
                index += 1;
                r.map(|null| match null {
                    postgres::types::IsNull::Yes => postgres_protocol::IsNull::Yes,
                    postgres::types::IsNull::No => postgres_protocol::IsNull::No,
                })
            },
            statement.column_formats.iter().copied(),
            &mut self.out,
        );
        if let Err(e) = result {
            self.out.clear();
            return Err(WireError {
                code: None,
                message: match e {
                    frontend::BindError::Conversion(e) => e.to_string(),
                    frontend::BindError::Serialization(e) => e.to_string(),
                },
                closed: false,
            });
        }
        frontend::execute("", 0, &mut self.out)?;
        frontend::sync(&mut self.out);
        self.in_flight += 1;
        Ok(())
    }

    /// Writes everything queued.
    pub fn send(&mut self) -> Result<(), WireError> {
        self.flush()
    }

    /// Reads the reply to the oldest request in flight, calling `row` for
    /// each row; returns the number of rows, or the server's error.
    pub fn reply(&mut self, mut row: impl FnMut(Row<'_>)) -> Result<u64, WireError> {
        if self.in_flight == 0 {
            return Err(WireError::protocol("no request in flight"));
        }
        self.in_flight -= 1;
        let mut rows = 0;
        self.until_ready(|(tag, body)| {
            if tag == b'D' {
                row(Row { body });
                rows += 1;
            }
            Ok(())
        })?;
        Ok(rows)
    }

    /// Starts `COPY ... FROM STDIN` (`sql`, simple protocol).
    pub fn copy_in(&mut self, sql: &str) -> Result<(), WireError> {
        frontend::query(sql, &mut self.out)?;
        self.flush()?;
        loop {
            let (tag, body) = self.message()?;
            match tag {
                b'G' => return Ok(()),
                b'E' => {
                    let e = server_error(body, false);
                    self.until_ready(|_| Ok(()))?;
                    return Err(e);
                }
                _ => {}
            }
        }
    }

    /// Sends `data` as one CopyData message.
    pub fn copy_data(&mut self, data: &[u8]) -> Result<(), WireError> {
        use bytes::BufMut;
        self.out.put_u8(b'd');
        self.out.put_i32(data.len() as i32 + 4);
        self.out.extend_from_slice(data);
        self.flush()
    }

    /// Ends the COPY stream and waits until the server has taken it all.
    pub fn copy_done(&mut self) -> Result<(), WireError> {
        frontend::copy_done(&mut self.out);
        self.flush()?;
        self.until_ready(|_| Ok(()))
    }

    /// Requests sent whose replies have not been read.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// The socket's file descriptor.
    pub fn fd(&self) -> std::os::fd::RawFd {
        self.stream.fd()
    }

    /// Whether unread reply bytes are buffered.
    pub fn has_input(&self) -> bool {
        self.pos < self.end
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    fn flush(&mut self) -> Result<(), WireError> {
        let r = self.stream.write_all(&self.out);
        self.out.clear();
        r.map_err(|e| self.broken(e))
    }

    fn broken(&mut self, e: io::Error) -> WireError {
        self.closed = true;
        WireError::io(e)
    }

    /// Reads messages until ReadyForQuery; the first ErrorResponse is
    /// returned after the server is ready again (the connection stays usable).
    fn until_ready(&mut self, mut each: impl FnMut((u8, &[u8])) -> Result<(), WireError>) -> Result<(), WireError> {
        let mut error = None;
        loop {
            let (tag, body) = self.message()?;
            match tag {
                READY_FOR_QUERY => return error.map_or(Ok(()), Err),
                b'E' if error.is_none() => error = Some(server_error(body, false)),
                b'E' => {}
                _ if error.is_none() => each((tag, body))?,
                _ => {}
            }
        }
    }

    /// The next message's tag and body, reading from the socket as needed.
    fn message(&mut self) -> Result<(u8, &[u8]), WireError> {
        loop {
            let available = self.end - self.pos;
            if available >= 5 {
                let len = u32::from_be_bytes(self.input[self.pos + 1..self.pos + 5].try_into().unwrap()) as usize;
                if len < 4 {
                    self.closed = true;
                    return Err(WireError::protocol("bad message length"));
                }
                if available > len {
                    let start = self.pos;
                    self.pos += 1 + len;
                    return Ok((self.input[start], &self.input[start + 5..start + 1 + len]));
                }
                if 1 + len > self.input.len() {
                    self.input.resize(1 + len, 0);
                }
            }
            // Make room at the end, then read what the socket has.
            if self.pos > 0 && (self.pos == self.end || self.input.len() - self.end < 4096) {
                self.input.copy_within(self.pos..self.end, 0);
                self.end -= self.pos;
                self.pos = 0;
            }
            if self.end == self.input.len() {
                let len = self.input.len();
                self.input.resize(len * 2, 0);
            }
            if self.in_flight == 0 && matches!(self.stream, Stream::Unix(_)) {
                // With one request out, a read that blocks on a unix socket
                // costs the client a second context switch per request (1.97
                // against 1.00 measured); waiting in poll() first, as libpq
                // does, does not. With more in flight (pipelining) the
                // blocking read wakes less often, so it stays.
                self.stream.wait_readable();
            }
            let n = match self.stream.read(&mut self.input[self.end..]) {
                Ok(0) => {
                    return Err(self.broken(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the server closed the connection",
                    )));
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.broken(e)),
            };
            self.end += n;
        }
    }
}

impl Drop for Wire {
    fn drop(&mut self) {
        if !self.closed {
            frontend::terminate(&mut self.out);
            let _ = self.flush();
        }
    }
}

type BoxError = Box<dyn std::error::Error + Sync + Send>;

fn be_i32(body: &[u8], at: usize) -> Result<i32, WireError> {
    body.get(at..at + 4)
        .map(|b| i32::from_be_bytes(b.try_into().unwrap()))
        .ok_or_else(|| WireError::protocol("short message"))
}

fn be_i16(body: &[u8], at: usize) -> Result<i16, WireError> {
    body.get(at..at + 2)
        .map(|b| i16::from_be_bytes([b[0], b[1]]))
        .ok_or_else(|| WireError::protocol("short message"))
}

/// An ErrorResponse's SQLSTATE and message.
fn server_error(body: &[u8], closed: bool) -> WireError {
    let (mut code, mut message, mut detail) = (None, String::new(), None);
    for field in body.split(|&b| b == 0) {
        let Some((&kind, text)) = field.split_first() else {
            continue;
        };
        let text = String::from_utf8_lossy(text).into_owned();
        match kind {
            b'C' => code = Some(text),
            b'M' => message = text,
            b'D' => detail = Some(text),
            _ => {}
        }
    }
    if let Some(d) = detail {
        message = format!("{message}: {d}");
    }
    WireError { code, message, closed }
}
