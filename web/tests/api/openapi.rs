//! `/openapi.json` against the service itself: every route of the router is in the document
//! (and nothing else answers on its paths), and every status documented for an operation is
//! one a real request provokes, with a body of the documented schema and the documented
//! headers; no request of the table gets a status the document leaves out.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use bottles::PoolOptions;
use bottles_web::{ServiceOptions, Tokens};
use reqwest::Method;
use serde_json::{Value, json};
use throwaway_pg::LocalServer;

use crate::helpers::{TestApp, spawn_app_with};
use crate::schema::conforms;

const WRITE: &str = "openapi-write-token";
const READ: &str = "openapi-read-token";

/// How a case authenticates.
#[derive(Clone, Copy)]
enum Auth {
    Token,
    Nothing,
}

/// One request: method, path as documented, path as sent, body (raw, with its content type).
struct Case {
    method: Method,
    route: &'static str,
    path: String,
    auth: Auth,
    body: Option<(&'static str, Vec<u8>)>,
}

fn get(route: &'static str, path: &str, auth: Auth) -> Case {
    Case {
        method: Method::GET,
        route,
        path: path.to_string(),
        auth,
        body: None,
    }
}

fn post(
    route: &'static str,
    path: &str,
    auth: Auth,
    content_type: &'static str,
    body: &str,
) -> Case {
    Case {
        method: Method::POST,
        route,
        path: path.to_string(),
        auth,
        body: Some((content_type, body.as_bytes().to_vec())),
    }
}

/// A request for every status each operation can answer with while the database is up.
fn cases_while_up() -> Vec<(Case, u16)> {
    use Auth::{Nothing, Token};
    let json = "application/json";
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(70 * 1024));
    vec![
        (get("/stats", "/stats", Token), 200),
        (get("/stats", "/stats", Nothing), 401),
        (get("/users", "/users", Token), 200),
        (get("/users", "/users?name=Eli", Token), 200),
        (get("/users", "/users?nmae=Eli", Token), 400),
        (get("/users", "/users", Nothing), 401),
        (get("/users/{id}", "/users/2", Token), 200),
        (get("/users/{id}", "/users/abc", Token), 400),
        (get("/users/{id}", "/users/2", Nothing), 401),
        (get("/users/{id}", "/users/999", Token), 404),
        (
            get("/messages", "/messages?user_name=Eli&limit=2", Token),
            200,
        ),
        (get("/messages", "/messages?limit=2", Token), 400),
        (get("/messages", "/messages?user_name=Eli", Nothing), 401),
        (get("/health", "/health", Nothing), 200),
        (
            post("/users", "/users", Token, json, r#"{"name": "Zoe"}"#),
            201,
        ),
        (post("/users", "/users", Token, json, r#"{"name": 1}"#), 400),
        (
            post("/users", "/users", Nothing, json, r#"{"name": "Zoe"}"#),
            401,
        ),
        (post("/users", "/users", Token, json, &big), 413),
        (post("/users", "/users", Token, "text/plain", "Zoe"), 415),
        (
            post("/users", "/users", Token, json, r#"{"name": " "}"#),
            422,
        ),
        (
            post(
                "/users/{id}/messages",
                "/users/1/messages",
                Token,
                json,
                r#"{"content": "hi"}"#,
            ),
            201,
        ),
        (
            post(
                "/users/{id}/messages",
                "/users/x/messages",
                Token,
                json,
                r#"{"content": "hi"}"#,
            ),
            400,
        ),
        (
            post(
                "/users/{id}/messages",
                "/users/1/messages",
                Nothing,
                json,
                r#"{"content": "hi"}"#,
            ),
            401,
        ),
        (
            post(
                "/users/{id}/messages",
                "/users/999/messages",
                Token,
                json,
                r#"{"content": "hi"}"#,
            ),
            404,
        ),
        (
            post(
                "/users/{id}/messages",
                "/users/1/messages",
                Token,
                json,
                &big.replace("name", "content"),
            ),
            413,
        ),
        (
            post(
                "/users/{id}/messages",
                "/users/1/messages",
                Token,
                "text/plain",
                "hi",
            ),
            415,
        ),
        (
            post(
                "/users/{id}/messages",
                "/users/1/messages",
                Token,
                json,
                r#"{"content": ""}"#,
            ),
            422,
        ),
    ]
}

/// The same operations with the database stopped.
fn cases_while_down() -> Vec<(Case, u16)> {
    use Auth::{Nothing, Token};
    let json = "application/json";
    vec![
        (get("/stats", "/stats", Token), 503),
        (get("/users", "/users", Token), 503),
        (get("/users/{id}", "/users/2", Token), 503),
        (get("/messages", "/messages?user_name=Eli", Token), 503),
        (get("/health", "/health", Nothing), 503),
        (
            post("/users", "/users", Token, json, r#"{"name": "Zoe"}"#),
            503,
        ),
        (
            post(
                "/users/{id}/messages",
                "/users/1/messages",
                Token,
                json,
                r#"{"content": "hi"}"#,
            ),
            503,
        ),
    ]
}

async fn send(app: &TestApp, case: &Case) -> reqwest::Response {
    let mut request = app.http.request(case.method.clone(), app.url(&case.path));
    if let Auth::Token = case.auth {
        let token = if case.method == Method::GET {
            READ
        } else {
            WRITE
        };
        request = request.bearer_auth(token);
    }
    if let Some((content_type, body)) = &case.body {
        request = request
            .header("content-type", *content_type)
            .body(body.clone());
    }
    request.send().await.expect("a response")
}

/// The operation documented for `method` on `route`.
fn operation<'a>(spec: &'a Value, method: &Method, route: &str) -> &'a Value {
    let method = method.as_str().to_lowercase();
    let found = &spec["paths"][route][&method];
    assert!(found.is_object(), "{method} {route} is not documented");
    found
}

/// Sends each case and checks the answer against the document; returns what was provoked.
async fn run(app: &TestApp, spec: &Value, cases: &[(Case, u16)]) -> BTreeSet<(String, u16)> {
    let mut provoked = BTreeSet::new();
    for (case, expected) in cases {
        let what = format!("{} {} ({})", case.method, case.path, case.route);
        let response = send(app, case).await;
        let status = response.status().as_u16();
        assert_eq!(status, *expected, "{what}");
        let documented =
            &operation(spec, &case.method, case.route)["responses"][status.to_string()];
        assert!(documented.is_object(), "{what}: {status} is not documented");
        for (header, _) in documented["headers"].as_object().into_iter().flatten() {
            if header != "Idempotency-Replayed" {
                assert!(
                    response.headers().contains_key(header.as_str()),
                    "{what}: no {header}"
                );
            }
        }
        let schema = &documented["content"]["application/json"]["schema"];
        let body: Value = response.json().await.expect("a JSON body");
        conforms(spec, schema, &body, &what);
        provoked.insert((format!("{} {}", case.method, case.route), status));
    }
    provoked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_is_documented_and_every_documented_status_is_provoked() {
    let mut server = tokio::task::spawn_blocking(LocalServer::start)
        .await
        .unwrap()
        .expect("a server of this test's own");
    let pool = PoolOptions {
        connect_timeout: Duration::from_secs(1),
        wait_timeout: Duration::from_millis(500),
        ..bottles::pool_options()
    };
    let service = ServiceOptions {
        tokens: Tokens::new(&[WRITE], &[READ]),
        ..ServiceOptions::default()
    };
    let app = spawn_app_with(&server.url(), pool, service).await;
    let spec: Value = app.get("/openapi.json").await.json().await.unwrap();
    assert!(
        spec["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        spec["openapi"]
    );

    // The document's operations are the router's: `bottles_web::api` builds both.
    let (_, built) = bottles_web::api();
    assert_eq!(serde_json::to_value(&built).unwrap(), spec);
    let mut documented = BTreeMap::new();
    for (route, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let statuses: BTreeSet<u16> = op["responses"]
                .as_object()
                .unwrap()
                .keys()
                .map(|status| status.parse().unwrap())
                .collect();
            documented.insert(format!("{} {route}", method.to_uppercase()), statuses);
        }
    }
    let operations: Vec<&str> = documented.keys().map(String::as_str).collect();
    assert_eq!(
        operations,
        [
            "GET /health",
            "GET /messages",
            "GET /stats",
            "GET /users",
            "GET /users/{id}",
            "POST /users",
            "POST /users/{id}/messages",
        ]
    );
    // No method the document leaves out answers on its paths.
    for (route, path) in [
        ("/health", "/health"),
        ("/messages", "/messages"),
        ("/stats", "/stats"),
        ("/users", "/users"),
        ("/users/{id}", "/users/1"),
        ("/users/{id}/messages", "/users/1/messages"),
    ] {
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ] {
            if documented.contains_key(&format!("{method} {route}")) {
                continue;
            }
            let response = app
                .http
                .request(method.clone(), app.url(path))
                .bearer_auth(WRITE)
                .send();
            assert_eq!(
                response.await.unwrap().status().as_u16(),
                405,
                "{method} {path}"
            );
        }
    }

    // The bearer scheme, named by every POST (required) and every GET but /health (optional).
    assert_eq!(
        spec["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for (route, method, security) in [
        ("/users", "post", json!([{"bearer": []}])),
        ("/users/{id}/messages", "post", json!([{"bearer": []}])),
        ("/stats", "get", json!([{}, {"bearer": []}])),
    ] {
        let op = &spec["paths"][route][method];
        assert_eq!(op["security"], security, "{method} {route}");
    }
    assert!(spec["paths"]["/health"]["get"]["security"].is_null());
    let header = |route: &str| {
        let params = spec["paths"][route]["post"]["parameters"]
            .as_array()
            .unwrap();
        params
            .iter()
            .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header")
    };
    assert!(header("/users") && header("/users/{id}/messages"));

    let mut provoked = run(&app, &spec, &cases_while_up()).await;
    server = tokio::task::spawn_blocking(move || {
        server.stop_for_now().expect("stop");
        server
    })
    .await
    .unwrap();
    provoked.extend(run(&app, &spec, &cases_while_down()).await);

    let mut wanted = BTreeSet::new();
    for (operation, statuses) in &documented {
        wanted.extend(statuses.iter().map(|status| (operation.clone(), *status)));
    }
    assert_eq!(
        provoked, wanted,
        "documented statuses no request provoked, or the reverse"
    );
    drop(app);
    drop(server);
}
