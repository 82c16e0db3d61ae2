//! OpenTelemetry traces from the binary, received by a real OTLP receiver started here (the
//! opentelemetry-proto crate's types, over gRPC with tonic and over HTTP with axum): a server
//! span per request whose parent is the request's `traceparent`, and under it a client span
//! per statement with the database conventions and the statement as written in `queries/`,
//! never a parameter's value; a failed statement carries its SQLSTATE. With `--log-format
//! json`, every line on stderr is a JSON object, the access log's with the trace id.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::{Span, span::SpanKind, status::StatusCode};
use prost::Message;
use serde_json::json;

use crate::helpers::{TestApp, spawn_app};
use crate::shutdown::{start_with, terminate, wait_exit};

const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";
const PARENT_ID: &str = "b7ad6b7169203331";
const TOKEN: &str = "write-token-never-in-a-span";

/// Every span received, with its resource's `service.name`.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(String, Span)>>>);

impl Received {
    fn take(&self, request: ExportTraceServiceRequest) {
        let mut spans = self.0.lock().unwrap();
        for resource in request.resource_spans {
            let attributes = resource.resource.map(|r| r.attributes).unwrap_or_default();
            let service = attributes
                .iter()
                .find(|kv| kv.key == "service.name")
                .and_then(|kv| text(kv.value.as_ref()?.value.as_ref()?))
                .unwrap_or_default();
            for scope in resource.scope_spans {
                spans.extend(scope.spans.into_iter().map(|span| (service.clone(), span)));
            }
        }
    }
}

#[tonic::async_trait]
impl TraceService for Received {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.take(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

/// An OTLP/gRPC receiver on a free port.
async fn grpc_receiver() -> (String, Received) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let received = Received::default();
    let service = TraceServiceServer::new(received.clone());
    let incoming = tonic::transport::server::TcpIncoming::from(listener);
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(incoming),
    );
    (format!("http://{address}"), received)
}

/// An OTLP/HTTP (protobuf) receiver on a free port: `POST /v1/traces`.
async fn http_receiver() -> (String, Received) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let received = Received::default();
    let taken = received.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(
            async move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                assert_eq!(headers["content-type"], "application/x-protobuf");
                let request = ExportTraceServiceRequest::decode(body).expect("OTLP protobuf");
                taken.take(request);
                let answer = ExportTraceServiceResponse::default().encode_to_vec();
                ([("content-type", "application/x-protobuf")], answer)
            },
        ),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}"), received)
}

fn text(value: &Any) -> Option<String> {
    match value {
        Any::StringValue(text) => Some(text.clone()),
        _ => None,
    }
}

