//! The notebook's exact answers through every endpoint, and writes that read back.

use serde_json::json;

use crate::helpers::{ids, json, spawn_app};

#[tokio::test]
async fn stats_count_three_users_and_a_hundred_messages() {
    let app = spawn_app().await;
    assert_eq!(
        json(app.get("/stats").await).await,
        (200, json!({"users": 3, "messages": 100}))
    );
}

#[tokio::test]
async fn all_users_stream_as_one_array_with_every_message_in_order() {
    let app = spawn_app().await;
    let response = app.get("/users").await;
    assert_eq!(response.headers()["content-type"], "application/json");
    assert!(
        response.headers().get("content-length").is_none(),
        "streamed (chunked)"
    );
    let (status, users) = json(response).await;
    assert_eq!(status, 200);
    let shape: Vec<(i64, &str, usize)> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["id"].as_i64().unwrap(),
                u["name"].as_str().unwrap(),
                u["messages"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(shape, [(1, "Nick", 34), (2, "Eli", 33), (3, "Paul", 33)]);
    assert_eq!(ids(&users[0]["messages"])[..5], [1, 4, 7, 10, 13]);
    assert_eq!(
        users[1]["messages"][0],
        json!({"id": 2, "content": "98 bottles of beer on the wall...", "user_id": 2})
    );
}

#[tokio::test]
async fn users_by_name_is_the_chained_filter_with_its_select_in_load() {
    let app = spawn_app().await;
    let (status, elis) = json(app.get("/users?name=Eli").await).await;
    assert_eq!(status, 200);
    assert_eq!(elis.as_array().unwrap().len(), 1);
    assert_eq!(
        (elis[0]["id"].as_i64(), elis[0]["name"].as_str()),
        (Some(2), Some("Eli"))
    );
    assert_eq!(ids(&elis[0]["messages"])[..5], [2, 5, 8, 11, 14]);
    assert_eq!(elis[0]["messages"].as_array().unwrap().len(), 33);
    for nobody in ["Nobody", "eli", "", "Robert'); DROP TABLE \"user\";--"] {
        let (status, found) = json(
            app.http
                .get(app.url("/users"))
                .query(&[("name", nobody)])
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!((status, found), (200, json!([])), "{nobody:?}");
    }
}

#[tokio::test]
async fn one_user_by_id_and_an_unknown_id_is_404() {
    let app = spawn_app().await;
    let (status, paul) = json(app.get("/users/3").await).await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            paul["name"].as_str(),
            paul["messages"].as_array().unwrap().len()
        ),
        (Some("Paul"), 33)
    );
    for missing in ["/users/4", "/users/0", "/users/-7", "/users/2147483647"] {
        let (status, body) = json(app.get(missing).await).await;
        assert_eq!(status, 404, "{missing}");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .starts_with("no user with id"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn messages_come_in_keyset_pages_of_message_afrom_user() {
    let app = spawn_app().await;
    let (status, page) = json(app.get("/messages?user_name=Eli&limit=5&after_id=14").await).await;
    assert_eq!(status, 200);
    assert_eq!(ids(&page["messages"]), [17, 20, 23, 26, 29]);
    assert_eq!(
        page["messages"][0]["content"],
        "83 bottles of beer on the wall..."
    );
    let (_, all) = json(app.get("/messages?user_name=Eli").await).await;
    assert_eq!(
        all["messages"].as_array().unwrap().len(),
        33,
        "the default page holds all 33"
    );
    // Following the pages from the start gives every message once, in order.
    let (mut after, mut seen) = (0, Vec::new());
    loop {
        let (_, page) = json(
            app.get(&format!(
                "/messages?user_name=Nick&limit=10&after_id={after}"
            ))
            .await,
        )
        .await;
        let page = ids(&page["messages"]);
        let Some(&last) = page.last() else { break };
        seen.extend(page);
        after = last;
    }
    assert_eq!(seen, (0..34).map(|i| 1 + 3 * i).collect::<Vec<i64>>());
    let (_, none) = json(app.get("/messages?user_name=Zed").await).await;
    assert_eq!(none, json!({"messages": []}));
}

#[tokio::test]
async fn a_new_user_and_message_are_created_and_read_back() {
    let app = spawn_app().await;
    let (status, zoe) = json(app.post_json("/users", &json!({"name": "Zoë 🍺"})).await).await;
    assert_eq!(
        (status, zoe.clone()),
        (201, json!({"id": 4, "name": "Zoë 🍺", "messages": []}))
    );
    let (status, message) = json(
        app.post_json("/users/4/messages", &json!({"content": "one more"}))
            .await,
    )
    .await;
    assert_eq!(
        (status, message.clone()),
        (201, json!({"id": 101, "content": "one more", "user_id": 4}))
    );
    let (_, read) = json(app.get("/users/4").await).await;
    assert_eq!(read["messages"], json!([message]));
    assert_eq!(
        json(app.get("/stats").await).await.1,
        json!({"users": 4, "messages": 101})
    );
    let (_, page) = json(
        app.http
            .get(app.url("/messages"))
            .query(&[("user_name", "Zoë 🍺")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ids(&page["messages"]), [101]);
}

#[tokio::test]
async fn health_says_ok_while_the_database_answers() {
    let app = spawn_app().await;
    assert_eq!(
        json(app.get("/health").await).await,
        (200, json!({"status": "ok"}))
    );
}
