//! The process-wide "stop" request: set by the signal handler, read by every
//! loop that measures and by the PostgreSQL client while it waits for a
//! reply (which then cancels the running statement), so Ctrl-C ends a run
//! within seconds even while a statement is stuck in the server.

use std::sync::atomic::{AtomicBool, Ordering};

/// Set once the user asked the run to stop.
pub static STOP: AtomicBool = AtomicBool::new(false);

/// Whether the user asked the run to stop.
#[inline]
pub fn requested() -> bool {
    STOP.load(Ordering::Relaxed)
}

/// Asks every loop and waiting client to stop.
pub fn request() {
    STOP.store(true, Ordering::Relaxed);
}
