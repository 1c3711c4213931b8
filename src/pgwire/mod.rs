//! A small blocking PostgreSQL client, the only one schemabench uses: for
//! loading (COPY), setup, EXPLAIN, sizes and the timed path alike, so one
//! [`ConnInfo`] (TLS, options, timeouts) reaches every connection.
//!
//! Messages are framed and parsed by `postgres-protocol`'s backend module;
//! values are encoded by the caller (see `backend::postgres::value`). One
//! request is one `write` of Bind+Execute+Sync from a reused buffer, and the
//! reply is read by the calling thread straight from the socket: no runtime,
//! no channel, no hand-off to another thread. That keeps the harness's CPU
//! per operation below pgbench's (docs/performance.md).
//!
//! A read never waits forever: it wakes every [`stream::TICK`], and when the
//! request's time limit has passed or the user interrupts, the client sends
//! a CancelRequest with the session's BackendKeyData and waits
//! [`CANCEL_GRACE`] for the reply before closing the connection.
//! Pipelining is requests sent before their replies are read:
//! [`Wire::queue`] buffers, [`Wire::send`] writes, [`Wire::reply`] reads one.

pub mod conninfo;
pub mod error;
pub mod stream;

pub use conninfo::{ConnInfo, ConnInfoError, Host, SslMode};
pub use error::{ServerError, WireError, WireErrorKind};

use bytes::{BufMut, BytesMut};
use fallible_iterator::FallibleIterator;
use postgres_protocol::IsNull;
use postgres_protocol::authentication::{md5_hash, sasl};
use postgres_protocol::message::backend::{DataRowBody, Message};
use postgres_protocol::message::frontend;
use postgres_types::{Kind, Type};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use stream::{Filled, Stream};

/// How long the client waits for the reply after sending a cancel request,
/// before it closes the connection.
pub const CANCEL_GRACE: Duration = Duration::from_secs(1);

/// When no `connect_timeout` is given: libpq waits forever, schemabench does not.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

type BoxError = Box<dyn std::error::Error + Sync + Send>;

/// A prepared statement: its server-side name, the types of its parameters
/// and result columns, and the format (0 text, 1 binary) each travels in.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub name: String,
    pub params: Vec<Type>,
    pub columns: Vec<Type>,
    pub param_formats: Vec<i16>,
    pub column_formats: Vec<i16>,
}

/// One row of a reply.
pub struct Row<'a> {
    body: &'a DataRowBody,
}

impl<'a> Row<'a> {
    /// The columns in order: their bytes, `None` for NULL.
    pub fn columns(&self) -> impl Iterator<Item = Option<&'a [u8]>> + 'a {
        let buf = self.body.buffer();
        let mut ranges = self.body.ranges();
        std::iter::from_fn(move || ranges.next().ok().flatten()).map(move |r| r.map(|r| &buf[r]))
    }
}

/// What a waiting read does when the reply is slow.
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    /// Longest silence while a reply is due before the request is cancelled.
    pub reply_timeout: Option<Duration>,
    /// Cancel the request when the user interrupts the run (the
    /// process-wide flag in [`crate::interrupt`]).
    pub interruptible: bool,
}

/// Why a slow request was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CancelReason {
    Timeout,
    Interrupt,
}

/// Where the client is in waiting for a reply (slow path only).
#[derive(Debug, Default)]
struct Waiting {
    since: Option<Instant>,
    cancelled: Option<(Instant, CancelReason)>,
}

struct CancelKey {
    info: ConnInfo,
    process_id: i32,
    secret_key: i32,
}

pub struct Wire {
    stream: Stream,
    out: BytesMut,
    input: BytesMut,
    /// Requests sent whose replies have not been read.
    in_flight: usize,
    next_statement: u32,
    closed: bool,
    cancel: Option<CancelKey>,
    /// ParameterStatus values the server reported.
    parameters: Vec<(String, String)>,
    /// Notices (warnings, notices) received.
    notices: u64,
    limits: Limits,
    waiting: Waiting,
    /// Types the server has beyond the built-ins, by OID.
    types: HashMap<u32, Type>,
    /// Whether the request being read went through the extended protocol.
    extended: bool,
}

