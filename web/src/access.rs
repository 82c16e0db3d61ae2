//! The access log: one line per request, `GET /users/2 200 1.21ms`, at INFO under
//! [`ACCESS_LOG_TARGET`]. For a streamed body the time is until its first byte.

use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

/// The `tracing` target of the access log: one line per request.
pub const ACCESS_LOG_TARGET: &str = "bottles_web::access";

pub async fn log(request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    let (status, elapsed) = (response.status().as_u16(), started.elapsed());
    tracing::info!(target: ACCESS_LOG_TARGET, "{method} {path} {status} {elapsed:.2?}");
    response
}
