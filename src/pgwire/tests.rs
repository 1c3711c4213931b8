//! The client without a server, or with a listener that never answers.

use super::*;
use std::time::Instant;

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
