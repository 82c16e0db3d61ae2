//! Secrets and TLS, against a server of this test binary's own: TLS on with a self-signed
//! certificate, `alice` signing in with a password (SCRAM), `tls_only` refused without TLS,
//! each with a database of its own.

use std::process::Output;
use std::sync::OnceLock;

use bottles::Database;
use throwaway_pg::{LocalServer, Options};

use crate::helpers::{assert_one_line_error, bottles, stderr, stdout};

const PASSWORD: &str = "correct-horse-battery-staple";

/// The server, started once with TLS and password rules, and a database alice owns.
fn server() -> &'static LocalServer {
    static SERVER: OnceLock<LocalServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        let certified = rcgen::generate_simple_self_signed(names).expect("a certificate");
        let options = Options::default()
            .file("server.crt", certified.cert.pem())
            .file("server.key", certified.signing_key.serialize_pem())
            .setting("ssl", "on")
            .setting("ssl_cert_file", "server.crt")
            .setting("ssl_key_file", "server.key")
            .hba_rule("host all alice 127.0.0.1/32 scram-sha-256")
            .hba_rule("hostnossl all tls_only 127.0.0.1/32 reject");
        let server = LocalServer::start_with(&options).expect("a TLS server");
        let setup = std::process::Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", &server.url(), "-c"])
            .arg(format!(
                "CREATE ROLE alice LOGIN PASSWORD '{PASSWORD}'; CREATE ROLE tls_only LOGIN SUPERUSER"
            ))
            .args(["-c", "CREATE DATABASE alicedb OWNER alice"])
            // Each role resets a database of its own: tables (and bottles_migrations) made by
            // one role cannot be dropped by the other.
            .args(["-c", "CREATE DATABASE tlsdb OWNER tls_only"])
            .output()
            .expect("psql");
        assert!(setup.status.success(), "{setup:?}");
        server
    })
}

fn url(user: &str, password: &str, query: &str) -> String {
    let port = server().port();
    let database = if user == "tls_only" {
        "tlsdb"
    } else {
        "alicedb"
    };
    format!("postgres://{user}:{password}@127.0.0.1:{port}/{database}{query}")
}

fn assert_no_password(output: &Output, password: &str) {
    let (out, err) = (stdout(output), stderr(output));
    assert!(!out.contains(password), "stdout leaks it:\n{out}");
    assert!(!err.contains(password), "stderr leaks it:\n{err}");
}

/// Whether the connection `db` hands out is encrypted, as the server sees it.
async fn encrypted(db: &Database) -> bool {
    let client = db.client().await.unwrap();
    let sql = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";
    client.query_one(sql, &[]).await.unwrap().get(0)
}

#[tokio::test]
async fn sslmode_require_encrypts_disable_does_not_and_prefer_takes_tls_when_offered() {
    for (mode, expected) in [("require", true), ("disable", false), ("prefer", true)] {
        let db = Database::open(Some(&url("alice", PASSWORD, &format!("?sslmode={mode}"))))
            .await
            .unwrap_or_else(|err| panic!("sslmode={mode}: {err}"));
        assert_eq!(encrypted(&db).await, expected, "sslmode={mode}");
    }
}

#[test]
fn the_whole_pipeline_runs_over_tls_with_a_password_and_echo_shows_neither_secret() {
    let url = url("alice", PASSWORD, "?sslmode=require");
    let output = bottles(Some(&url), &["--echo"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("messages from user 'Eli' (Message.afrom_user): 33"));
    assert!(stderr(&output).contains("bottles::sql: COMMIT  -- ok in"));
    assert_no_password(&output, PASSWORD);
}

#[test]
fn a_wrong_password_is_refused_in_one_line_that_does_not_repeat_it() {
    let wrong = "not-the-password-42";
    for form in [
        url("alice", wrong, ""),
        format!(
            "host=127.0.0.1 port={} user=alice password={wrong} dbname=alicedb",
            server().port()
        ),
    ] {
        let output = bottles(Some(&form), &["query"]);
        assert_eq!(output.status.code(), Some(1));
        let err = stderr(&output);
        assert!(
            err.contains("password authentication failed for user \"alice\""),
            "{err}"
        );
        assert_one_line_error(&err, "a wrong password");
        assert_no_password(&output, wrong);
    }
}

#[test]
fn a_role_that_needs_tls_is_refused_without_it_and_served_with_it() {
    let refused = bottles(
        Some(&url("tls_only", "unused-pw", "?sslmode=disable")),
        &["query"],
    );
    assert_eq!(refused.status.code(), Some(1));
    let err = stderr(&refused);
    assert!(
        err.contains("pg_hba.conf rejects connection") && err.contains("no encryption"),
        "{err}"
    );
    assert_no_password(&refused, "unused-pw");
    let served = bottles(
        Some(&url("tls_only", "unused-pw", "?sslmode=require")),
        &["reset"],
    );
    assert!(served.status.success(), "{}", stderr(&served));
}

#[tokio::test]
async fn debug_and_display_of_databases_and_errors_hold_no_password() {
    let db = Database::open(Some(&url("alice", PASSWORD, "")))
        .await
        .unwrap();
    assert!(!format!("{db:?}").contains(PASSWORD));
    assert!(!db.target().contains(PASSWORD));
    let err = Database::open(Some(&url("alice", "wrong-pw-7", "")))
        .await
        .expect_err("wrong password");
    assert!(
        matches!(err, bottles_core::Error::Connect { .. }),
        "{err:?}"
    );
    for text in [format!("{err}"), format!("{err:?}"), format!("{err:#?}")] {
        assert!(
            !text.contains("wrong-pw-7") && !text.contains(PASSWORD),
            "{text}"
        );
    }
}

#[test]
fn help_with_a_password_in_the_environment_does_not_show_it() {
    for args in [&["--help"][..], &["query", "--help"], &["seed", "-h"]] {
        let output = bottles(Some(&url("alice", PASSWORD, "")), args);
        assert!(output.status.success());
        assert!(stdout(&output).contains("DATABASE_URL"));
        assert_no_password(&output, PASSWORD);
    }
}
