//! Reopening a client's session after the server closed its connection
//! (`pg_terminate_backend`, an idle timeout, a restart): the client retries
//! with backoff, and when no new session opens for [`SERVER_GONE_AFTER`]
//! the server counts as gone and the window stops.

use crate::backend::{BackendError, Session};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How long a client keeps trying to open a new session before the server
/// counts as gone (a killed server refuses at once; a restarting one
/// accepts again within this).
pub const SERVER_GONE_AFTER: Duration = Duration::from_millis(500);

/// The first wait between attempts; doubled after each failure up to
/// [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(10);
const MAX_BACKOFF: Duration = Duration::from_millis(200);

/// Opens a new session for the variant a window measures.
pub type OpenSession<'a> = dyn Fn() -> Result<Box<dyn Session>, BackendError> + Sync + 'a;

/// Shared by a window's clients: how to open a session, the window's stop
/// flag, and why the server counts as gone, once it does.
pub struct Reconnect<'a> {
    open: &'a OpenSession<'a>,
    halt: &'a AtomicBool,
    gone: Mutex<Option<String>>,
}

impl<'a> Reconnect<'a> {
    /// Reconnects through `open`; gives up when `halt` is set, and sets it
    /// when the server is gone.
    pub fn new(open: &'a OpenSession<'a>, halt: &'a AtomicBool) -> Self {
        Reconnect {
            open,
            halt,
            gone: Mutex::new(None),
        }
    }

    /// A new session, after as many attempts as it takes within
    /// [`SERVER_GONE_AFTER`]; `None` when the window stops first or the
    /// server is gone (then every client of the window stops).
    pub fn session(&self) -> Option<Box<dyn Session>> {
        let since = Instant::now();
        let mut wait = FIRST_BACKOFF;
        loop {
            if self.halt.load(Ordering::Relaxed) {
                return None;
            }
            match (self.open)() {
                Ok(s) => return Some(s),
                Err(e) if since.elapsed() >= SERVER_GONE_AFTER => {
                    let mut gone = self.gone.lock().unwrap_or_else(|p| p.into_inner());
                    gone.get_or_insert_with(|| crate::util::error_chain(&e));
                    self.halt.store(true, Ordering::Relaxed);
                    return None;
                }
                Err(_) => {}
            }
            std::thread::sleep(wait);
            wait = (wait * 2).min(MAX_BACKOFF);
        }
    }

    /// Why the server counts as gone (the last failure to connect), if it does.
    pub fn gone(&self) -> Option<String> {
        self.gone.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
