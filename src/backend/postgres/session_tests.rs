//! The wire client through real sessions: authentication, pipelines kept in
//! sync through errors, time limits and cancel, notices and encodings.

use super::tests::{engine_with_variant, op};
use super::*;
use crate::backend::{ErrorClass, SessionOptions};
use crate::pgwire::Wire;
use crate::scenario::OpKind;

#[test]
fn the_wire_client_authenticates_with_scram_md5_and_refuses_a_wrong_password() {
    use crate::provision::{Server, local};
    let _exclusive = crate::test_support::exclusive();
    let bins = local::find_binaries().expect("PostgreSQL binaries (scripts/install-backends.sh)");
    let cluster = local::LocalCluster::start(&bins, &provision::Request::default()).unwrap();
    let endpoint = cluster.endpoint().clone();
    let mut admin = endpoint.connect("postgres").unwrap();
    admin
        .batch(
            "SET password_encryption = 'scram-sha-256'; CREATE ROLE scram_user LOGIN PASSWORD 'pw-scram';
             SET password_encryption = 'md5'; CREATE ROLE md5_user LOGIN PASSWORD 'pw-md5';",
        )
        .unwrap();
    // These roles must authenticate over TCP; the rules go first (first match wins).
    let hba = cluster.dir().join("data/pg_hba.conf");
    let rest = std::fs::read_to_string(&hba).unwrap();
    std::fs::write(
        &hba,
        format!("host all scram_user 127.0.0.1/32 scram-sha-256\nhost all md5_user 127.0.0.1/32 md5\n{rest}"),
    )
    .unwrap();
    admin.batch("SELECT pg_reload_conf()").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));

    let as_user = |user: &str, password: Option<&str>| crate::pgwire::ConnInfo {
        user: user.into(),
        password: password.map(str::to_string),
        ..endpoint.conn.clone()
    };
    let select = |c: &crate::pgwire::ConnInfo| -> Result<u64, crate::pgwire::WireError> {
        let mut w = Wire::connect(c)?;
        let s = w.prepare("SELECT current_user", &[], value::format)?;
        w.queue(&s, |_, _, _| Ok(postgres_protocol::IsNull::Yes))?;
        w.send()?;
        w.reply(|_| {})
    };
    assert_eq!(select(&as_user("scram_user", Some("pw-scram"))).unwrap(), 1);
    assert_eq!(select(&as_user("md5_user", Some("pw-md5"))).unwrap(), 1);
    let wrong = select(&as_user("scram_user", Some("nope"))).unwrap_err();
    assert_eq!(wrong.code(), Some("28P01"), "{wrong}");
    let error = wrong.as_server().unwrap();
    assert_eq!(error.severity, "FATAL", "{error:?}");
    assert!(error.routine.is_some(), "every field is kept: {error:?}");
    let none = select(&as_user("md5_user", None)).unwrap_err();
    assert!(none.to_string().contains("none was given"), "{none}");
}

#[test]
fn pipelines_of_several_operations_stay_in_sync_through_encoding_errors_and_copy_in() {
    let _exclusive = crate::test_support::exclusive();
    let e = engine_with_variant(50.0, 500.0);
    let by_user = op(
        OpKind::Read,
        false,
        &[("SELECT id FROM orders WHERE user_id = $1", &[0])],
    );
    let by_id = op(
        OpKind::Read,
        false,
        &[("SELECT status, total FROM orders WHERE id = $1", &[0])],
    );
    let copy = op(OpKind::Write, false, &[("COPY orders (user_id) FROM STDIN", &[])]);
    let ops = [by_user.clone(), by_id.clone(), copy.clone()];
    let options = SessionOptions {
        ops: &ops,
        ..Default::default()
    };
    let mut s = e.open_session("v", &options).unwrap();
    let expected: Vec<u64> = (1..=6)
        .map(|u| s.execute(&by_user, &[Value::Int(u)]).unwrap())
        .collect();
    assert!(expected.iter().any(|&n| n > 1), "{expected:?}");
    let pipe = s.pipeline().unwrap();
    // Two different statements interleaved, all sent before any reply is read.
    for u in 1..=6 {
        pipe.submit(&by_user, &[Value::Int(u)]).unwrap();
        pipe.submit(&by_id, &[Value::Int(u)]).unwrap();
    }
    pipe.send().unwrap();
    assert_eq!(pipe.in_flight(), 12);
    for &n in &expected {
        assert_eq!(pipe.complete().unwrap(), n);
        assert_eq!(pipe.complete().unwrap(), 1);
    }
    // A value that cannot be encoded drops its own request only.
    pipe.submit(&by_id, &[Value::Int(1)]).unwrap();
    let bad = pipe.submit(&by_id, &[Value::Text("not a number".into())]).unwrap_err();
    assert!(bad.message.contains("cannot encode"), "{}", bad.message);
    pipe.submit(&by_user, &[Value::Int(2)]).unwrap();
    pipe.send().unwrap();
    assert_eq!(pipe.in_flight(), 2);
    assert_eq!(pipe.complete().unwrap(), 1);
    assert_eq!(pipe.complete().unwrap(), expected[1]);
    // COPY FROM STDIN in an operation is refused, and the session goes on.
    let alone = s.execute(&copy, &[]).unwrap_err();
    assert!(alone.message.contains("COPY FROM STDIN"), "{}", alone.message);
    assert_eq!(s.execute(&by_id, &[Value::Int(1)]).unwrap(), 1);
    let pipe = s.pipeline().unwrap();
    pipe.submit(&by_id, &[Value::Int(1)]).unwrap();
    pipe.submit(&copy, &[]).unwrap();
    pipe.submit(&by_id, &[Value::Int(2)]).unwrap();
    pipe.submit(&by_user, &[Value::Int(3)]).unwrap();
    pipe.send().unwrap();
    assert_eq!(pipe.complete().unwrap(), 1);
    let refused = pipe.complete();
    assert!(
        refused.as_ref().is_err_and(|e| e.message.contains("COPY FROM STDIN")),
        "{refused:?}"
    );
    // The server ends a session that pipelines behind COPY FROM STDIN
    // ("protocol synchronization was lost"): the rest fail, none hangs.
    for _ in 0..2 {
        assert_eq!(pipe.complete().unwrap_err().class, ErrorClass::ConnectionLost);
    }
    assert_eq!(pipe.in_flight(), 0);
    assert_eq!(
        s.execute(&by_id, &[Value::Int(4)]).unwrap_err().class,
        ErrorClass::ConnectionLost
    );
}

