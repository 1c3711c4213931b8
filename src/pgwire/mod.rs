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
mod copy;
pub mod error;
mod receive;
pub mod stream;
#[cfg(test)]
mod tests;

pub use conninfo::{ConnInfo, ConnInfoError, Host, SslMode};
pub use error::{ServerError, WireError, WireErrorKind, sqlstate};

use bytes::BytesMut;
use fallible_iterator::FallibleIterator;
use postgres_protocol::IsNull;
use postgres_protocol::authentication::{md5_hash, sasl};
use postgres_protocol::message::backend::{DataRowBody, Message};
use postgres_protocol::message::frontend;
use postgres_types::{Kind, Type};
pub use receive::message_name;
use receive::{Waiting, expect_reply_part};
use std::collections::HashMap;
use std::time::Duration;
use stream::Stream;

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
#[derive(Debug, Clone, Default)]
pub struct Limits {
    /// Longest silence while a reply is due before the request is cancelled.
    pub reply_timeout: Option<Duration>,
    /// Cancel the request when this token is cancelled (the user
    /// interrupted the run).
    pub cancel: Option<crate::cancel::CancelToken>,
}

impl Limits {
    fn interrupted(&self) -> bool {
        self.cancel.as_ref().is_some_and(|c| c.is_cancelled())
    }
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
    /// The caller saw the socket readable; the next read skips `poll`.
    readable: bool,
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
            readable: false,
            cancel: None,
            parameters: Vec::new(),
            notices: 0,
            limits: Limits {
                reply_timeout: info.connect_timeout,
                cancel: None,
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

    /// The socket polled readable: the next read need not wait in `poll`
    /// first (a multiplexing caller already did).
    pub fn mark_readable(&mut self) {
        self.readable = true;
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
        let done = self.until_ready(|m| match m {
            Message::DataRow(body) => {
                row(Row { body: &body });
                rows += 1;
                Ok(())
            }
            m => expect_reply_part(&m),
        });
        self.readable = false;
        done.map(|()| rows)
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
}

impl Drop for Wire {
    fn drop(&mut self) {
        if !self.closed {
            frontend::terminate(&mut self.out);
            let _ = self.flush();
        }
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
