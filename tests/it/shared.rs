//! Shared connections: many tasks' statements pipelined over a few connections, opened again
//! after the server restarts.

use std::time::Duration;

use bottles::codegen::queries::messages::messages_from_user;
use bottles::{Database, Error, PoolOptions};
use throwaway_pg::LocalServer;

use crate::helpers::{TestDb, reset_and_seed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_tasks_share_two_connections() {
    let test = TestDb::seeded().await;
    let options = PoolOptions {
        shared: 2,
        ..PoolOptions::default()
    };
    let db = std::sync::Arc::new(Database::open_with(Some(&test.url), options).await.unwrap());
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move {
                let client = db.shared_client().await?;
                let mut total = 0;
                for _ in 0..20 {
                    total += messages_from_user()
                        .bind(&client, &"Eli")
                        .all()
                        .await?
                        .len();
                }
                Ok::<_, Error>(total)
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), 20 * 33);
    }
    // The pool's one connection (opened to check the settings) and the two shared ones.
    let backends: i64 = test
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(backends <= 4, "{backends} connections for 64 tasks");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_connection_is_opened_again_after_a_restart() {
    let mut server = tokio::task::spawn_blocking(LocalServer::start)
        .await
        .unwrap()
        .unwrap();
    let options = PoolOptions {
        shared: 1,
        connect_timeout: Duration::from_secs(2),
        ..PoolOptions::default()
    };
    let db = Database::open_with(Some(&server.url()), options)
        .await
        .unwrap();
    reset_and_seed(&db).await;
    let eli = |client: bottles::SharedClient| async move {
        let messages = messages_from_user().bind(&client, &"Eli").all().await;
        messages.map(|m| m.len()).map_err(Error::from)
    };
    assert_eq!(eli(db.shared_client().await.unwrap()).await.unwrap(), 33);
    let mut server = tokio::task::spawn_blocking(move || {
        server.restart().unwrap();
        server
    })
    .await
    .unwrap();
    // The old connection is gone: its next statement fails, in one line; the one after gets a
    // new connection.
    let first = eli(db.shared_client().await.unwrap()).await;
    if let Err(err) = &first {
        assert!(!err.to_string().contains('\n'), "{err}");
    }
    assert_eq!(eli(db.shared_client().await.unwrap()).await.unwrap(), 33);
    server = tokio::task::spawn_blocking(move || {
        server.stop_for_now().unwrap();
        server
    })
    .await
    .unwrap();
    let down = async { eli(db.shared_client().await?).await };
    let err = down.await.expect_err("the server is down");
    assert!(
        err.to_string()
            .starts_with("could not connect to postgres://postgres@127.0.0.1:")
            || err.to_string().contains("failed"),
        "{err}"
    );
    drop(db);
    drop(server);
}