#[test]
fn slow_statements_end_as_timeouts_by_the_server_the_client_or_a_closed_connection() {
    let _exclusive = crate::test_support::exclusive();
    let e = engine_with_variant(10.0, 10.0);
    let sleep = op(OpKind::Read, false, &[("SELECT pg_sleep(600)", &[])]);
    let pid = op(OpKind::Read, false, &[("SELECT pg_backend_pid()", &[])]);
    // The server ends it: statement_timeout.
    let options = SessionOptions {
        op_timeout: Some(std::time::Duration::from_millis(500)),
        ..Default::default()
    };
    let mut s = e.open_session("v", &options).unwrap();
    let t = std::time::Instant::now();
    let err = s.execute(&sleep, &[]).unwrap_err();
    assert_eq!(err.class, ErrorClass::Timeout, "{}", err.message);
    assert!(err.message.contains("57014"), "{}", err.message);
    assert!(t.elapsed() < std::time::Duration::from_secs(5), "{:?}", t.elapsed());
    assert_eq!(s.execute(&pid, &[]).unwrap(), 1, "the session goes on");
    // The client ends it: the server's limit is lifted inside the operation,
    // so the client's deadline sends a cancel request.
    let unlimited = op(
        OpKind::Read,
        true,
        &[("SET LOCAL statement_timeout = 0", &[]), ("SELECT pg_sleep(600)", &[])],
    );
    let err = s.execute(&unlimited, &[]).unwrap_err();
    assert_eq!(err.class, ErrorClass::Timeout, "{}", err.message);
    assert!(err.message.contains("cancel"), "{}", err.message);
    assert_eq!(s.execute(&pid, &[]).unwrap(), 1, "the session goes on");
    // A backend that cannot answer even a cancel (stopped): the client gives
    // up and closes the connection.
    let backend: i32 = match &s.fetch(&pid, &[]).unwrap()[0][0] {
        Value::Int(p) => *p as i32,
        other => panic!("{other:?}"),
    };
    // SAFETY: signalling a backend of the cluster this test started.
    unsafe { libc::kill(backend, libc::SIGSTOP) };
    let t = std::time::Instant::now();
    let err = s.execute(&unlimited, &[]).unwrap_err();
    let took = t.elapsed();
    // SAFETY: as above.
    unsafe { libc::kill(backend, libc::SIGCONT) };
    assert_eq!(err.class, ErrorClass::Timeout, "{}", err.message);
    assert!(err.message.contains("connection was closed"), "{}", err.message);
    assert!(took < std::time::Duration::from_secs(10), "{took:?}");
    assert_eq!(s.execute(&pid, &[]).unwrap_err().class, ErrorClass::ConnectionLost);
}

#[test]
fn notices_are_counted_and_a_switch_of_client_encoding_closes_the_session() {
    let _exclusive = crate::test_support::exclusive();
    let e = engine_with_variant(10.0, 10.0);
    let setup = ["CREATE FUNCTION pg_temp.noisy() RETURNS int LANGUAGE plpgsql AS \
                  $$BEGIN RAISE NOTICE 'hello'; RAISE WARNING 'careful'; RETURN 1; END$$"
        .to_string()];
    let noisy = op(OpKind::Read, false, &[("SELECT pg_temp.noisy()", &[])]);
    let mut s = e.open_session("v", &SessionOptions::statements(&setup)).unwrap();
    for _ in 0..3 {
        assert_eq!(s.execute(&noisy, &[]).unwrap(), 1);
    }
    assert_eq!(s.notices(), 6);
    let latin = ["SET client_encoding = 'LATIN1'".to_string()];
    let err = e
        .open_session("v", &SessionOptions::statements(&latin))
        .err()
        .expect("a session that leaves UTF-8 is refused");
    assert!(err.to_string().contains("client_encoding to LATIN1"), "{err}");
}
