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
//! The GETs are in [`crate::reads`], the POSTs in [`crate::writes`]; each handler's
//! `#[utoipa::path]` describes it in the OpenAPI document ([`crate::openapi`]), served at
//! `/openapi.json` with a docs page at `/docs` ([`crate::docs`]). With replicas, every GET but
//! `/health` reads on one ([`Database::read`]) and each write is followed by
//! [`Database::wrote`], so a GET after a POST sees what it wrote.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bottles::Database;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::errors::ApiError;
use crate::extract::{BODY_LIMIT, Db};
use crate::openapi::ApiDoc;
use crate::telemetry::metrics::{self, Metrics};
use crate::tokens::Tokens;
use crate::{reads, writes};

/// How long a scrape of `/metrics` waits for the replicas' replay positions.
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(1);

/// How the service treats requests.
#[derive(Debug, Clone)]
pub struct ServiceOptions {
    /// A request still waiting on the database after this long is answered 503 (a streamed
    /// body counts until its first bytes).
    pub request_timeout: Duration,
    /// The bearer tokens writes (and, if any read token is given, reads) need; none by default.
    pub tokens: Tokens,
    /// Where requests are counted, for `/metrics`.
    pub metrics: Metrics,
}

impl Default for ServiceOptions {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            tokens: Tokens::default(),
            metrics: Metrics::default(),
        }
    }
}

/// The endpoints and their OpenAPI description, from the same handlers: a route is in the
/// document because it is in the router.
pub fn api() -> (Router<Arc<Database>>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(reads::stats))
        .routes(routes!(reads::users, writes::create_user))
        .routes(routes!(reads::user))
        .routes(routes!(writes::create_message))
        .routes(routes!(reads::messages))
        .routes(routes!(reads::health))
        .split_for_parts()
}

/// The service on `db`: the endpoints above, `/openapi.json` and the docs page at `/docs`,
/// JSON errors for unknown routes and methods, the body limit, the request timeout, the access
/// log, and a 500 (not a dropped connection) should a handler panic.
pub fn router(db: Arc<Database>, options: ServiceOptions) -> Router {
    let (api, spec) = api();
    let scrape = options.metrics.clone();
    api.merge(crate::docs::router(spec))
        .route(
            "/metrics",
            axum::routing::get(async move |State(db): Db| {
                let stats = db.stats(SCRAPE_TIMEOUT).await;
                let body = scrape.render(stats);
                (
                    [(axum::http::header::CONTENT_TYPE, metrics::CONTENT_TYPE)],
                    body,
                )
            }),
        )
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
        .layer(axum::middleware::from_fn_with_state(
            options.metrics,
            crate::access::log,
        ))
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
