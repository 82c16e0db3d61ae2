//! The access log and the request span. Each request runs in a span (`GET /users/{id}`, an
//! OpenTelemetry server span whose parent is the request's W3C `traceparent`, if any) and
//! ends in one line at INFO under [`ACCESS_LOG_TARGET`], `GET /users/2 200 1.21ms` (with the
//! trace id when spans are exported), and in `http_server_request_duration_seconds`
//! ([`Metrics::request`]). For a streamed body the time is until its first byte.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use opentelemetry_http::HeaderExtractor;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing::Instrument;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::telemetry::metrics::Metrics;

/// The `tracing` target of the access log: one line per request.
pub const ACCESS_LOG_TARGET: &str = "bottles_web::access";

/// The `tracing` target of the request spans.
pub const REQUEST_TARGET: &str = "bottles_web::request";

pub async fn log(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let route = request.extensions().get::<MatchedPath>().cloned();
    let route = route.as_ref().map_or("", MatchedPath::as_str).to_owned();
    let span = tracing::info_span!(
        target: REQUEST_TARGET,
        "request",
        otel.name = Empty,
        otel.kind = "server",
        otel.status_code = Empty,
        http.request.method = method.as_str(),
        http.route = Empty,
        url.path = path.as_str(),
        http.response.status_code = Empty,
    );
    let mut trace_id = None;
    if !span.is_disabled() {
        let name = if route.is_empty() {
            method.to_string()
        } else {
            format!("{method} {route}")
        };
        span.record("otel.name", name.as_str());
        if !route.is_empty() {
            span.record("http.route", route.as_str());
        }
        let parent = TraceContextPropagator::new().extract(&HeaderExtractor(request.headers()));
        if parent.span().span_context().is_valid() {
            let _ = span.set_parent(parent);
        }
        let context = span.context();
        let ids = context.span().span_context().clone();
        trace_id = ids.is_valid().then(|| ids.trace_id().to_string());
    }
    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let (status, elapsed) = (response.status().as_u16(), started.elapsed());
    if !span.is_disabled() {
        span.record("http.response.status_code", status);
        if status >= 500 {
            span.record("otel.status_code", "error");
        }
    }
    match trace_id {
        Some(trace_id) => tracing::info!(
            target: ACCESS_LOG_TARGET,
            trace_id = %trace_id,
            "{method} {path} {status} {elapsed:.2?}"
        ),
        None => tracing::info!(target: ACCESS_LOG_TARGET, "{method} {path} {status} {elapsed:.2?}"),
    }
    metrics.request(&method, &route, status, elapsed.as_secs_f64());
    response
}
