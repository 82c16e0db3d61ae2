//! Bad days: the database gone, the pool exhausted, PostgreSQL restarted under load. The
//! service answers 503 with `Retry-After` (never a 500, never a panic) and serves again by
//! itself once the database is back.

use std::time::{Duration, Instant};

use bottles::PoolOptions;
use serde_json::json;
use throwaway_pg::LocalServer;

use bottles_web::ServiceOptions;

use crate::helpers::{json, spawn_app, spawn_app_on, spawn_app_with};

fn quick_pool(size: usize) -> PoolOptions {
    PoolOptions {
        size,
        connect_timeout: Duration::from_secs(1),
        wait_timeout: Duration::from_millis(300),
        ..PoolOptions::default()
    }
}

async fn own_server() -> LocalServer {
    tokio::task::spawn_blocking(LocalServer::start)
        .await
        .unwrap()
        .expect("a server of this test's own")
}

async fn assert_unavailable(response: reqwest::Response) {
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("try again shortly"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_database_down_every_endpoint_is_503_until_it_is_back() {
    let mut server = own_server().await;
    let app = spawn_app_on(&server.url(), quick_pool(4)).await;
    assert_eq!(json(app.get("/health").await).await.0, 200);

    let mut server_handle = tokio::task::spawn_blocking(move || {
        server.stop_for_now().expect("stop");
        server
    });
    server = (&mut server_handle).await.unwrap();
    for path in [
        "/health",
        "/stats",
        "/users",
        "/users?name=Eli",
        "/users/2",
        "/messages?user_name=Eli",
    ] {
        assert_unavailable(app.get(path).await).await;
    }
    assert_unavailable(app.post_json("/users", &json!({"name": "Zoe"})).await).await;

    let server = tokio::task::spawn_blocking(move || {
        server.start_again().expect("start");
        server
    })
    .await
    .unwrap();
    // Dead pooled connections are dropped on first use; within a few requests all is well.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = app.get("/stats").await.status().as_u16();
        if status == 200 {
            break;
        }
        assert_eq!(status, 503);
        assert!(Instant::now() < deadline, "not serving again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for _ in 0..8 {
        assert_eq!(
            json(app.get("/stats").await).await,
            (200, json!({"users": 3, "messages": 100}))
        );
    }
    drop(app);
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_pool_is_503_and_the_busy_request_still_completes() {
    let app = spawn_app_on(crate::helpers::admin_url(), quick_pool(1)).await;
    let mut sql = app.sql().await;
    let lock = sql.transaction().await.unwrap();
    lock.batch_execute(r#"LOCK TABLE "user" IN ACCESS EXCLUSIVE MODE"#)
        .await
        .unwrap();
    // Holds the only pooled connection, waiting for the lock.
    let busy = tokio::spawn({
        let url = app.url("/stats");
        async move { reqwest::get(url).await.unwrap() }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    assert_unavailable(app.get("/users/2").await).await;
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "waited for the pool first"
    );
    lock.rollback().await.unwrap();
    assert_eq!(
        json(busy.await.unwrap()).await,
        (200, json!({"users": 3, "messages": 100}))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_stuck_behind_a_lock_is_503_at_the_deadline_and_never_lands() {
    let options = PoolOptions {
        statement_timeout: Some(Duration::from_millis(300)),
        ..quick_pool(2)
    };
    let service = ServiceOptions {
        request_timeout: Duration::from_millis(300),
        ..ServiceOptions::default()
    };
    let app = spawn_app_with(crate::helpers::admin_url(), options, service).await;
    let mut sql = app.sql().await;
    let lock = sql.transaction().await.unwrap();
    lock.batch_execute(r#"LOCK TABLE "user" IN ACCESS EXCLUSIVE MODE"#)
        .await
        .unwrap();
    let started = Instant::now();
    assert_unavailable(app.post_json("/users", &json!({"name": "Zoe"})).await).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // The server cancels the statement at its timeout: nothing lands once the lock is gone.
    tokio::time::sleep(Duration::from_millis(300)).await;
    lock.rollback().await.unwrap();
    let stats = json(app.get("/stats").await).await;
    assert_eq!(
        stats,
        (200, json!({"users": 3, "messages": 100})),
        "Zoe never landed"
    );
    let (status, zoe) = json(app.post_json("/users", &json!({"name": "Zoe"})).await).await;
    assert_eq!(
        (status, zoe["name"].as_str()),
        (201, Some("Zoe")),
        "served again at once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_under_load_gives_only_200s_and_503s() {
    let server = own_server().await;
    let app = spawn_app_on(&server.url(), quick_pool(8)).await;
    let stop_at = Instant::now() + Duration::from_secs(3);
    let clients: Vec<_> = (0..16)
        .map(|_| {
            let (http, url) = (app.http.clone(), app.url("/messages?user_name=Eli&limit=5"));
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                while Instant::now() < stop_at {
                    statuses.push(
                        http.get(&url)
                            .send()
                            .await
                            .expect("a response")
                            .status()
                            .as_u16(),
                    );
                }
                statuses
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let server = tokio::task::spawn_blocking(move || {
        let mut server = server;
        server.restart().expect("restart");
        server
    })
    .await
    .unwrap();
    let mut seen = std::collections::BTreeMap::new();
    for client in clients {
        for status in client.await.expect("no client panicked") {
            *seen.entry(status).or_insert(0) += 1;
        }
    }
    eprintln!("statuses around the restart: {seen:?}");
    assert!(
        seen.keys().all(|status| [200, 503].contains(status)),
        "{seen:?}"
    );
    assert!(seen.get(&200).is_some_and(|&ok| ok > 100), "{seen:?}");
    let page = json(app.get("/messages?user_name=Eli&limit=5").await).await;
    assert_eq!(page.0, 200);
    drop(app);
    drop(server);
}

#[tokio::test]
async fn a_plain_seeded_service_never_sees_a_500() {
    let app = spawn_app().await;
    for path in [
        "/stats",
        "/users",
        "/users/1",
        "/messages?user_name=Paul&after_id=90",
    ] {
        assert_eq!(app.get(path).await.status().as_u16(), 200, "{path}");
    }
}
