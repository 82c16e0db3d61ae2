//! The GETs: one per notebook cell, and the health check. With replicas, every one but
//! `/health` reads on one ([`Database::read`]).
//!
//! Each handler's `#[utoipa::path]` lists every status it can answer with, the middleware's
//! included (401 from [`crate::tokens`], 503 from the deadline); the API tests provoke each one.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bottles::codegen::queries::messages::{Message, count_messages, messages_from_user_after};
use bottles::codegen::queries::tables::ping;
use bottles::codegen::queries::users::count_users;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::errors::ApiError;
use crate::extract::{Db, Id, Query};
use crate::openapi::{ErrorBody, MessageSchema, UserSchema};

/// `GET /messages`: the page size when none is asked for, and the largest allowed.
const DEFAULT_PAGE: i64 = 100;
const MAX_PAGE: i64 = 1000;

/// The notebook's counts.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"users": 3, "messages": 100}))]
pub struct Stats {
    users: i64,
    messages: i64,
}

/// The notebook's counting cell.
#[utoipa::path(
    get, path = "/stats", tag = "notebook",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "How many users and messages there are", body = Stats),
        (status = 401, description = "A read token is configured and the request has none that matches", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"bottles-web\"`"))),
        (status = 503, description = "The database is unavailable; retry", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait"))),
    )
)]
pub async fn stats(State(db): Db) -> Result<axum::Json<Stats>, ApiError> {
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

/// `GET /users`'s parameters.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsersQuery {
    /// Only the users of this name (the chained filter, with a select-in load).
    name: Option<String>,
}

/// Every user with their messages (the joined load, streamed), or the users of one name.
#[utoipa::path(
    get, path = "/users", tag = "notebook", params(UsersQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The users with their messages, by id (`[]` if none has the name)", body = [UserSchema]),
        (status = 400, description = "An unknown parameter, or a name with a NUL character", body = ErrorBody),
        (status = 401, description = "A read token is configured and the request has none that matches", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"bottles-web\"`"))),
        (status = 503, description = "The database is unavailable; retry", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait"))),
    )
)]
pub async fn users(State(db): Db, Query(query): Query<UsersQuery>) -> Result<Response, ApiError> {
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

/// One user with their messages (`session.get(User, id)`).
#[utoipa::path(
    get, path = "/users/{id}", tag = "notebook",
    params(("id" = i32, Path, description = "The user's id")),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The user with their messages", body = UserSchema),
        (status = 400, description = "The id is not an integer of 32 bits", body = ErrorBody),
        (status = 401, description = "A read token is configured and the request has none that matches", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"bottles-web\"`"))),
        (status = 404, description = "No user has this id", body = ErrorBody),
        (status = 503, description = "The database is unavailable; retry", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait"))),
    )
)]
pub async fn user(
    State(db): Db,
    Id(id): Id,
) -> Result<axum::Json<bottles::UserWithMessages>, ApiError> {
    let user = db.read(async |db| bottles::user_by_id_with_messages(&db.client().await?, id).await);
    user.await?
        .map(axum::Json)
        .ok_or_else(|| ApiError::not_found(format!("no user with id {id}")))
}

/// `GET /messages`'s parameters.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MessagesQuery {
    /// Whose messages (required).
    #[param(required = true, example = "Eli")]
    user_name: Option<String>,
    /// The page's size, 1 to 1000.
    #[param(minimum = 1, maximum = 1000, default = 100)]
    limit: Option<i64>,
    /// The last id of the page before (keyset pagination).
    #[param(default = 0)]
    after_id: Option<i32>,
}

/// A page of messages.
#[derive(Serialize, ToSchema)]
pub struct Page {
    #[schema(value_type = Vec<MessageSchema>)]
    messages: Vec<Message>,
}

/// `Message.afrom_user`: a user's messages by id, a page at a time.
#[utoipa::path(
    get, path = "/messages", tag = "notebook", params(MessagesQuery),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The page; fewer than `limit` messages on the last one", body = Page),
        (status = 400, description = "No user_name, a limit out of range, an unknown or mistyped parameter", body = ErrorBody),
        (status = 401, description = "A read token is configured and the request has none that matches", body = ErrorBody,
            headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"bottles-web\"`"))),
        (status = 503, description = "The database is unavailable; retry", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait"))),
    )
)]
pub async fn messages(
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
        let page = page.bind(&client, &name, &after_id, &limit).all();
        Ok(page.await?)
    });
    Ok(axum::Json(Page {
        messages: messages.await?,
    }))
}

/// The health check's answer.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Health {
    /// Always `ok`.
    status: &'static str,
}

/// Whether the primary answers; open even when reads need a token.
#[utoipa::path(
    get, path = "/health", tag = "operations",
    responses(
        (status = 200, description = "The database answers", body = Health),
        (status = 503, description = "The database does not answer", body = ErrorBody,
            headers(("Retry-After" = u32, description = "Seconds to wait"))),
    )
)]
pub async fn health(State(db): Db) -> Result<axum::Json<Health>, ApiError> {
    let client = db.shared_client().await?;
    ping().bind(&client).one().await?;
    Ok(axum::Json(Health { status: "ok" }))
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
