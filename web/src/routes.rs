//! The endpoints, one per notebook cell, plus writes and a health check.
//!
//! | endpoint | does |
//! |---|---|
//! | `GET /stats` | `count_users`, `count_messages` |
//! | `GET /users` | every user with their messages, streamed (`users_with_messages`) |
//! | `GET /users?name=Eli` | the users of that name with their messages (select-in) |
//! | `GET /users/{id}` | one user with their messages; 404 if none |
//! | `GET /messages?user_name=Eli&limit=5&after_id=14` | a keyset page of `Message.afrom_user` |
//! | `POST /users` `{"name"}` | a new user: 201 |
//! | `POST /users/{id}/messages` `{"content"}` | a new message: 201; 404 if no such user |
//! | `GET /health` | 200 when the database answers, 503 when not |
//!
//! With replicas, every GET but `/health` reads on one ([`Database::read`]) and each write is
//! followed by [`Database::wrote`], so a GET after a POST sees what it wrote.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bottles::Database;
use bottles::codegen::queries::messages::{
    Message, count_messages, insert_message, messages_from_user_after,
};
use bottles::codegen::queries::tables::ping;
use bottles::codegen::queries::users::{count_users, insert_user};
use serde::{Deserialize, Serialize};
use tokio_postgres::error::SqlState;
use tower_http::catch_panic::CatchPanicLayer;

use crate::errors::ApiError;
use crate::extract::{BODY_LIMIT, Id, Json, Query, checked_text};
use crate::idempotent::{self, IdempotencyKey};
use crate::tokens::Tokens;

/// The longest user name and message content, in characters.
const NAME_LIMIT: usize = 200;
const CONTENT_LIMIT: usize = 10_000;
/// `GET /messages`: the page size when none is asked for, and the largest allowed.
const DEFAULT_PAGE: i64 = 100;
const MAX_PAGE: i64 = 1000;

type Db = State<Arc<Database>>;

/// How the service treats requests.
#[derive(Debug, Clone)]
pub struct ServiceOptions {
    /// A request still waiting on the database after this long is answered 503 (a streamed
    /// body counts until its first bytes).
    pub request_timeout: Duration,
    /// The bearer tokens writes (and, if any read token is given, reads) need; none by default.
    pub tokens: Tokens,
}

impl Default for ServiceOptions {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            tokens: Tokens::default(),
        }
    }
}

/// The service on `db`: the endpoints above, JSON errors for unknown routes and methods,
/// the body limit, the request timeout, the access log, and a 500 (not a dropped connection)
/// should a handler panic.
pub fn router(db: Arc<Database>, options: ServiceOptions) -> Router {
    Router::new()
        .route("/stats", get(stats))
        .route("/users", get(users).post(create_user))
        .route("/users/{id}", get(user))
        .route("/users/{id}/messages", post(create_message))
        .route("/messages", get(messages))
        .route("/health", get(health))
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed for this endpoint",
            )
        })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            options.request_timeout,
            deadline,
        ))
        .layer(axum::middleware::from_fn_with_state(
            options.tokens,
            crate::tokens::require,
        ))
        .layer(axum::middleware::from_fn(crate::access::log))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }))
        .with_state(db)
}

/// Answers 503 for a request that took longer than `limit`: on a shared connection a statement
/// stuck behind a lock holds up the ones after it, and clients should hear so in bounded time.
async fn deadline(
    State(limit): State<Duration>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::unavailable("the database did not answer in time; try again shortly")
            .into_response(),
    }
}

#[derive(Serialize)]
struct Stats {
    users: i64,
    messages: i64,
}

