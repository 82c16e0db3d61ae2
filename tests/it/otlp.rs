//! `bottles` exports a span per statement over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` says
//! where (`http/protobuf`, the specification's default): a receiver here takes the requests the
//! exporter makes and decodes them with OpenTelemetry's own protobuf types.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

use crate::helpers::{TestDb, bottles_command, stderr, stdout};

/// An OTLP/HTTP receiver on a free port: every `POST /v1/traces` body it was sent, decoded.
struct Receiver {
    port: u16,
    requests: Arc<Mutex<Vec<ExportTraceServiceRequest>>>,
}

impl Receiver {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let kept = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let kept = kept.clone();
                std::thread::spawn(move || serve(stream, &kept));
            }
        });
        Self { port, requests }
    }

    fn spans(&self) -> Vec<Span> {
        let requests = self.requests.lock().unwrap();
        let resources = requests.iter().flat_map(|r| &r.resource_spans);
        let scopes = resources.flat_map(|r| &r.scope_spans);
        scopes.flat_map(|s| s.spans.clone()).collect()
    }
}

/// Answers HTTP/1.1 requests on one connection, kept alive, until the client closes it.
fn serve(stream: TcpStream, kept: &Mutex<Vec<ExportTraceServiceRequest>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).unwrap();
            if header.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        assert!(line.starts_with("POST /v1/traces "), "{line}");
        let request = ExportTraceServiceRequest::decode(body.as_slice()).expect("OTLP protobuf");
        kept.lock().unwrap().push(request);
        let answer =
            "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
        writer.write_all(answer.as_bytes()).unwrap();
    }
}

/// A span's attribute, as text.
fn attribute(span: &Span, key: &str) -> Option<String> {
    let value = span
        .attributes
        .iter()
        .find(|a| a.key == key)?
        .value
        .as_ref()?;
    match value.value.as_ref()? {
        Value::StringValue(text) => Some(text.clone()),
        Value::IntValue(number) => Some(number.to_string()),
        other => Some(format!("{other:?}")),
    }
}

#[tokio::test]
async fn every_statement_of_a_run_is_a_span_of_one_trace_over_otlp() {
    let test = TestDb::seeded().await;
    let receiver = Receiver::start();
    let cwd = tempfile::tempdir().unwrap();
    let endpoint = format!("http://127.0.0.1:{}", receiver.port);
    let output = bottles_command(Some(&test.url), ["query", "--user", "Eli"], cwd.path())
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
        .env_remove("OTEL_EXPORTER_OTLP_PROTOCOL")
        .env_remove("OTEL_SERVICE_NAME")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("(Message.afrom_user): 33"));

    let spans = receiver.spans();
    let command = spans.iter().find(|s| s.name == "bottles query");
    let command = command.unwrap_or_else(|| panic!("the command's span: {spans:#?}"));
    let statements: Vec<&Span> = spans
        .iter()
        .filter(|s| attribute(s, "db.system.name").as_deref() == Some("postgresql"))
        .collect();
    let names: Vec<&str> = statements.iter().map(|s| s.name.as_str()).collect();
    for name in [
        "count_users",
        "count_messages",
        "users_with_messages",
        "user_by_name",
        "messages_for_users",
        "messages_from_user",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let port = test
        .url
        .rsplit(':')
        .next()
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    for span in &statements {
        assert_eq!(span.trace_id, command.trace_id, "one trace for the run");
        assert_eq!(span.parent_span_id, command.span_id, "{}", span.name);
        assert_eq!(attribute(span, "db.namespace"), Some(test.name.clone()));
        assert_eq!(attribute(span, "server.port").as_deref(), Some(port));
        let text = attribute(span, "db.query.text").unwrap();
        assert!(!text.contains("Eli"), "no parameter value in {text}");
        for attr in &span.attributes {
            assert!(
                !format!("{:?}", attr.value).contains("Eli"),
                "{}: {attr:?}",
                span.name
            );
        }
    }
    let from_user = statements
        .iter()
        .find(|s| s.name == "messages_from_user")
        .unwrap();
    let text = attribute(from_user, "db.query.text").unwrap();
    assert!(
        text.contains("WHERE u.name = :name"),
        "as written in queries/: {text}"
    );
    assert_eq!(
        attribute(from_user, "db.operation.name").as_deref(),
        Some("SELECT")
    );
    assert_eq!(
        attribute(from_user, "db.collection.name").as_deref(),
        Some("message")
    );
}
