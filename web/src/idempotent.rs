//! `Idempotency-Key` on the POSTs: a retry with the same key and body gets the first answer
//! (status and body, with `Idempotency-Replayed: true`) and writes nothing; the same key with
//! another body is 422. Keys are kept [`bottles::KEY_LIFETIME`] (24 hours). Built on
//! [`bottles::write_once`]: the write and its answer commit together.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bottles::{Answer, Database, Transaction};

use crate::errors::ApiError;

/// The longest key taken, in bytes (Stripe's limit).
const KEY_LIMIT: usize = 255;

/// The request's `Idempotency-Key`, if it has one: 1 to 255 visible ASCII characters.
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get("idempotency-key") else {
            return Ok(Self(None));
        };
        let key = value.as_bytes();
        if key.is_empty() || key.len() > KEY_LIMIT || !key.iter().all(|b| b.is_ascii_graphic()) {
            return Err(ApiError::bad_request(format!(
                "Idempotency-Key must be 1 to {KEY_LIMIT} visible ASCII characters"
            )));
        }
        Ok(Self(Some(String::from_utf8_lossy(key).into_owned())))
    }
}

/// Runs `write` once for `key` on a pooled connection (the write and the stored answer share
/// its transaction) and answers with what it returned, or with what it returned the first
/// time. `request` is what identifies the request: method, path and body.
pub async fn once(
    db: &Arc<Database>,
    key: &str,
    request: &str,
    write: impl AsyncFnOnce(&Transaction<'_>) -> Result<(StatusCode, String), ApiError>,
) -> Result<Response, ApiError> {
    let mut client = db.client().await?;
    let answer = bottles::write_once(&mut client, key, request.as_bytes(), async |tx| {
        let (status, body) = write(tx).await?;
        Ok::<_, ApiError>((status.as_u16(), body))
    })
    .await?;
    match answer {
        Answer::Done { status, body } => {
            db.wrote().await?;
            Ok(json(status, body, false))
        }
        Answer::Replayed { status, body } => Ok(json(status, body, true)),
        Answer::KeyReused => Err(ApiError::unprocessable(
            "this Idempotency-Key was used for a different request",
        )),
    }
}

fn json(status: u16, body: String, replayed: bool) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if replayed {
        headers.insert("idempotency-replayed", HeaderValue::from_static("true"));
    }
    response
}
