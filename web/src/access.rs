//! The access log: one line per request, `GET /users/2 200 1.21ms`, at INFO under
//! [`ACCESS_LOG_TARGET`], and the request in `http_server_request_duration_seconds`
//! ([`Metrics::request`]). For a streamed body the time is until its first byte.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::telemetry::metrics::Metrics;

/// The `tracing` target of the access log: one line per request.
pub const ACCESS_LOG_TARGET: &str = "bottles_web::access";

pub async fn log(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let route = request.extensions().get::<MatchedPath>().cloned();
    let started = Instant::now();
    let response = next.run(request).await;
    let (status, elapsed) = (response.status().as_u16(), started.elapsed());
    tracing::info!(target: ACCESS_LOG_TARGET, "{method} {path} {status} {elapsed:.2?}");
    let route = route.as_ref().map_or("", MatchedPath::as_str);
    metrics.request(&method, route, status, elapsed.as_secs_f64());
    response
}
