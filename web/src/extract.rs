//! axum's extractors, with their rejections turned into `{"error": …}` bodies: a malformed or
//! mistyped body is 400, a body that is not JSON 415, one over the limit 413, a bad id or query
//! parameter 400.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::errors::ApiError;

/// The service's state: the database.
pub type Db = axum::extract::State<std::sync::Arc<bottles::Database>>;

/// The largest request body taken, in bytes.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A JSON request body.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(JsonRejection::JsonDataError(err)) => Err(ApiError::bad_request(err.body_text())),
            Err(JsonRejection::BytesRejection(err))
                if err.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                Err(ApiError::new(
                    err.status(),
                    format!("the request body is over {} KB", BODY_LIMIT / 1024),
                ))
            }
            Err(err) => Err(ApiError::new(err.status(), err.body_text())),
        }
    }
}

/// An id in the path: an integer that fits PostgreSQL's `integer`.
pub struct Id(pub i32);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let path = axum::extract::Path::<String>::from_request_parts(parts, state).await;
        let text = path
            .map_err(|err: PathRejection| ApiError::bad_request(err.body_text()))?
            .0;
        let id = text.parse::<i32>().map_err(|_| {
            ApiError::bad_request(format!(
                "invalid id {text:?}: expected an integer from {} to {}",
                i32::MIN,
                i32::MAX
            ))
        })?;
        Ok(Self(id))
    }
}

/// Query parameters.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(err @ QueryRejection::FailedToDeserializeQueryString(_)) => {
                Err(ApiError::bad_request(err.body_text()))
            }
            Err(err) => Err(ApiError::new(err.status(), err.body_text())),
        }
    }
}

/// Text the service stores or looks up: PostgreSQL's text cannot hold NUL, and each field has
/// a length limit. `what` names the field in the error.
pub fn checked_text(what: &str, text: &str, max_chars: usize) -> Result<(), ApiError> {
    if text.trim().is_empty() {
        return Err(ApiError::unprocessable(format!("{what} must not be empty")));
    }
    if text.chars().count() > max_chars {
        return Err(ApiError::unprocessable(format!(
            "{what} must be at most {max_chars} characters"
        )));
    }
    if text.contains('\0') {
        return Err(ApiError::unprocessable(format!(
            "{what} must not contain NUL characters"
        )));
    }
    Ok(())
}
