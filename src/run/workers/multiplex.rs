//! The multiplexed closed loop: one thread drives several connections,
//! statement by statement, waking in `poll` for whichever reply comes first.

use super::client::{Client, InProgress};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Multiplexed closed loop: each client keeps one request in flight; the
/// thread sleeps in `poll` until a reply arrives, records it and sends that
/// client's next request. A request still out after `limit` (the operation
/// timeout plus the client's grace), or when the user interrupts, gets a
/// cancel request; one still out a second after that is abandoned and
/// recorded as a timeout. A client whose connection was lost reopens it
/// before its next request. Returns when the last reply was read.
pub(super) fn run(
    clients: &mut [&mut Client],
    record_from: Instant,
    end: Instant,
    stop: &AtomicBool,
    limit: Option<Duration>,
) -> Instant {
    let mut sockets: Vec<i32> = clients.iter_mut().map(|c| socket(c)).collect();
    let mut pending: Vec<Option<InProgress>> = clients
        .iter_mut()
        .zip(&mut sockets)
        .map(|(c, fd)| start_next(c, record_from, end, fd))
        .collect();
    let mut cancelled: Vec<Option<Instant>> = vec![None; clients.len()];
    let mut fds: Vec<libc::pollfd> = sockets
        .iter()
        .map(|&fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    let mut last = Instant::now();
    let mut checked = last;
    loop {
        let interrupted = stop.load(Ordering::Relaxed);
        let open = last < end && !interrupted;
        if pending.iter().all(Option::is_none) {
            return last;
        }
        for ((fd, &socket), p) in fds.iter_mut().zip(&sockets).zip(&pending) {
            // poll ignores a negative fd: clients with nothing in flight.
            fd.fd = if p.is_some() { socket } else { -1 };
            fd.revents = 0;
        }
        // SAFETY: poll reads and writes the pollfd array we own.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 100) };
        // Deadlines are looked at on a quiet tick and at least every tick
        // while others keep replying (a busy group must not hide a hung
        // client).
        let now = Instant::now();
        if ready == 0 || now - checked >= crate::pgwire::stream::TICK {
            checked = now;
            for (i, client) in clients.iter_mut().enumerate() {
                let Some(progress) = &pending[i] else { continue };
                let overdue = interrupted || limit.is_some_and(|l| now - progress.started >= l);
                match cancelled[i] {
                    None if overdue => {
                        if let Some(p) = client.session.pipeline() {
                            p.cancel();
                        }
                        cancelled[i] = Some(now);
                    }
                    Some(at) if now - at >= crate::pgwire::CANCEL_GRACE => {
                        let progress = pending[i].take().expect("checked above");
                        if let Some(p) = client.session.pipeline() {
                            let e = p.abandon();
                            client.record(progress.op, progress.started, now, record_from, Err(e));
                        }
                        // Its socket is closed: poll must not watch it.
                        fds[i].revents = 0;
                    }
                    _ => {}
                }
            }
        }
        for (i, client) in clients.iter_mut().enumerate() {
            if fds[i].revents == 0 {
                continue;
            }
            let Some(progress) = pending[i].take() else {
                continue;
            };
            let reply = match client.session.pipeline() {
                Some(p) => p.complete_arrived(),
                None => continue,
            };
            cancelled[i] = None;
            pending[i] = client.advance(progress, reply, record_from);
            last = Instant::now();
            if pending[i].is_none() && client.lost() && !reopen(client, &mut sockets[i]) {
                continue;
            }
            if pending[i].is_none() && open && !stop.load(Ordering::Relaxed) {
                pending[i] = start_next(client, record_from, end, &mut sockets[i]);
            }
        }
    }
}

/// The socket of a client's connection (-1: none; `poll` skips it).
fn socket(client: &mut Client) -> i32 {
    client.session.pipeline().and_then(|p| p.fd()).unwrap_or(-1)
}

/// Reopens a client's lost connection (with backoff, while this thread's
/// other clients wait: a lost connection is rare, and the window stops
/// when the server is gone) and updates its socket. False if it stays lost.
fn reopen(client: &mut Client, fd: &mut i32) -> bool {
    let ok = client.recover();
    *fd = if ok { socket(client) } else { -1 };
    ok
}

/// Starts a client's next operation, reopening the connection first if it
/// was lost (also when sending the first statement finds it lost).
fn start_next(client: &mut Client, record_from: Instant, end: Instant, fd: &mut i32) -> Option<InProgress> {
    while Instant::now() < end {
        if client.lost() && !reopen(client, fd) {
            return None;
        }
        let started = client.start_next(record_from);
        if started.is_some() || !client.lost() {
            return started;
        }
    }
    None
}