impl Wire {
    /// Connects as `info` says (TLS, options, timeouts), authenticates
    /// (trust, password, MD5 or SCRAM-SHA-256) and waits until the server
    /// is ready for queries.
    pub fn connect(info: &ConnInfo) -> Result<Wire, WireError> {
        let info = ConnInfo {
            connect_timeout: Some(info.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT)),
            ..info.clone()
        };
        let stream = Stream::open(&info)?;
        stream.set_ticking()?;
        let mut wire = Wire {
            stream,
            out: BytesMut::with_capacity(1024),
            input: BytesMut::with_capacity(16 * 1024),
            in_flight: 0,
            next_statement: 0,
            closed: false,
            cancel: None,
            parameters: Vec::new(),
            notices: 0,
            limits: Limits {
                reply_timeout: info.connect_timeout,
                interruptible: true,
            },
            waiting: Waiting::default(),
            types: HashMap::new(),
            extended: false,
        };
        wire.startup(&info)?;
        wire.limits = Limits::default();
        Ok(wire)
    }

    fn startup(&mut self, info: &ConnInfo) -> Result<(), WireError> {
        let mut params = vec![
            ("user", info.user.as_str()),
            ("database", info.dbname.as_str()),
            ("application_name", info.application_name.as_str()),
            ("client_encoding", "UTF8"),
        ];
        if let Some(o) = &info.options {
            params.push(("options", o.as_str()));
        }
        frontend::startup_message(params.iter().copied(), &mut self.out)?;
        self.flush()?;
        let password = || {
            info.password
                .as_deref()
                .ok_or_else(|| WireError::connect("the server asks for a password and none was given"))
        };
        let mut scram: Option<sasl::ScramSha256> = None;
        loop {
            match self.recv()? {
                Message::AuthenticationOk => {}
                Message::AuthenticationCleartextPassword => {
                    frontend::password_message(password()?.as_bytes(), &mut self.out)?;
                    self.flush()?;
                }
                Message::AuthenticationMd5Password(body) => {
                    let hash = md5_hash(info.user.as_bytes(), password()?.as_bytes(), body.salt());
                    frontend::password_message(hash.as_bytes(), &mut self.out)?;
                    self.flush()?;
                }
                Message::AuthenticationSasl(body) => {
                    let mut offered = false;
                    let mut mechanisms = body.mechanisms();
                    while let Some(m) = mechanisms.next()? {
                        offered |= m == sasl::SCRAM_SHA_256;
                    }
                    if !offered {
                        return Err(WireError::connect(
                            "the server offers no SASL mechanism schemabench supports",
                        ));
                    }
                    let s = sasl::ScramSha256::new(password()?.as_bytes(), sasl::ChannelBinding::unsupported());
                    frontend::sasl_initial_response(sasl::SCRAM_SHA_256, s.message(), &mut self.out)?;
                    self.flush()?;
                    scram = Some(s);
                }
                Message::AuthenticationSaslContinue(body) => {
                    let s = scram
                        .as_mut()
                        .ok_or_else(|| WireError::protocol("unexpected SASL step"))?;
                    s.update(body.data())?;
                    frontend::sasl_response(s.message(), &mut self.out)?;
                    self.flush()?;
                }
                Message::AuthenticationSaslFinal(body) => {
                    let s = scram
                        .as_mut()
                        .ok_or_else(|| WireError::protocol("unexpected SASL step"))?;
                    s.finish(body.data())?;
                }
                Message::BackendKeyData(body) => {
                    self.cancel = Some(CancelKey {
                        info: info.clone(),
                        process_id: body.process_id(),
                        secret_key: body.secret_key(),
                    });
                }
                Message::ReadyForQuery(_) => return Ok(()),
                Message::ErrorResponse(body) => {
                    let e = ServerError::parse(body.fields());
                    self.closed = true;
                    return Err(WireError {
                        closed: true,
                        ..WireError::server(e)
                    });
                }
                other => {
                    return Err(WireError::protocol(format!(
                        "unexpected {} during start-up",
                        message_name(&other)
                    )));
                }
            }
        }
    }

    /// How slow replies are handled from now on.
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Runs SQL with the simple protocol and returns every row of every
    /// statement as text (`None` for NULL).
    pub fn simple_query(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, WireError> {
        self.expect_idle()?;
        self.extended = false;
        frontend::query(sql, &mut self.out)?;
        self.flush()?;
        let mut rows = Vec::new();
        self.until_ready(|m| match m {
            Message::DataRow(body) => {
                rows.push(
                    Row { body: &body }
                        .columns()
                        .map(|c| c.map(|b| String::from_utf8_lossy(b).into_owned()))
                        .collect(),
                );
                Ok(())
            }
            m => expect_reply_part(&m),
        })?;
        Ok(rows)
    }

    /// Runs SQL with the simple protocol, ignoring any rows.
    pub fn batch(&mut self, sql: &str) -> Result<(), WireError> {
        self.simple_query(sql).map(drop)
    }

    /// Prepares `sql` as a named statement and learns its types; `format`
    /// chooses text (0) or binary (1) for each parameter and column type.
    /// `param_types` may fix parameter types (empty: the server infers).
    pub fn prepare(&mut self, sql: &str, param_types: &[u32], format: fn(&Type) -> i16) -> Result<Prepared, WireError> {
        self.expect_idle()?;
        self.extended = true;
        self.next_statement += 1;
        let name = format!("s{}", self.next_statement);
        frontend::parse(&name, sql, param_types.iter().copied(), &mut self.out)?;
        frontend::describe(b'S', &name, &mut self.out)?;
        frontend::sync(&mut self.out);
        self.flush()?;
        let (mut params, mut columns) = (Vec::new(), Vec::new());
        self.until_ready(|m| {
            match m {
                Message::ParameterDescription(body) => params = body.parameters().collect()?,
                Message::RowDescription(body) => columns = body.fields().map(|f| Ok(f.type_oid())).collect()?,
                m => expect_reply_part(&m)?,
            }
            Ok(())
        })?;
        let params = self.resolve_types(&params)?;
        let columns = self.resolve_types(&columns)?;
        Ok(Prepared {
            name,
            param_formats: params.iter().map(format).collect(),
            column_formats: columns.iter().map(format).collect(),
            params,
            columns,
        })
    }

    /// Types for OIDs: built-ins directly, others looked up in `pg_type`
    /// once per connection (enums, domains, extension types such as
    /// `vector`, and arrays of them).
    fn resolve_types(&mut self, oids: &[u32]) -> Result<Vec<Type>, WireError> {
        let unknown: Vec<String> = oids
            .iter()
            .filter(|o| Type::from_oid(**o).is_none() && !self.types.contains_key(o))
            .map(u32::to_string)
            .collect();
        if !unknown.is_empty() {
            self.lookup_types(&unknown)?;
        }
        Ok(oids
            .iter()
            .map(|&o| {
                Type::from_oid(o)
                    .or_else(|| self.types.get(&o).cloned())
                    .unwrap_or(Type::UNKNOWN)
            })
            .collect())
    }

    fn lookup_types(&mut self, oids: &[String]) -> Result<(), WireError> {
        // Element and base types first, so arrays and domains can name them.
        let rows = self.simple_query(&format!(
            "WITH RECURSIVE t(oid, depth) AS ( \
               SELECT oid::oid, 0 FROM unnest('{{{}}}'::oid[]) oid \
               UNION SELECT CASE WHEN p.typtype = 'd' THEN p.typbasetype ELSE p.typelem END, t.depth + 1 \
               FROM t JOIN pg_type p ON p.oid = t.oid \
               WHERE (p.typtype = 'd' OR (p.typelem <> 0 AND p.typlen = -1)) AND t.depth < 8) \
             SELECT p.oid, p.typname, n.nspname, p.typtype, p.typbasetype, p.typelem, p.typlen, max(t.depth) \
             FROM t JOIN pg_type p ON p.oid = t.oid JOIN pg_namespace n ON n.oid = p.typnamespace \
             GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY max(t.depth) DESC",
            oids.join(",")
        ))?;
        for r in rows {
            let text = |i: usize| r.get(i).cloned().flatten().unwrap_or_default();
            let num = |i: usize| text(i).parse::<u32>().unwrap_or(0);
            let (oid, base, elem) = (num(0), num(4), num(5));
            if Type::from_oid(oid).is_some() {
                continue;
            }
            let known = |o: u32| Type::from_oid(o).or_else(|| self.types.get(&o).cloned());
            let kind = match text(3).as_str() {
                "e" => Kind::Enum(Vec::new()),
                "d" => known(base).map_or(Kind::Simple, Kind::Domain),
                "p" => Kind::Pseudo,
                _ if elem != 0 && text(6) == "-1" => known(elem).map_or(Kind::Simple, Kind::Array),
                _ => Kind::Simple,
            };
            self.types.insert(oid, Type::new(text(1), oid, kind, text(2)));
        }
        Ok(())
    }

    /// Buffers one execution of `statement` (Bind, Execute, Sync); `bind`
    /// writes parameter `i` for type `ty` in the statement's format for it.
    /// A value that cannot be encoded drops only this request.
    pub fn queue(
        &mut self,
        statement: &Prepared,
        mut bind: impl FnMut(usize, &Type, &mut BytesMut) -> Result<IsNull, BoxError>,
    ) -> Result<(), WireError> {
        if self.closed {
            return Err(WireError::io("the connection is closed"));
        }
        let mark = self.out.len();
        let mut index = 0;
        let result = frontend::bind(
            "",
            &statement.name,
            statement.param_formats.iter().copied(),
            statement.params.iter(),
            |ty, buf| {
                let r = bind(index, ty, buf);
                index += 1;
                r
            },
            statement.column_formats.iter().copied(),
            &mut self.out,
        );
        if let Err(e) = result {
            self.out.truncate(mark);
            return Err(WireError {
                kind: WireErrorKind::Encode(match e {
                    frontend::BindError::Conversion(e) => e.to_string(),
                    frontend::BindError::Serialization(e) => e.to_string(),
                }),
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
    /// each row; returns the number of rows, or the request's error.
    pub fn reply(&mut self, mut row: impl FnMut(Row<'_>)) -> Result<u64, WireError> {
        if self.in_flight == 0 {
            return Err(WireError {
                closed: false,
                ..WireError::protocol("no request in flight")
            });
        }
        self.in_flight -= 1;
        self.extended = true;
        if self.closed {
            return Err(WireError::io("the connection is closed"));
        }
        let mut rows = 0;
        self.until_ready(|m| match m {
            Message::DataRow(body) => {
                row(Row { body: &body });
                rows += 1;
                Ok(())
            }
            m => expect_reply_part(&m),
        })?;
        Ok(rows)
    }

    /// Starts `COPY ... FROM STDIN` (`sql`, simple protocol).
    pub fn copy_in(&mut self, sql: &str) -> Result<(), WireError> {
        self.expect_idle()?;
        self.extended = false;
        frontend::query(sql, &mut self.out)?;
        self.flush()?;
        match self.recv()? {
            Message::CopyInResponse(_) => Ok(()),
            Message::ErrorResponse(body) => {
                let e = WireError::server(ServerError::parse(body.fields()));
                self.until_ready(|_| Ok(()))?;
                Err(e)
            }
            other => Err(self.unexpected(&other)),
        }
    }

    /// Sends `data` as one CopyData message; fails as soon as the server has
    /// reported an error (it stops reading the stream then).
    pub fn copy_data(&mut self, data: &[u8]) -> Result<(), WireError> {
        self.out.put_u8(b'd');
        self.out.put_i32(data.len() as i32 + 4);
        self.out.extend_from_slice(data);
        self.flush()?;
        if crate::interrupt::requested() && self.limits.interruptible {
            frontend::copy_fail("interrupted", &mut self.out)?;
            self.flush()?;
            let _ = self.until_ready(|_| Ok(()));
            return Err(WireError {
                kind: WireErrorKind::Interrupted,
                closed: self.closed,
            });
        }
        if self.stream.readable_now() {
            match self.recv()? {
                Message::ErrorResponse(body) => {
                    let e = WireError::server(ServerError::parse(body.fields()));
                    self.until_ready(|_| Ok(()))?;
                    return Err(e);
                }
                other => return Err(self.unexpected(&other)),
            }
        }
        Ok(())
    }

    /// Ends the COPY stream and waits until the server has taken it all.
    pub fn copy_done(&mut self) -> Result<(), WireError> {
        frontend::copy_done(&mut self.out);
        self.flush()?;
        self.until_ready(|m| expect_reply_part(&m))
    }

    /// Asks the server to cancel what this session is running (a separate
    /// connection carrying the session's BackendKeyData). Fire and forget:
    /// the running request ends with SQLSTATE 57014 if it was still running.
    pub fn cancel(&self) -> Result<(), WireError> {
        let key = self
            .cancel
            .as_ref()
            .ok_or_else(|| WireError::protocol("the server sent no cancel key"))?;
        let info = ConnInfo {
            connect_timeout: Some(Duration::from_secs(2)),
            ..key.info.clone()
        };
        let mut s = Stream::open(&info)?;
        let mut buf = BytesMut::new();
        frontend::cancel_request(key.process_id, key.secret_key, &mut buf);
        s.write_all(&buf)?;
        Ok(())
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
        !self.input.is_empty()
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Whether the connection is encrypted.
    pub fn is_tls(&self) -> bool {
        self.stream.is_tls()
    }

    /// Notices (NoticeResponse) received so far.
    pub fn notices(&self) -> u64 {
        self.notices
    }

    /// A ParameterStatus value the server reported, e.g. `server_version`.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        self.parameters.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Closes the connection (after a request was abandoned): nothing more
    /// is sent or read on it.
    pub fn close(&mut self) {
        self.closed = true;
        // SAFETY: shutting down our own socket; the fd stays owned by the stream.
        unsafe { libc::shutdown(self.stream.fd(), libc::SHUT_RDWR) };
    }

    fn expect_idle(&self) -> Result<(), WireError> {
        if self.closed {
            return Err(WireError::io("the connection is closed"));
        }
        if self.in_flight > 0 {
            return Err(WireError {
                closed: false,
                ..WireError::protocol("a statement cannot be prepared or run while a pipeline is in flight")
            });
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), WireError> {
        let r = self.stream.write_all(&self.out);
        self.out.clear();
        r.map_err(|e| self.broken(e))
    }

    fn broken(&mut self, e: impl std::fmt::Display) -> WireError {
        self.closed = true;
        WireError::io(e)
    }

    fn unexpected(&mut self, m: &Message) -> WireError {
        self.closed = true;
        WireError::protocol(format!("unexpected {} from the server", message_name(m)))
    }

    /// Reads messages until ReadyForQuery. The first ErrorResponse is
    /// returned after the server is ready again (the connection stays
    /// usable), or when the server closes the connection after it (FATAL).
    fn until_ready(&mut self, mut each: impl FnMut(Message) -> Result<(), WireError>) -> Result<(), WireError> {
        let mut error: Option<WireError> = None;
        let mut refused_copy = false;
        loop {
            let m = match self.recv() {
                Ok(m) => m,
                Err(e) if refused_copy => return Err(copy_refused(error.unwrap_or(e), true)),
                Err(e) => {
                    return Err(match error {
                        // The server said why before it hung up.
                        Some(server) => WireError { closed: true, ..server },
                        None => e,
                    });
                }
            };
            match m {
                Message::ReadyForQuery(_) if refused_copy => {
                    let e = error.unwrap_or_else(|| WireError::protocol("no error"));
                    return Err(copy_refused(e, false));
                }
                Message::ReadyForQuery(_) => return error.map_or(Ok(()), Err),
                Message::ErrorResponse(body) => {
                    if error.is_none() {
                        error = Some(WireError::server(ServerError::parse(body.fields())));
                    }
                }
                Message::CopyInResponse(_) => {
                    // A statement that wants COPY data from the client. The
                    // server ignores Sync in copy mode, so alone it is
                    // refused with CopyFail (and, in the extended protocol, a
                    // Sync to end the error). With requests pipelined behind
                    // it, the server reads the next Bind in copy mode and
                    // ends the session ("protocol synchronization was lost"):
                    // every request in flight fails, none hangs.
                    refused_copy = true;
                    if self.in_flight == 0 || !self.extended {
                        frontend::copy_fail("schemabench sends no COPY data from an operation", &mut self.out)?;
                        if self.extended {
                            frontend::sync(&mut self.out);
                        }
                        self.flush()?;
                    }
                }
                // COPY ... TO STDOUT from an operation: its data is read and dropped.
                Message::CopyOutResponse(_) | Message::CopyData(_) | Message::CopyDone => {}
                _ if error.is_some() => {}
                m => {
                    if let Err(e) = each(m) {
                        self.closed |= e.closed;
                        return Err(e);
                    }
                }
            }
        }
    }

    /// The next message other than notices and parameter reports.
    fn recv(&mut self) -> Result<Message, WireError> {
        loop {
            match Message::parse(&mut self.input) {
                Ok(Some(Message::NoticeResponse(_))) => self.notices += 1,
                Ok(Some(Message::ParameterStatus(body))) => {
                    let (name, value) = (body.name()?.to_string(), body.value()?.to_string());
                    self.parameters.retain(|(n, _)| *n != name);
                    let bad_encoding = name == "client_encoding" && !value.eq_ignore_ascii_case("UTF8");
                    self.parameters.push((name, value.clone()));
                    if bad_encoding {
                        self.closed = true;
                        return Err(WireError::protocol(format!(
                            "the session switched client_encoding to {value}; schemabench reads and writes \
                             UTF-8 only, so the connection is closed"
                        )));
                    }
                }
                Ok(Some(Message::NotificationResponse(_))) => {}
                Ok(Some(m)) => {
                    self.waiting = Waiting::default();
                    return Ok(m);
                }
                Ok(None) => self.fill()?,
                Err(e) => {
                    self.closed = true;
                    return Err(WireError::protocol(e.to_string()));
                }
            }
        }
    }

    /// Reads more bytes, waiting as [`Limits`] allow.
    fn fill(&mut self) -> Result<(), WireError> {
        loop {
            if self.input.capacity() - self.input.len() < 4096 {
                self.input.reserve(16 * 1024);
            }
            // With one request out on a unix socket, wait in poll (see Stream::fill).
            let poll_first = self.in_flight == 0 && self.stream.is_unix();
            let spare = self.input.spare_capacity_mut();
            // SAFETY: the slice covers allocated spare capacity; a socket read
            // (read(2) or rustls' copy of decrypted bytes) only writes into it,
            // and only the `n` bytes it reports are marked initialised below.
            let buf = unsafe { std::slice::from_raw_parts_mut(spare.as_mut_ptr().cast::<u8>(), spare.len()) };
            match self.stream.fill(buf, poll_first) {
                Ok(Filled::Bytes(n)) => {
                    // SAFETY: `n` bytes were just written into the spare capacity.
                    unsafe { self.input.set_len(self.input.len() + n) };
                    return Ok(());
                }
                Ok(Filled::Tick) => self.slow_reply()?,
                Err(e) => return Err(self.broken(e)),
            }
        }
    }

    /// A tick passed without a reply: cancel when the limit is reached or
    /// the user interrupts, give up [`CANCEL_GRACE`] after cancelling.
    fn slow_reply(&mut self) -> Result<(), WireError> {
        let now = Instant::now();
        let since = *self.waiting.since.get_or_insert(now);
        let waited = now - since + stream::TICK;
        if self.waiting.cancelled.is_none() {
            let reason = if self.limits.interruptible && crate::interrupt::requested() {
                Some(CancelReason::Interrupt)
            } else if self.limits.reply_timeout.is_some_and(|t| waited >= t) {
                Some(CancelReason::Timeout)
            } else {
                None
            };
            if let Some(reason) = reason {
                // Before start-up finishes there is no key: give up at once.
                if self.cancel.is_none() || self.cancel().is_err() {
                    return Err(self.give_up(reason, waited));
                }
                self.waiting.cancelled = Some((now, reason));
            }
        }
        match self.waiting.cancelled {
            Some((at, reason)) if now - at >= CANCEL_GRACE => Err(self.give_up(reason, waited)),
            _ => Ok(()),
        }
    }

    fn give_up(&mut self, reason: CancelReason, waited: Duration) -> WireError {
        self.close();
        self.waiting = Waiting::default();
        WireError {
            kind: match reason {
                CancelReason::Interrupt => WireErrorKind::Interrupted,
                CancelReason::Timeout => WireErrorKind::Timeout(format!(
                    "no reply after {:.1} s; the connection was closed",
                    waited.as_secs_f64()
                )),
            },
            closed: true,
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

/// The error for a statement that started `COPY FROM STDIN`.
fn copy_refused(server: WireError, closed: bool) -> WireError {
    WireError {
        closed: closed || server.closed,
        ..WireError::protocol(format!(
            "the statement started COPY FROM STDIN; schemabench sends no COPY data from an operation \
             (the server said: {server})"
        ))
    }
}

/// Messages that belong to the reply of a request; anything else is a
/// protocol error that ends the session.
fn expect_reply_part(m: &Message) -> Result<(), WireError> {
    match m {
        Message::BindComplete
        | Message::ParseComplete
        | Message::CloseComplete
        | Message::CommandComplete(_)
        | Message::EmptyQueryResponse
        | Message::NoData
        | Message::PortalSuspended
        | Message::RowDescription(_)
        | Message::ParameterDescription(_) => Ok(()),
        other => Err(WireError::protocol(format!(
            "unexpected {} from the server",
            message_name(other)
        ))),
    }
}

/// A backend message's name, for errors.
pub fn message_name(m: &Message) -> &'static str {
    match m {
        Message::AuthenticationCleartextPassword => "AuthenticationCleartextPassword",
        Message::AuthenticationGss => "AuthenticationGSS",
        Message::AuthenticationKerberosV5 => "AuthenticationKerberosV5",
        Message::AuthenticationMd5Password(_) => "AuthenticationMD5Password",
        Message::AuthenticationOk => "AuthenticationOk",
        Message::AuthenticationScmCredential => "AuthenticationSCMCredential",
        Message::AuthenticationSspi => "AuthenticationSSPI",
        Message::AuthenticationGssContinue(_) => "AuthenticationGSSContinue",
        Message::AuthenticationSasl(_) => "AuthenticationSASL",
        Message::AuthenticationSaslContinue(_) => "AuthenticationSASLContinue",
        Message::AuthenticationSaslFinal(_) => "AuthenticationSASLFinal",
        Message::BackendKeyData(_) => "BackendKeyData",
        Message::BindComplete => "BindComplete",
        Message::CloseComplete => "CloseComplete",
        Message::CommandComplete(_) => "CommandComplete",
        Message::CopyData(_) => "CopyData",
        Message::CopyDone => "CopyDone",
        Message::CopyInResponse(_) => "CopyInResponse",
        Message::CopyOutResponse(_) => "CopyOutResponse",
        Message::DataRow(_) => "DataRow",
        Message::EmptyQueryResponse => "EmptyQueryResponse",
        Message::ErrorResponse(_) => "ErrorResponse",
        Message::NoData => "NoData",
        Message::NoticeResponse(_) => "NoticeResponse",
        Message::NotificationResponse(_) => "NotificationResponse",
        Message::ParameterDescription(_) => "ParameterDescription",
        Message::ParameterStatus(_) => "ParameterStatus",
        Message::ParseComplete => "ParseComplete",
        Message::PortalSuspended => "PortalSuspended",
        Message::ReadyForQuery(_) => "ReadyForQuery",
        Message::RowDescription(_) => "RowDescription",
        _ => "message",
    }
}

/// Column `i` of the first row of a [`Wire::simple_query`] result (`None`
/// for no row, no such column, or NULL).
pub fn cell(rows: &[Vec<Option<String>>], i: usize) -> Option<&str> {
    rows.first()?.get(i)?.as_deref()
}

/// `'text'` as an SQL string literal.
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// `name` as an SQL identifier.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_that_never_answers_fails_the_connection_after_connect_timeout() {
        // The kernel accepts the connection into the backlog; nobody answers.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let info = ConnInfo {
            connect_timeout: Some(Duration::from_secs(2)),
            ..ConnInfo::local("127.0.0.1", port, "postgres", "postgres")
        };
        let t = Instant::now();
        let e = Wire::connect(&info).err().expect("no server, no connection");
        let took = t.elapsed();
        assert!(matches!(e.kind, WireErrorKind::Timeout(_)), "{e}");
        assert!(
            took >= Duration::from_secs(2) && took < Duration::from_secs(5),
            "{took:?}"
        );
        drop(listener);
    }

    #[test]
    fn quoting_keeps_quotes_inside() {
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
