use super::*;

/// The first column of the first row of `sql`, as text.
fn one(c: &mut Wire, sql: &str) -> String {
    c.simple_query(sql).unwrap()[0][0].clone().unwrap_or_default()
}

fn process_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

#[test]
fn a_local_cluster_starts_serves_and_leaves_nothing_behind() {
    let _exclusive = crate::test_support::exclusive();
    let Some(bins) = local::find_binaries() else {
        panic!("PostgreSQL binaries not found: run scripts/install-backends.sh");
    };
    let cluster = local::LocalCluster::start(&bins, &Request::default()).expect("starts");
    let (pid, dir) = (cluster.pid(), cluster.dir().to_path_buf());
    assert!(process_alive(pid));
    let mut c = cluster.endpoint().connect("postgres").unwrap();
    assert_eq!(one(&mut c, "SHOW fsync"), "on");
    assert_eq!(one(&mut c, "SELECT current_user"), "postgres");
    let described = cluster.describe();
    assert!(
        described.starts_with("local throwaway cluster (PostgreSQL 1"),
        "{described}"
    );
    assert!(!described.contains("))"), "{described}");
    drop(c);
    drop(cluster);
    assert!(!process_alive(pid), "server {pid} still running");
    assert!(!dir.exists(), "{} left behind", dir.display());
}

#[test]
fn settings_from_the_request_reach_the_server() {
    let _exclusive = crate::test_support::exclusive();
    let bins = local::find_binaries().expect("PostgreSQL binaries");
    let request = Request {
        settings: vec![
            ("synchronous_commit".into(), "off".into()),
            ("work_mem".into(), "8MB".into()),
        ],
        ..Request::default()
    };
    let cluster = local::LocalCluster::start(&bins, &request).unwrap();
    let mut c = cluster.endpoint().connect("postgres").unwrap();
    assert_eq!(one(&mut c, "SHOW synchronous_commit"), "off");
    assert_eq!(one(&mut c, "SHOW work_mem"), "8MB");
}

#[test]
fn a_bad_setting_fails_with_the_server_log_and_cleans_up() {
    let _exclusive = crate::test_support::exclusive();
    let bins = local::find_binaries().expect("PostgreSQL binaries");
    let work = tempfile::tempdir().unwrap();
    let request = Request {
        settings: vec![("shared_buffers".into(), "lots".into())],
        work_dir: Some(work.path().to_path_buf()),
        ..Request::default()
    };
    let err = local::LocalCluster::start(&bins, &request)
        .err()
        .expect("fails")
        .to_string();
    assert!(err.contains("shared_buffers"), "{err}");
    assert_eq!(
        std::fs::read_dir(work.path()).unwrap().count(),
        0,
        "cluster folder left behind"
    );
}

/// Runs only where a Docker daemon answers and a PostgreSQL image is
/// available (`scripts/test.sh` starts a private daemon and builds a local
/// image, then sets SCHEMABENCH_DOCKER_IMAGE); elsewhere it says why and
/// passes, since the docker path cannot run without both.
#[test]
fn a_docker_container_starts_serves_and_is_removed() {
    let _exclusive = crate::test_support::exclusive();
    let Ok(image) = std::env::var("SCHEMABENCH_DOCKER_IMAGE") else {
        eprintln!("skipped: SCHEMABENCH_DOCKER_IMAGE is not set (scripts/test.sh sets it)");
        return;
    };
    assert!(
        docker::daemon_answers(),
        "SCHEMABENCH_DOCKER_IMAGE is set but no Docker daemon answers"
    );
    let request = Request {
        choice: Choice::Docker,
        docker_image: Some(image),
        settings: vec![("work_mem".into(), "7MB".into())],
        ..Request::default()
    };
    let missing = Request {
        choice: Choice::Docker,
        docker_image: Some("schemabench/not-built-here:0".into()),
        ..Request::default()
    };
    assert!(!docker::image_present("schemabench/not-built-here:0"));
    let err = provision(&missing)
        .err()
        .expect("a missing image is an error, never a pull")
        .to_string();
    assert!(err.contains("never pulls"), "{err}");
    let server = provision(&request).expect("container starts");
    assert_eq!(server.provisioner(), "docker");
    let mut c = server.endpoint().connect("postgres").unwrap();
    assert_eq!(one(&mut c, "SHOW work_mem"), "7MB");
    let port = server.endpoint().port();
    drop(c);
    drop(server);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "container still serving on {port}"
    );
}
