//! Every failure as `{"error": "…"}` with the right status: 4xx for the client's mistakes,
//! 503 with `Retry-After` when the database cannot answer now, 500 for the rest. A body never
//! holds SQL, a stack trace or a password; the details of a 500 go to the log.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio_postgres::error::SqlState;

/// Seconds a client is asked to wait when the database is unavailable.
const RETRY_AFTER_SECONDS: &str = "1";

/// A failed request: its status and the one line its JSON body says.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    /// A failure with this status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// 400: the request itself is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404: nothing there.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 422: well-formed, but not a value the service takes.
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    /// 503: the database cannot answer now; the client may retry.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }

    /// The status this error answers with.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(serde_json::json!({ "error": self.message }));
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            return (
                self.status,
                [(header::RETRY_AFTER, RETRY_AFTER_SECONDS)],
                body,
            )
                .into_response();
        }
        (self.status, body).into_response()
    }
}

impl From<bottles::Error> for ApiError {
    fn from(err: bottles::Error) -> Self {
        if unavailable(&err) {
            tracing::warn!(target: crate::access::ACCESS_LOG_TARGET, "database unavailable: {err}");
            return Self::unavailable("the database is unavailable; try again shortly");
        }
        if err.code() == Some(&SqlState::QUERY_CANCELED) {
            return Self::unavailable("the database took too long to answer; try again shortly");
        }
        tracing::error!(target: crate::access::ACCESS_LOG_TARGET, "internal error: {err}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }
}

impl From<bottles_core::Error> for ApiError {
    fn from(err: bottles_core::Error) -> Self {
        bottles::Error::from(err).into()
    }
}

impl From<tokio_postgres::Error> for ApiError {
    fn from(err: tokio_postgres::Error) -> Self {
        bottles::Error::from(err).into()
    }
}

/// Whether the database, not the request, is at fault and may recover: unreachable or lost
/// ([`bottles::Error::is_unavailable`]), not reset yet, or a read-only standby taking a write
/// (as during a failover, until the pool reaches the promoted server).
fn unavailable(err: &bottles::Error) -> bool {
    use bottles::Error;
    err.is_unavailable()
        || matches!(
            err,
            Error::MissingTables(_) | Error::Database(bottles_core::Error::ReadOnlyServer(_))
        )
}
