//! Reading replies: messages until ReadyForQuery, bytes as the time
//! limits allow, and the cancel-then-close path for a reply that is late.

use super::error::{ServerError, WireError, WireErrorKind};
use super::stream::{self, Filled};
use super::{CANCEL_GRACE, Wire};
use postgres_protocol::message::backend::Message;
use postgres_protocol::message::frontend;
use std::time::{Duration, Instant};

/// Why a slow request was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CancelReason {
    Timeout,
    Interrupt,
}

/// Where the client is in waiting for a reply (slow path only).
#[derive(Debug, Default)]
pub(super) struct Waiting {
    since: Option<Instant>,
    cancelled: Option<(Instant, CancelReason)>,
}

impl Wire {
    /// Reads messages until ReadyForQuery. The first ErrorResponse is
    /// returned after the server is ready again (the connection stays
    /// usable), or when the server closes the connection after it (FATAL).
    pub(super) fn until_ready(
        &mut self,
        mut each: impl FnMut(Message) -> Result<(), WireError>,
    ) -> Result<(), WireError> {
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
    pub(super) fn recv(&mut self) -> Result<Message, WireError> {
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
            // With one request out on a unix socket, wait in poll (see
            // Stream::fill), unless the caller already saw the socket readable.
            let readable = std::mem::take(&mut self.readable);
            let poll_first = self.in_flight == 0 && self.stream.is_unix() && !readable;
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
            let reason = if self.limits.interrupted() {
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
pub(super) fn expect_reply_part(m: &Message) -> Result<(), WireError> {
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
