//! Reopening a client's session after the server closed its connection
//! (`pg_terminate_backend`, an idle timeout, a restart): the client retries
//! with backoff until the window ends. When nothing answers at all
//! (connection refused, no route) for [`SERVER_GONE_AFTER`], the server
//! counts as gone and the window stops; a server that answers with an error
//! (it terminated the new session too, too many connections) is alive, and
//! the client keeps trying.

use crate::backend::{BackendError, Session};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long connecting may fail with no answer at all before the server
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
    /// When the window ends: no reconnecting after that.
    until: OnceLock<Instant>,
}

impl<'a> Reconnect<'a> {
    /// Reconnects through `open`; gives up when `halt` is set, and sets it
    /// when the server is gone.
    pub fn new(open: &'a OpenSession<'a>, halt: &'a AtomicBool) -> Self {
        Reconnect {
            open,
            halt,
            gone: Mutex::new(None),
            until: OnceLock::new(),
        }
    }

    /// Sets when the window ends (the first caller wins: every client
    /// thread starts within microseconds of the others).
    pub fn window_ends(&self, at: Instant) {
        let _ = self.until.set(at);
    }

    /// A new session, after as many attempts as it takes before the window
    /// ends; `None` when the window stops or ends first, or when the server
    /// is gone (then every client of the window stops).
    pub fn session(&self) -> Option<Box<dyn Session>> {
        let until = self.until.get().copied();
        let mut silent_since = Instant::now();
        let mut wait = FIRST_BACKOFF;
        loop {
            if self.halt.load(Ordering::Relaxed) {
                return None;
            }
            match (self.open)() {
                Ok(s) => return Some(s),
                Err(e @ BackendError::Unavailable { .. }) if silent_since.elapsed() >= SERVER_GONE_AFTER => {
                    let mut gone = self.gone.lock().unwrap_or_else(|p| p.into_inner());
                    gone.get_or_insert_with(|| crate::util::error_chain(&e));
                    self.halt.store(true, Ordering::Relaxed);
                    return None;
                }
                Err(BackendError::Unavailable { .. }) => {}
                // The server answered: it is alive.
                Err(_) => silent_since = Instant::now(),
            }
            if until.is_some_and(|u| Instant::now() + wait >= u) {
                return None;
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
