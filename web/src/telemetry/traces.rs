//! OpenTelemetry traces over OTLP, configured the way the OpenTelemetry specification says,
//! by environment variables, and off unless an endpoint is given:
//!
//! | variable | meaning |
//! |---|---|
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) | where to send spans; unset: no traces, and nothing spent on them |
//! | `OTEL_EXPORTER_OTLP_PROTOCOL` (or `…_TRACES_PROTOCOL`) | `http/protobuf` (the default) or `grpc` |
//! | `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES` | the resource; the name defaults to the binary's |
//! | `OTEL_SDK_DISABLED=true`, `OTEL_TRACES_EXPORTER=none` | no traces even with an endpoint |
//! | `OTEL_BSP_*`, `OTEL_EXPORTER_OTLP_HEADERS`, `…_TIMEOUT` | read by the exporter and the batch processor as specified |
//!
//! Spans go out in batches from a task on the service's own runtime. The request span
//! ([`crate::access`]) takes a W3C `traceparent` from the request as its parent.

use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::runtime::Tokio;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor;

/// The exporter's settings, from the environment (a function, so tests can pass their own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The protocol to send spans with.
    pub protocol: Protocol,
}

/// Reads the settings; `Ok(None)` when traces are off. `var` is the environment.
pub fn settings(var: impl Fn(&str) -> Option<String>) -> Result<Option<Settings>, String> {
    let set = |name: &str| var(name).filter(|value| !value.trim().is_empty());
    let endpoint =
        set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").or_else(|| set("OTEL_EXPORTER_OTLP_ENDPOINT"));
    let disabled = set("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let exporter = set("OTEL_TRACES_EXPORTER").unwrap_or_else(|| "otlp".into());
    if endpoint.is_none() || disabled || exporter.trim() == "none" {
        return Ok(None);
    }
    if exporter.trim() != "otlp" {
        return Err(format!(
            "OTEL_TRACES_EXPORTER={exporter} is not supported (otlp or none)"
        ));
    }
    let protocol = set("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        .or_else(|| set("OTEL_EXPORTER_OTLP_PROTOCOL"))
        .unwrap_or_else(|| "http/protobuf".into());
    let protocol = match protocol.trim() {
        "grpc" => Protocol::Grpc,
        "http/protobuf" => Protocol::HttpBinary,
        other => {
            return Err(format!(
                "OTEL_EXPORTER_OTLP_PROTOCOL={other} is not supported (grpc or http/protobuf)"
            ));
        }
    };
    Ok(Some(Settings { protocol }))
}

/// The tracer provider for `service`, exporting as `settings` say. Must be called on the
/// runtime that will carry the exports; the endpoint and the rest are read by the exporter.
pub fn provider(settings: &Settings, service: &'static str) -> Result<SdkTracerProvider, String> {
    let exporter = match settings.protocol {
        Protocol::Grpc => opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .with_protocol(Protocol::Grpc)
            .build(),
        _ => opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .build(),
    };
    let exporter = exporter.map_err(|err| format!("could not set up OTLP traces: {err}"))?;
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES are read by the builder; the binary's
    // name is the default.
    let mut resource = Resource::builder()
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")));
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name(service);
    }
    let resource = resource.build();
    let batches = BatchSpanProcessor::builder(exporter, Tokio).build();
    Ok(SdkTracerProvider::builder()
        .with_span_processor(batches)
        .with_resource(resource)
        .build())
}

/// The tracer the `tracing` layer hands spans to.
pub fn tracer(
    provider: &SdkTracerProvider,
    service: &'static str,
) -> opentelemetry_sdk::trace::Tracer {
    provider.tracer(service)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(vars: &[(&str, &str)]) -> Result<Option<Settings>, String> {
        settings(|name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        })
    }

    #[test]
    fn off_without_an_endpoint_or_when_disabled() {
        assert_eq!(from(&[]), Ok(None));
        assert_eq!(from(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "")]), Ok(None));
        let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318");
        assert_eq!(from(&[endpoint, ("OTEL_SDK_DISABLED", "true")]), Ok(None));
        assert_eq!(
            from(&[endpoint, ("OTEL_TRACES_EXPORTER", "none")]),
            Ok(None)
        );
    }

    #[test]
    fn the_protocol_defaults_to_http_protobuf_and_grpc_is_chosen_by_name() {
        let endpoint = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318");
        let protocol = |vars: &[(&str, &str)]| from(vars).map(|s| s.map(|s| s.protocol));
        assert_eq!(protocol(&[endpoint]), Ok(Some(Protocol::HttpBinary)));
        let grpc = ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc");
        assert_eq!(protocol(&[endpoint, grpc]), Ok(Some(Protocol::Grpc)));
        let traces_only = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf");
        assert_eq!(
            protocol(&[endpoint, grpc, traces_only]),
            Ok(Some(Protocol::HttpBinary))
        );
        let json = ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json");
        assert!(
            from(&[endpoint, json])
                .unwrap_err()
                .contains("http/json is not supported")
        );
        let traces = (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://127.0.0.1:4317",
        );
        assert!(from(&[traces]).unwrap().is_some());
    }
}
