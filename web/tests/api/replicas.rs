//! The service with a real streaming replica: GETs read there, a GET after a POST sees what
//! was written, a replica that stops costs no request, and with a multi-host URL the POSTs
//! after a failover land on the promoted standby. Whether a GET was answered by the replica
//! shows by pausing its replay and writing on the primary behind the service's back.

use std::time::{Duration, Instant};

use bottles::PoolOptions;
use bottles_web::ServiceOptions;
use serde_json::json;
use throwaway_pg::LocalServer;

use crate::helpers::{TestApp, json, spawn_app_with, spawn_app_with_replicas};

const REPLAY_TIMEOUT: Duration = Duration::from_secs(20);

async fn primary_and_standby() -> (LocalServer, LocalServer) {
    let servers = tokio::task::spawn_blocking(LocalServer::primary_and_standby);
    servers.await.unwrap().expect("a primary and its standby")
}

async fn app_with_a_replica() -> (LocalServer, LocalServer, TestApp) {
    let (primary, standby) = primary_and_standby().await;
    let replicas = [standby.url()];
    let replicas: Vec<&str> = replicas.iter().map(String::as_str).collect();
    let app = spawn_app_with_replicas(
        &primary.url(),
        &replicas,
        PoolOptions::default(),
        ServiceOptions::default(),
    )
    .await;
    (primary, standby, app)
}

async fn users_counted(app: &TestApp) -> i64 {
    let (status, stats) = json(app.get("/stats").await).await;
    assert_eq!(status, 200, "{stats}");
    stats["users"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gets_read_on_the_replica_and_see_the_posts_before_them() {
    let (primary, standby, app) = app_with_a_replica().await;
    tokio::task::block_in_place(|| {
        standby
            .wait_for_replay_of(&primary, REPLAY_TIMEOUT)
            .unwrap();
        standby.pause_replay().unwrap();
    });
    let (status, zoe) = json(app.post_json("/users", &json!({"name": "Zoe"})).await).await;
    assert_eq!((status, zoe["id"].as_i64()), (201, Some(4)));
    let (status, message) = json(
        app.post_json("/users/4/messages", &json!({"content": "hello"}))
            .await,
    )
    .await;
    assert_eq!(status, 201, "{message}");
    // Replay is paused, so these come from the primary.
    let (status, user) = json(app.get("/users/4").await).await;
    assert_eq!(
        (status, user["messages"][0]["content"].as_str()),
        (200, Some("hello"))
    );
    let (_, page) = json(app.get("/messages?user_name=Zoe").await).await;
    assert_eq!(page["messages"].as_array().unwrap().len(), 1);

    let sql = app.sql().await;
    let outsider = r#"INSERT INTO "user" (name) VALUES ('Outsider')"#;
    sql.batch_execute(outsider).await.unwrap();
    tokio::task::block_in_place(|| {
        standby.resume_replay().unwrap();
        standby
            .wait_for_replay_of(&primary, REPLAY_TIMEOUT)
            .unwrap();
        standby.pause_replay().unwrap();
    });
    sql.batch_execute(outsider).await.unwrap();
    // The primary holds 6 users; the paused replica, which answers, 5.
    assert_eq!(users_counted(&app).await, 5);

    // /metrics shows the replica up, and behind by the insert it has not replayed.
    let metrics = crate::metrics::scrape(&app).await;
    let pool = standby.url().replace("postgres://postgres@", "");
    let pool = format!("{pool}/{}", app.db_url.rsplit('/').next().unwrap());
    let pool = pool.replace("/postgres/", "/");
    let replica = |name: &str, extra: &[(&str, &str)]| {
        let mut labels = vec![("db_client_connection_pool_name", pool.as_str())];
        labels.extend_from_slice(extra);
        crate::metrics::sample(&metrics, name, &labels)
    };
    assert_eq!(
        replica("bottles_db_replica_state", &[("state", "up")]),
        Some(1.0),
        "{pool}\n{metrics}"
    );
    assert_eq!(
        replica("bottles_db_replica_state", &[("state", "down")]),
        Some(0.0)
    );
    let lag = replica("bottles_db_replica_replay_lag_bytes", &[]).expect("a replay lag");
    assert!(
        lag > 0.0,
        "replay is paused behind an insert, yet the lag is {lag}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_stopped_under_load_costs_no_request() {
    let (primary, mut standby, app) = app_with_a_replica().await;
    tokio::task::block_in_place(|| standby.wait_for_replay_of(&primary, REPLAY_TIMEOUT)).unwrap();
    let stop_at = Instant::now() + Duration::from_secs(3);
    let paths = [
        "/messages?user_name=Eli&limit=5",
        "/users/2",
        "/users",
        "/stats",
    ];
    let clients: Vec<_> = (0..8)
        .map(|i| {
            let (http, url) = (app.http.clone(), app.url(paths[i % paths.len()]));
            tokio::spawn(async move {
                let mut answered = 0;
                while Instant::now() < stop_at {
                    let response = http.get(&url).send().await.unwrap();
                    let status = response.status().as_u16();
                    let body = response.text().await.unwrap();
                    assert_eq!(status, 200, "{url}: {body}");
                    assert!(
                        body.contains("bottles of beer") || body.contains("users"),
                        "{url}: {body}"
                    );
                    answered += 1;
                }
                answered
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    tokio::task::block_in_place(|| standby.stop_for_now()).expect("stop the standby");
    let mut answered = 0;
    for client in clients {
        answered += client.await.unwrap();
    }
    assert!(answered > 8, "only {answered} requests answered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_failover_posts_land_on_the_promoted_standby() {
    let (mut primary, standby) = primary_and_standby().await;
    let url = LocalServer::read_write_url(&[&primary, &standby]);
    let options = PoolOptions {
        connect_timeout: Duration::from_secs(2),
        ..PoolOptions::default()
    };
    let app = spawn_app_with(&url, options, ServiceOptions::default()).await;
    let (status, zoe) = json(app.post_json("/users", &json!({"name": "Zoe"})).await).await;
    assert_eq!((status, zoe["id"].as_i64()), (201, Some(4)));

    tokio::task::block_in_place(|| {
        standby
            .wait_for_replay_of(&primary, REPLAY_TIMEOUT)
            .unwrap();
        primary.stop_for_now().expect("stop the primary");
        standby.promote().expect("promote the standby");
    });
    // Until the pool reaches the promoted standby, 503s; never anything else.
    let deadline = Instant::now() + REPLAY_TIMEOUT;
    loop {
        let message = json!({"content": "after failover"});
        let (status, body) = json(app.post_json("/users/4/messages", &message).await).await;
        match status {
            201 => break,
            503 => assert!(
                Instant::now() < deadline,
                "still 503 after {REPLAY_TIMEOUT:?}"
            ),
            _ => panic!("{status}: {body}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, user) = json(app.get("/users/4").await).await;
    assert_eq!(status, 200, "{user}");
    assert_eq!(user["name"], "Zoe");
    assert_eq!(user["messages"].as_array().unwrap().len(), 1, "{user}");
    let (_, stats) = json(app.get("/stats").await).await;
    assert_eq!(
        (stats["users"].as_i64(), stats["messages"].as_i64()),
        (Some(4), Some(101))
    );
}
