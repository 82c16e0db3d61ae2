//! The service through a real PgBouncer in transaction mode (4 server connections), with no
//! setting, under load: only successes, and exactly the notebook's data plus what was written.

use std::time::{Duration, Instant};

use bottles::PoolOptions;
use serde_json::json;
use throwaway_pg::{LocalBouncer, LocalServer};

use crate::helpers::{json, spawn_app_on};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_load_through_pgbouncer_every_answer_is_exact() {
    let (server, bouncer) = tokio::task::spawn_blocking(|| {
        let server = LocalServer::start().expect("a server");
        let bouncer = LocalBouncer::start(&server, "transaction", 4).expect("pgbouncer");
        (server, bouncer)
    })
    .await
    .unwrap();
    let app = spawn_app_on(&bouncer.url_for("postgres"), PoolOptions::default()).await;
    let stop_at = Instant::now() + Duration::from_secs(3);
    let clients: Vec<_> = (0..16)
        .map(|i| {
            let http = app.http.clone();
            let (reads, writes) = (
                app.url("/messages?user_name=Eli&limit=5"),
                app.url("/users/3/messages"),
            );
            let user = app.url("/users/2");
            tokio::spawn(async move {
                let (mut writes_made, mut statuses) = (0, Vec::new());
                while Instant::now() < stop_at {
                    let response = match i % 3 {
                        0 => http.get(&reads).send().await.unwrap(),
                        1 => http.get(&user).send().await.unwrap(),
                        _ => {
                            writes_made += 1;
                            http.post(&writes)
                                .json(&json!({"content": "one more"}))
                                .send()
                                .await
                                .unwrap()
                        }
                    };
                    let status = response.status().as_u16();
                    let body: serde_json::Value = response.json().await.unwrap();
                    match (i % 3, status) {
                        (0, 200) => assert_eq!(body["messages"][0]["id"], 2, "{body}"),
                        (1, 200) => assert_eq!(body["messages"].as_array().unwrap().len(), 33),
                        (_, 201) => assert_eq!(body["user_id"], 3, "{body}"),
                        _ => {}
                    }
                    statuses.push(status);
                }
                (writes_made, statuses)
            })
        })
        .collect();
    let (mut written, mut seen) = (0, std::collections::BTreeMap::new());
    for client in clients {
        let (writes_made, statuses) = client.await.expect("no client panicked");
        written += writes_made;
        for status in statuses {
            *seen.entry(status).or_insert(0) += 1;
        }
    }
    eprintln!("statuses through PgBouncer: {seen:?}");
    assert!(
        seen.keys().all(|status| [200, 201].contains(status)),
        "{seen:?}"
    );
    let (_, stats) = json(app.get("/stats").await).await;
    assert_eq!(stats, json!({"users": 3, "messages": 100 + written}));
    let metrics = crate::metrics::scrape(&app).await;
    let mode = |mode| {
        crate::metrics::sample(
            &metrics,
            "bottles_db_client_statement_mode",
            &[("mode", mode)],
        )
    };
    assert_eq!(
        (mode("unprepared"), mode("prepared")),
        (Some(1.0), Some(0.0)),
        "{metrics}"
    );
    drop(app);
    drop(bouncer);
    drop(server);
}
