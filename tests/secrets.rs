//! A distinctive password passed through every form schemabench accepts a
//! connection in (URLs, keyword strings with and without spaces and quotes,
//! PGPASSWORD, mistyped URLs) and planted in a server setting
//! (`primary_conninfo`): it appears in no output and no file of any run.

mod common;

use schemabench::provision::{Server, local};

const SECRET: &str = "Zq7secretPW";

#[test]
fn a_password_never_appears_in_any_output_or_file() {
    let bins = local::find_binaries().expect("PostgreSQL binaries");
    let cluster = local::LocalCluster::start(&bins, &Default::default()).unwrap();
    let port = cluster.endpoint().port();
    let mut admin = cluster.endpoint().connect("postgres").unwrap();
    // A setting a superuser's run records, holding a password.
    admin
        .batch(&format!(
            "ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 user=rep password={SECRET}'"
        ))
        .unwrap();
    admin.batch("SELECT pg_reload_conf()").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let scenario = common::postgres_scenario(dir.path(), "secrets", "300ms");

    let host = "127.0.0.1";
    // (connection string, extra environment, whether the run should work)
    type Form = (String, Vec<(&'static str, String)>, bool);
    let forms: Vec<Form> = vec![
        (
            format!("postgres://postgres:{SECRET}@{host}:{port}/postgres"),
            vec![],
            true,
        ),
        (
            format!("postgresql://postgres:{SECRET}@{host}:{port}/postgres?sslmode=disable"),
            vec![],
            true,
        ),
        (
            format!("postgres://postgres@{host}:{port}/postgres?password={SECRET}"),
            vec![],
            true,
        ),
        (
            format!("host={host} port={port} user=postgres password={SECRET} dbname=postgres"),
            vec![],
            true,
        ),
        (
            format!("host = {host} port = {port} user = postgres password = {SECRET} dbname = postgres"),
            vec![],
            true,
        ),
        (
            format!("host={host} port={port} user=postgres password='{SECRET} with spaces' dbname=postgres"),
            vec![],
            true,
        ),
        (
            format!("host={host} port={port} user=postgres dbname=postgres"),
            vec![("PGPASSWORD", SECRET.to_string())],
            true,
        ),
        // Mistyped: one slash, no scheme, a stray quote.
        (
            format!("postgresql:/postgres:{SECRET}@{host}:{port}/postgres"),
            vec![],
            false,
        ),
        (format!("postgres:{SECRET}@{host}:{port}/postgres"), vec![], false),
        (format!("host={host} port={port} password='{SECRET}"), vec![], false),
        (
            format!("postgres://postgres:{SECRET}@{host}:notaport/postgres"),
            vec![],
            false,
        ),
    ];
    for (i, (conn, env, works)) in forms.iter().enumerate() {
        let runs = dir.path().join(format!("runs{i}"));
        let work = dir.path().join(format!("work{i}"));
        std::fs::create_dir_all(&work).unwrap();
        let out = common::bin()
            .arg("run")
            .arg(&scenario)
            .args(["--json", "--provisioner", "url", "--postgres-url", conn, "--out"])
            .arg(&runs)
            .arg("--work-dir")
            .arg(&work)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let form = conn.replace(SECRET, "<secret>");
        assert_eq!(out.status.success(), *works, "form {i} `{form}`: {stderr}");
        assert!(!stdout.contains(SECRET), "form {i} `{form}`: password on stdout");
        assert!(
            !stderr.contains(SECRET),
            "form {i} `{form}`: password on stderr: {stderr}"
        );
        let files = common::walk(&runs);
        assert_eq!(files.is_empty(), !works, "form {i}: run files {files:?}");
        for f in files {
            let bytes = std::fs::read(&f).unwrap();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(SECRET),
                "form {i} `{form}`: password in {}",
                f.display()
            );
        }
        if *works {
            let result: serde_json::Value = serde_json::from_str(&stdout).unwrap();
            let settings = result["backends"][0]["settings"].to_string();
            assert!(settings.contains("primary_conninfo"), "{settings}");
        }
    }
}
