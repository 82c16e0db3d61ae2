//! Bad input: a clear `{"error": …}` with a 4xx status, never a 5xx, never SQL, and the data
//! as it was.

use serde_json::json;

use crate::helpers::{TestApp, json, spawn_app};

/// Checks a failure: its status, that the body is `{"error": "<one line>"}` saying `says`,
/// and that it gives away nothing of the SQL or the server.
async fn assert_error(response: reqwest::Response, status: u16, says: &str) {
    let (got, body) = json(response).await;
    let error = body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error field: {body}"));
    assert_eq!(
        (got, body.as_object().unwrap().len()),
        (status, 1),
        "{body}"
    );
    assert!(error.contains(says), "{says:?} in {error:?}");
    for leak in [
        "SELECT",
        "INSERT",
        "SQLSTATE",
        "panicked",
        "postgres://",
        "\n",
    ] {
        assert!(!error.contains(leak), "{leak:?} in {error:?}");
    }
}

async fn post_raw(
    app: &TestApp,
    path: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    let request = app
        .http
        .post(app.url(path))
        .header("content-type", content_type)
        .body(body);
    request.send().await.unwrap()
}

#[tokio::test]
async fn malformed_or_mistyped_json_is_400_and_a_body_that_is_not_json_415() {
    let app = spawn_app().await;
    assert_error(
        post_raw(&app, "/users", "application/json", "{\"name\":").await,
        400,
        "Failed to parse the request body as JSON",
    )
    .await;
    assert_error(
        post_raw(&app, "/users", "application/json", "[1,2]").await,
        400,
        "invalid type",
    )
    .await;
    assert_error(
        app.post_json("/users", &json!({"name": 5})).await,
        400,
        "invalid type: integer `5`, expected a string",
    )
    .await;
    assert_error(
        app.post_json("/users", &json!({})).await,
        400,
        "missing field `name`",
    )
    .await;
    assert_error(
        app.post_json("/users", &json!({"name": "x", "admin": true}))
            .await,
        400,
        "unknown field `admin`",
    )
    .await;
    assert_error(
        app.post_json("/users/1/messages", &json!({"content": null}))
            .await,
        400,
        "invalid type: null",
    )
    .await;
    assert_error(
        post_raw(&app, "/users", "text/plain", "{\"name\":\"x\"}").await,
        415,
        "Content-Type: application/json",
    )
    .await;
    assert_error(
        app.http.post(app.url("/users")).send().await.unwrap(),
        415,
        "Content-Type",
    )
    .await;
}

#[tokio::test]
async fn a_body_over_64_kb_is_413() {
    let app = spawn_app().await;
    let big = json!({"content": "a".repeat(70 * 1024)});
    assert_error(
        app.post_json("/users/1/messages", &big).await,
        413,
        "the request body is over 64 KB",
    )
    .await;
}

#[tokio::test]
async fn empty_oversized_or_nul_names_and_contents_are_422() {
    let app = spawn_app().await;
    for (path, field, value, says) in [
        ("/users", "name", String::new(), "name must not be empty"),
        (
            "/users",
            "name",
            "   ".to_string(),
            "name must not be empty",
        ),
        (
            "/users",
            "name",
            "n".repeat(201),
            "name must be at most 200 characters",
        ),
        (
            "/users",
            "name",
            "a\0b".to_string(),
            "name must not contain NUL characters",
        ),
        (
            "/users/1/messages",
            "content",
            String::new(),
            "content must not be empty",
        ),
        (
            "/users/1/messages",
            "content",
            "c".repeat(10_001),
            "content must be at most 10000 characters",
        ),
        (
            "/users/1/messages",
            "content",
            "\0".to_string(),
            "content must not contain NUL characters",
        ),
    ] {
        assert_error(
            app.post_json(path, &json!({ field: value })).await,
            422,
            says,
        )
        .await;
    }
    assert_eq!(
        json(app.get("/stats").await).await.1,
        json!({"users": 3, "messages": 100})
    );
}

#[tokio::test]
async fn bad_ids_and_query_parameters_are_400() {
    let app = spawn_app().await;
    for (path, says) in [
        ("/users/abc", "invalid id \"abc\""),
        ("/users/99999999999", "invalid id \"99999999999\""),
        ("/users/1.5", "invalid id"),
        (
            "/messages?user_name=Eli&limit=-1",
            "limit must be from 1 to 1000",
        ),
        (
            "/messages?user_name=Eli&limit=0",
            "limit must be from 1 to 1000",
        ),
        (
            "/messages?user_name=Eli&limit=1001",
            "limit must be from 1 to 1000",
        ),
        ("/messages?user_name=Eli&limit=ten", "limit: invalid digit"),
        (
            "/messages?user_name=Eli&after_id=abc",
            "after_id: invalid digit",
        ),
        (
            "/messages?user_name=Eli&after_id=99999999999",
            "after_id: number too large",
        ),
        ("/messages?limit=5", "user_name is required"),
        (
            "/messages?user_name=a%00b",
            "user_name must not contain NUL characters",
        ),
        ("/users?name=%00", "name must not contain NUL characters"),
        ("/users?nmae=Eli", "unknown field `nmae`"),
    ] {
        assert_error(app.get(path).await, 400, says).await;
    }
    assert_error(
        app.post_json("/users/abc/messages", &json!({"content": "x"}))
            .await,
        400,
        "invalid id",
    )
    .await;
}

#[tokio::test]
async fn unknown_ids_and_routes_are_404_and_wrong_methods_405() {
    let app = spawn_app().await;
    assert_error(
        app.post_json("/users/999/messages", &json!({"content": "x"}))
            .await,
        404,
        "no user with id 999",
    )
    .await;
    assert_error(app.get("/users/999").await, 404, "no user with id 999").await;
    for path in ["/", "/nope", "/users/1/friends", "/stats/"] {
        assert_error(app.get(path).await, 404, "no such endpoint").await;
    }
    assert_error(
        app.http.delete(app.url("/users/1")).send().await.unwrap(),
        405,
        "method not allowed",
    )
    .await;
    assert_error(
        app.post_json("/stats", &json!({})).await,
        405,
        "method not allowed",
    )
    .await;
    assert_error(
        app.http.put(app.url("/messages")).send().await.unwrap(),
        405,
        "method not allowed",
    )
    .await;
    assert_eq!(
        json(app.get("/stats").await).await.1,
        json!({"users": 3, "messages": 100})
    );
}
