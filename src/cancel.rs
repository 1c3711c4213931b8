//! A cancel token: set by the signal handler (or by a library caller), read
//! by every loop that measures and by the PostgreSQL client while it waits
//! for a reply (which then cancels the running statement), so Ctrl-C ends a
//! run within seconds even while a statement is stuck in the server. Each
//! run gets its own through `RunOptions`, so runs in one process (tests,
//! `cargo bench`) cancel independently.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks every loop and waiting client holding this token to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    #[inline]
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// The flag itself, for loops that take an `&AtomicBool`.
    pub fn flag(&self) -> &AtomicBool {
        &self.0
    }
}
