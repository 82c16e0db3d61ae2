//! The POSTs: a new user, a new message. Each is followed by [`bottles::Database::wrote`], so
//! a GET after it sees what it wrote, and with an `Idempotency-Key` runs once
//! ([`crate::idempotent`]).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bottles::codegen::queries::messages::{Message, insert_message};
use bottles::codegen::queries::users::insert_user;
use serde::{Deserialize, Serialize};
use tokio_postgres::error::SqlState;
use utoipa::ToSchema;

use crate::errors::ApiError;
use crate::extract::{Db, Id, Json, checked_text};
use crate::idempotent::{self, IdempotencyKey};
use crate::openapi::{ErrorBody, MessageSchema, UserSchema};

/// The longest user name and message content, in characters.
const NAME_LIMIT: usize = 200;
const CONTENT_LIMIT: usize = 10_000;

/// A new user.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Zoe"}))]
pub struct NewUser {
    /// 1 to 200 characters, not all blank, no NUL.
    #[schema(min_length = 1, max_length = 200)]
    name: String,
}

/// Adds a user.
#[utoipa::path(
    post, path = "/users", tag = "writes", request_body = NewUser,
    params(("Idempotency-Key" = Option<String>, Header,
        description = "1 to 255 visible ASCII characters (a UUID, say): a retry with the same key and body gets the first answer and writes nothing")),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new user (or, with `Idempotency-Replayed: true`, the first answer to this key)", body = UserSchema,
            headers(("Idempotency-Replayed" = bool, description = "`true` when this is the stored answer of an earlier request with the same key"))),
        (status = 400, description = "Malformed or mistyped JSON, or a malformed Idempotency-Key", body = ErrorBody),
        (status = 401, description = "Write tokens are configured and the request has none that matches", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"bottles-web\"`, with `error=\"invalid_token\"` for a wrong one"))),
        (status = 413, description = "A body over 64 KB", body = ErrorBody),
        (status = 415, description = "A body that is not `application/json`", body = ErrorBody),
        (status = 422, description = "An empty, oversized or NUL-holding name; or the Idempotency-Key was used for another request", body = ErrorBody),
        (status = 503, description = "The database is unavailable or took too long; nothing was written unless an Idempotency-Key retry says so", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait"))),
    )
)]
pub async fn create_user(
    State(db): Db,
    IdempotencyKey(key): IdempotencyKey,
    Json(new): Json<NewUser>,
) -> Result<Response, ApiError> {
    checked_text("name", &new.name, NAME_LIMIT)?;
    if let Some(key) = key {
        let request = format!("POST /users\n{}", serde_json::json!({ "name": new.name }));
        return idempotent::once(&db, &key, &request, async |tx| {
            let insert = insert_user();
            let insert = insert.bind(tx, &new.name).one();
            let user = insert.await?;
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
    let insert = insert_user();
    let insert = insert.bind(&client, &new.name).one();
    let user = insert.await?;
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

/// A new message.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"content": "a bottle of my own"}))]
pub struct NewMessage {
    /// 1 to 10 000 characters, not all blank, no NUL.
    #[schema(min_length = 1, max_length = 10000)]
    content: String,
}

/// Adds a message to a user.
#[utoipa::path(
    post, path = "/users/{id}/messages", tag = "writes", request_body = NewMessage,
    params(
        ("id" = i32, Path, description = "The user's id"),
        ("Idempotency-Key" = Option<String>, Header,
            description = "1 to 255 visible ASCII characters (a UUID, say): a retry with the same key and body gets the first answer and writes nothing"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new message (or, with `Idempotency-Replayed: true`, the first answer to this key)", body = MessageSchema,
            headers(("Idempotency-Replayed" = bool, description = "`true` when this is the stored answer of an earlier request with the same key"))),
        (status = 400, description = "A bad id, malformed or mistyped JSON, or a malformed Idempotency-Key", body = ErrorBody),
        (status = 401, description = "Write tokens are configured and the request has none that matches", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"bottles-web\"`, with `error=\"invalid_token\"` for a wrong one"))),
        (status = 404, description = "No user has this id; nothing written", body = ErrorBody),
        (status = 413, description = "A body over 64 KB", body = ErrorBody),
        (status = 415, description = "A body that is not `application/json`", body = ErrorBody),
        (status = 422, description = "An empty, oversized or NUL-holding content; or the Idempotency-Key was used for another request", body = ErrorBody),
        (status = 503, description = "The database is unavailable or took too long; nothing was written unless an Idempotency-Key retry says so", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait"))),
    )
)]
pub async fn create_message(
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
            let insert = insert.bind(tx, &new.content, &user_id).one();
            let inserted = insert.await;
            let message = no_such_user(inserted, user_id)?;
            Ok((StatusCode::CREATED, to_json(&message)?))
        })
        .await;
    }
    let client = db.shared_client().await?;
    let insert = insert_message();
    let insert = insert.bind(&client, &new.content, &user_id).one();
    let inserted = insert.await;
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
