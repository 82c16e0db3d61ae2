//! Bearer tokens: POSTs need a write token once one is configured, GETs a read (or write)
//! token once a read token is, `/health` stays open; a refused request writes nothing; the
//! binary refuses to listen beyond loopback with no write token, and never prints a token.

use std::process::Command;
use std::time::Duration;

use bottles_web::{ServiceOptions, Tokens};
use serde_json::json;

use crate::helpers::{TestApp, admin_url, json, spawn_app, spawn_app_with};
use crate::shutdown::{start, terminate, wait_exit};

const OLD: &str = "write-token-being-rotated-out";
const NEW: &str = "write-token-rotated-in";
const READER: &str = "read-only-token";

async fn app_with(write: &[&str], read: &[&str]) -> TestApp {
    let service = ServiceOptions {
        tokens: Tokens::new(write, read),
        ..ServiceOptions::default()
    };
    spawn_app_with(admin_url(), bottles::pool_options(), service).await
}

async fn post_with(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut request = app
        .http
        .post(app.url("/users"))
        .json(&json!({ "name": "Zed" }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

async fn get_with(app: &TestApp, path: &str, token: Option<&str>) -> u16 {
    let mut request = app.http.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap().status().as_u16()
}

async fn users(app: &TestApp) -> i64 {
    let sql = app.sql().await;
    let row = sql
        .query_one("SELECT count(*) FROM \"user\"", &[])
        .await
        .unwrap();
    row.get(0)
}

#[tokio::test]
async fn posts_need_one_of_the_write_tokens_and_a_refused_one_writes_nothing() {
    let app = app_with(&[OLD, NEW], &[]).await;
    let missing = post_with(&app, None).await;
    let challenge = missing.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(challenge, "Bearer realm=\"bottles-web\"");
    let (status, body) = json(missing).await;
    assert_eq!(
        (status, body),
        (
            401,
            json!({ "error": "writes need an Authorization: Bearer token" })
        )
    );
    for wrong in [READER, "write-token-rotated-i", "Basic dXNlcjpwYXNz"] {
        let refused = post_with(&app, Some(wrong)).await;
        assert_eq!(refused.status().as_u16(), 401, "{wrong:?}");
        let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
        let text = refused.text().await.unwrap();
        assert!(!text.contains(wrong), "the body repeats the token: {text}");
    }
    assert_eq!(users(&app).await, 3, "nothing refused was written");
    for token in [OLD, NEW] {
        assert_eq!(post_with(&app, Some(token)).await.status().as_u16(), 201);
    }
    assert_eq!(users(&app).await, 5);
    assert_eq!(get_with(&app, "/stats", None).await, 200, "GETs stay open");
}

#[tokio::test]
async fn with_a_read_token_gets_need_it_or_a_write_token_but_health_stays_open() {
    let app = app_with(&[NEW], &[READER]).await;
    assert_eq!(get_with(&app, "/stats", None).await, 401);
    assert_eq!(get_with(&app, "/users/1", Some("guess")).await, 401);
    assert_eq!(get_with(&app, "/stats", Some(READER)).await, 200);
    assert_eq!(get_with(&app, "/users/1", Some(NEW)).await, 200);
    assert_eq!(get_with(&app, "/health", None).await, 200);
    assert_eq!(
        post_with(&app, Some(READER)).await.status().as_u16(),
        401,
        "a reader cannot write"
    );
}

#[tokio::test]
async fn without_tokens_everything_is_open_as_before() {
    let app = spawn_app().await;
    assert_eq!(post_with(&app, None).await.status().as_u16(), 201);
    assert_eq!(get_with(&app, "/stats", None).await, 200);
}

#[test]
fn the_binary_refuses_to_listen_beyond_loopback_with_no_write_token() {
    let tmp = tempfile::tempdir().unwrap();
    for listen in ["0.0.0.0:0", "[::]:0"] {
        let output = Command::new(env!("CARGO_BIN_EXE_bottles-web"))
            .args(["--listen", listen])
            .current_dir(tmp.path())
            .env("HOME", tmp.path())
            .env_remove("BOTTLES_WRITE_TOKENS")
            .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{listen}");
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!(
                "error: refusing to listen on {listen} with no write token"
            )),
            "{err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_takes_its_tokens_from_the_environment_and_never_logs_one() {
    let app = spawn_app().await;
    let tmp = tempfile::tempdir().unwrap();
    let tokens = format!("{OLD},{NEW}");
    let vars = [
        ("DATABASE_URL", app.db_url.as_str()),
        ("BOTTLES_WRITE_TOKENS", tokens.as_str()),
    ];
    let (child, address, log) = start(&vars, tmp.path());
    let http = reqwest::Client::new();
    let post = |token: &'static str| {
        http.post(format!("{address}/users"))
            .bearer_auth(token)
            .json(&json!({ "name": "Zed" }))
            .send()
    };
    assert_eq!(post(NEW).await.unwrap().status().as_u16(), 201);
    assert_eq!(
        post("not-a-token-at-all").await.unwrap().status().as_u16(),
        401
    );
    terminate(&child);
    assert_eq!(wait_exit(child, Duration::from_secs(15)), Some(0));
    let log = log.lock().unwrap().clone();
    assert!(log.contains("POST /users 401"), "{log}");
    for secret in [OLD, NEW, "not-a-token-at-all"] {
        assert!(!log.contains(secret), "the log shows a token:\n{log}");
    }
}