async fn stats(State(db): Db) -> Result<axum::Json<Stats>, ApiError> {
    // Counting scans whole tables: a pooled connection, so no one waits behind it.
    let stats = db.read(async |db| -> bottles::Result<Stats> {
        let client = db.client().await?;
        let (count_users, count_messages) = (count_users(), count_messages());
        let (users, messages) = tokio::try_join!(
            count_users.bind(&client).one(),
            count_messages.bind(&client).one()
        )?;
        Ok(Stats { users, messages })
    });
    Ok(axum::Json(stats.await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UsersQuery {
    name: Option<String>,
}

async fn users(State(db): Db, Query(query): Query<UsersQuery>) -> Result<Response, ApiError> {
    match query.name {
        // A long read: a pooled connection of its own, so no one waits behind it.
        None => crate::users::stream_all(&db).await,
        Some(name) => {
            no_nul("name", &name)?;
            let users = db.read(async |db| {
                bottles::user_by_name_with_messages(&db.client().await?, &name).await
            });
            Ok(axum::Json(users.await?).into_response())
        }
    }
}

async fn user(
    State(db): Db,
    Id(id): Id,
) -> Result<axum::Json<bottles::UserWithMessages>, ApiError> {
    let user = db.read(async |db| bottles::user_by_id_with_messages(&db.client().await?, id).await);
    user.await?
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_found(format!("no user with id {id}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MessagesQuery {
    user_name: Option<String>,
    limit: Option<i64>,
    after_id: Option<i32>,
}

#[derive(Serialize)]
struct Page {
    messages: Vec<Message>,
}

async fn messages(
    State(db): Db,
    Query(query): Query<MessagesQuery>,
) -> Result<axum::Json<Page>, ApiError> {
    let name = query
        .user_name
        .ok_or_else(|| ApiError::bad_request("user_name is required"))?;
    no_nul("user_name", &name)?;
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(format!(
            "limit must be from 1 to {MAX_PAGE}"
        )));
    }
    let after_id = query.after_id.unwrap_or(0);
    let messages = db.read(async |db| -> bottles::Result<Vec<Message>> {
        let client = db.shared_client().await?;
        let page = messages_from_user_after();
        Ok(page.bind(&client, &name, &after_id, &limit).all().await?)
    });
    Ok(axum::Json(Page {
        messages: messages.await?,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    name: String,
}

async fn create_user(
    State(db): Db,
    IdempotencyKey(key): IdempotencyKey,
    Json(new): Json<NewUser>,
) -> Result<Response, ApiError> {
    checked_text("name", &new.name, NAME_LIMIT)?;
    if let Some(key) = key {
        let request = format!("POST /users\n{}", serde_json::json!({ "name": new.name }));
        return idempotent::once(&db, &key, &request, async |tx| {
            let user = insert_user().bind(tx, &new.name).one().await?;
            let created = bottles::UserWithMessages {
                id: user.id,
                name: user.name,
                messages: Vec::new(),
            };
            Ok((StatusCode::CREATED, to_json(&created)?))
        })
        .await;
    }
    let client = db.shared_client().await?;
    let user = insert_user().bind(&client, &new.name).one().await?;
    db.wrote().await?;
    let created = bottles::UserWithMessages {
        id: user.id,
        name: user.name,
        messages: Vec::new(),
    };
    Ok((StatusCode::CREATED, axum::Json(created)).into_response())
}

fn to_json(value: &impl Serialize) -> Result<String, ApiError> {
    serde_json::to_string(value)
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewMessage {
    content: String,
}

async fn create_message(
    State(db): Db,
    Id(user_id): Id,
    IdempotencyKey(key): IdempotencyKey,
    Json(new): Json<NewMessage>,
) -> Result<Response, ApiError> {
    checked_text("content", &new.content, CONTENT_LIMIT)?;
    if let Some(key) = key {
        let body = serde_json::json!({ "content": new.content });
        let request = format!("POST /users/{user_id}/messages\n{body}");
        return idempotent::once(&db, &key, &request, async |tx| {
            let insert = insert_message();
            let inserted = insert.bind(tx, &new.content, &user_id).one().await;
            let message = no_such_user(inserted, user_id)?;
            Ok((StatusCode::CREATED, to_json(&message)?))
        })
        .await;
    }
    let client = db.shared_client().await?;
    let inserted = insert_message()
        .bind(&client, &new.content, &user_id)
        .one()
        .await;
    let message = no_such_user(inserted, user_id)?;
    db.wrote().await?;
    Ok((StatusCode::CREATED, axum::Json(message)).into_response())
}

/// A message for a user that does not exist is 404, not an error of the database's.
fn no_such_user(
    inserted: Result<Message, tokio_postgres::Error>,
    user_id: i32,
) -> Result<Message, ApiError> {
    match inserted {
        Ok(message) => Ok(message),
        Err(err) if err.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) => {
            Err(ApiError::not_found(format!("no user with id {user_id}")))
        }
        Err(err) => Err(err.into()),
    }
}

async fn health(State(db): Db) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let client = db.shared_client().await?;
    ping().bind(&client).one().await?;
    Ok(axum::Json(serde_json::json!({ "status": "ok" })))
}

/// A name to look up: any text PostgreSQL can hold.
fn no_nul(what: &str, text: &str) -> Result<(), ApiError> {
    if text.contains('\0') {
        return Err(ApiError::bad_request(format!(
            "{what} must not contain NUL characters"
        )));
    }
    Ok(())
}