/// A span's attribute, as text (integers too).
fn attribute(span: &Span, key: &str) -> Option<String> {
    let value = span
        .attributes
        .iter()
        .find(|kv| kv.key == key)?
        .value
        .as_ref()?
        .value
        .as_ref()?;
    match value {
        Any::IntValue(number) => Some(number.to_string()),
        other => text(other),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs the binary on `app`'s database exporting to `endpoint` over `protocol`, sends a
/// traced GET /messages and a POST that fails, stops it; returns what it logged.
async fn traced_run(app: &TestApp, endpoint: &str, protocol: &str, json_log: bool) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let mut vars = vec![
        ("DATABASE_URL", app.db_url.as_str()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ("BOTTLES_WRITE_TOKENS", TOKEN),
    ];
    let mut args = Vec::new();
    if json_log {
        vars.extend([("BOTTLES_LOG_FORMAT", "json")]);
        args.push("--echo");
    }
    let (child, address, log) = start_with(&vars, &args, tmp.path());
    let http = reqwest::Client::new();
    let page = http
        .get(format!("{address}/messages?user_name=Eli&limit=3"))
        .header("traceparent", format!("00-{TRACE_ID}-{PARENT_ID}-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let refused = http
        .post(format!("{address}/users/999/messages"))
        .bearer_auth(TOKEN)
        .json(&json!({"content": "to nobody"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 404);
    terminate(&child);
    assert_eq!(wait_exit(child, Duration::from_secs(15)), Some(0));
    let log = log.lock().unwrap().clone();
    assert!(!log.contains(TOKEN), "the log shows the token: {log}");
    log
}

/// Checks the spans of [`traced_run`].
fn check(app: &TestApp, received: &Received) {
    let spans = received.0.lock().unwrap().clone();
    assert!(spans.iter().all(|(service, _)| service == "bottles-web"));
    let spans: Vec<Span> = spans.into_iter().map(|(_, span)| span).collect();
    let named = |name: &str| {
        spans
            .iter()
            .find(|span| span.name == name)
            .unwrap_or_else(|| {
                panic!(
                    "no span {name}: {:?}",
                    spans.iter().map(|s| &s.name).collect::<Vec<_>>()
                )
            })
    };
    let request = named("GET /messages");
    assert_eq!(request.kind, SpanKind::Server as i32);
    assert_eq!(hex(&request.trace_id), TRACE_ID, "the traceparent's trace");
    assert_eq!(
        hex(&request.parent_span_id),
        PARENT_ID,
        "the traceparent's span"
    );
    assert_eq!(
        attribute(request, "http.route").as_deref(),
        Some("/messages")
    );
    assert_eq!(
        attribute(request, "http.response.status_code").as_deref(),
        Some("200")
    );

    let statement = named("messages_from_user_after");
    assert_eq!(statement.kind, SpanKind::Client as i32);
    assert_eq!(statement.trace_id, request.trace_id);
    assert_eq!(
        statement.parent_span_id, request.span_id,
        "a child of the request"
    );
    let database = app.db_url.rsplit('/').next().unwrap();
    let port = app
        .db_url
        .rsplit(':')
        .next()
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    let text = bottles::statement_text("messages_from_user_after").unwrap();
    for (key, value) in [
        ("db.system.name", "postgresql"),
        ("db.namespace", database),
        ("db.operation.name", "SELECT"),
        ("db.collection.name", "message"),
        ("db.query.summary", "messages_from_user_after"),
        ("db.query.text", text),
        ("server.address", "127.0.0.1"),
        ("server.port", port),
    ] {
        assert_eq!(attribute(statement, key).as_deref(), Some(value), "{key}");
    }
    assert!(text.contains(":name"), "as written in queries/: {text}");
    for span in &spans {
        for kv in &span.attributes {
            let value = format!("{:?}", kv.value);
            assert!(
                !value.contains("Eli") && !value.contains("to nobody") && !value.contains(TOKEN),
                "a parameter in {}: {value}",
                kv.key
            );
        }
    }

    let failed = named("insert_message");
    assert_eq!(attribute(failed, "error.type").as_deref(), Some("23503"));
    assert_eq!(
        attribute(failed, "db.response.status_code").as_deref(),
        Some("23503")
    );
    assert_eq!(
        failed.status.as_ref().map(|s| s.code),
        Some(StatusCode::Error as i32)
    );
    let post = named("POST /users/{id}/messages");
    assert_eq!(failed.parent_span_id, post.span_id);
    assert_eq!(
        attribute(post, "http.response.status_code").as_deref(),
        Some("404")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_spans_reach_a_receiver_and_the_json_log_carries_the_trace_id() {
    let app = spawn_app().await;
    let (endpoint, received) = grpc_receiver().await;
    let log = traced_run(&app, &endpoint, "grpc", true).await;
    check(&app, &received);
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let access = lines
        .iter()
        .find(|line| {
            line["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("GET /messages"))
        })
        .unwrap_or_else(|| panic!("no access line: {log}"));
    assert_eq!(access["trace_id"], TRACE_ID, "{access}");
    assert_eq!(access["target"], "bottles_web::access");
    let statement = lines
        .iter()
        .find(|line| line["target"] == "bottles::sql")
        .unwrap_or_else(|| panic!("no statement log line: {log}"));
    let message = statement["message"].as_str().unwrap();
    assert!(
        message.contains("-- messages_from_user_after {name: \"Eli\""),
        "{message}"
    );
    assert!(statement["timestamp"].is_string() && statement["level"] == "INFO");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_protobuf_spans_reach_a_receiver() {
    let app = spawn_app().await;
    let (endpoint, received) = http_receiver().await;
    let log = traced_run(&app, &endpoint, "http/protobuf", false).await;
    check(&app, &received);
    assert!(log.contains(&format!("trace_id={TRACE_ID}")), "{log}");
}
