//! `COPY ... FROM STDIN`: the loader's path, streamed in CopyData messages
//! that stop at the server's first error or the user's interrupt.

use super::Wire;
use super::error::{ServerError, WireError, WireErrorKind};
use super::receive::expect_reply_part;
use bytes::BufMut;
use postgres_protocol::message::backend::Message;
use postgres_protocol::message::frontend;

impl Wire {
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
        if self.limits.interrupted() {
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
}
