//! `Idempotency-Key` on both POSTs: a retry gets the first answer and writes nothing, even
//! sixteen at once; another body under the same key is 422; a failed write stores nothing; a
//! key older than 24 hours writes again.

use serde_json::{Value, json};

use crate::helpers::{TestApp, json, spawn_app};

async fn post(app: &TestApp, path: &str, key: &str, body: &Value) -> reqwest::Response {
    let request = app.http.post(app.url(path)).json(body);
    request.header("Idempotency-Key", key).send().await.unwrap()
}

async fn count(app: &TestApp, table: &str) -> i64 {
    let sql = app.sql().await;
    let row = sql
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await
        .unwrap();
    row.get(0)
}

fn replayed(response: &reqwest::Response) -> bool {
    response.headers().get("idempotency-replayed").is_some()
}

#[tokio::test]
async fn a_retry_gets_the_first_answer_and_writes_nothing() {
    let app = spawn_app().await;
    let first = post(&app, "/users", "user-zed-1", &json!({ "name": "Zed" })).await;
    assert!(!replayed(&first));
    let first = json(first).await;
    assert_eq!(first.0, 201);
    for _ in 0..3 {
        let again = post(&app, "/users", "user-zed-1", &json!({ "name": "Zed" })).await;
        assert!(replayed(&again));
        assert_eq!(json(again).await, first);
    }
    assert_eq!(count(&app, "\"user\"").await, 4);
    let message = json!({ "content": "one more bottle" });
    let sent = json(post(&app, "/users/2/messages", "msg-1", &message).await).await;
    let again = json(post(&app, "/users/2/messages", "msg-1", &message).await).await;
    assert_eq!((sent.0, &sent), (201, &again));
    assert_eq!(count(&app, "message").await, 101);
}

#[tokio::test]
async fn the_same_key_for_another_request_is_422_and_writes_nothing() {
    let app = spawn_app().await;
    assert_eq!(
        post(&app, "/users", "k", &json!({ "name": "Zed" }))
            .await
            .status(),
        201
    );
    let other_body = json(post(&app, "/users", "k", &json!({ "name": "Ann" })).await).await;
    assert_eq!(other_body.0, 422);
    assert_eq!(
        other_body.1,
        json!({ "error": "this Idempotency-Key was used for a different request" })
    );
    let other_path = post(&app, "/users/1/messages", "k", &json!({ "content": "Zed" })).await;
    assert_eq!(other_path.status(), 422);
    assert_eq!(
        (count(&app, "\"user\"").await, count(&app, "message").await),
        (4, 100)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_at_once_with_one_key_write_once_and_all_get_the_same_answer() {
    let app = spawn_app().await;
    let sends = (0..16).map(|_| async {
        json(post(&app, "/users", "burst", &json!({ "name": "Burst" })).await).await
    });
    let answers = futures::future::join_all(sends).await;
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
    assert_eq!(answers[0].0, 201);
    assert_eq!(count(&app, "\"user\" WHERE name = 'Burst'").await, 1);
}

#[tokio::test]
async fn a_failed_write_stores_nothing_and_bad_keys_are_400() {
    let app = spawn_app().await;
    let message = json!({ "content": "hello" });
    for _ in 0..2 {
        let missing = post(&app, "/users/999/messages", "to-nobody", &message).await;
        assert_eq!(missing.status(), 404, "not stored, so tried again");
    }
    assert_eq!(count(&app, "idempotency_key").await, 0);
    for bad in ["with space", &"k".repeat(256), "naïve"] {
        let request = app
            .http
            .post(app.url("/users"))
            .json(&json!({ "name": "Zed" }));
        let response = request.header("Idempotency-Key", bad).send().await.unwrap();
        assert_eq!(response.status(), 400, "{bad:?}");
    }
    assert_eq!(count(&app, "\"user\"").await, 3);
}

#[tokio::test]
async fn a_key_older_than_a_day_is_forgotten() {
    let app = spawn_app().await;
    let first = json(post(&app, "/users", "old", &json!({ "name": "Zed" })).await).await;
    let sql = app.sql().await;
    sql.batch_execute("UPDATE idempotency_key SET created_at = now() - interval '25 hours'")
        .await
        .unwrap();
    let later = json(post(&app, "/users", "old", &json!({ "name": "Zed" })).await).await;
    assert_eq!(later.0, 201);
    assert_ne!(later.1["id"], first.1["id"], "written again");
    assert_eq!(count(&app, "idempotency_key").await, 1);
}
