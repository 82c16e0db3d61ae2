//! OpenTelemetry traces over OTLP for bottles' binaries, configured the way the OpenTelemetry
//! specification says, by environment variables, and off unless an endpoint is given:
//!
//! | variable | meaning |
//! |---|---|
//! | `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) | where to send spans; unset: no traces, and nothing spent on them |
//! | `OTEL_EXPORTER_OTLP_PROTOCOL` (or `…_TRACES_PROTOCOL`) | `http/protobuf` (the default) or `grpc` |
//! | `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES` | the resource; the name defaults to the binary's |
//! | `OTEL_SDK_DISABLED=true`, `OTEL_TRACES_EXPORTER=none` | no traces even with an endpoint |
//! | `OTEL_BSP_*`, `OTEL_EXPORTER_OTLP_HEADERS`, `…_TIMEOUT` | read by the exporter and the batch processor as specified |
//!
//! Spans go out in batches from a task on the program's own tokio runtime (the thread-based
//! batch processor cannot drive tonic or reqwest without one), and the last ones are flushed
//! by [`Traces::shutdown`], for a bounded time.

use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::runtime::Tokio;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor;
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::registry::LookupSpan;

/// How long the last spans may take to leave at exit: an endpoint that does not answer must not
/// hold the program up.
pub const FLUSH_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

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

/// Exported traces: the `tracing` layer that hands spans over, and the exporter to flush at
/// exit.
#[derive(Debug)]
pub struct Traces {
    provider: SdkTracerProvider,
    service: &'static str,
}

/// The program the spans come from: its name (the default `service.name`) and version.
#[derive(Debug, Clone, Copy)]
pub struct Service {
    /// `service.name`, unless `OTEL_SERVICE_NAME` names it.
    pub name: &'static str,
    /// `service.version`.
    pub version: &'static str,
}

impl Traces {
    /// Traces for `service` when the environment (`var`) asks for them, else `None`. Call
    /// inside the tokio runtime that will carry the exports.
    pub fn from_env(
        service: Service,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, String> {
        let Some(settings) = settings(var)? else {
            return Ok(None);
        };
        let provider = provider(&settings, service)?;
        let service = service.name;
        Ok(Some(Self { provider, service }))
    }

    /// The layer that exports every span (events stay with the log).
    pub fn layer<S>(&self) -> impl Layer<S> + Send + Sync + use<S>
    where
        S: Subscriber + for<'span> LookupSpan<'span> + Send + Sync,
    {
        tracing_opentelemetry::layer()
            .with_tracer(self.provider.tracer(self.service))
            .with_filter(filter_fn(|metadata| metadata.is_span()))
    }

    /// Sends the spans still buffered, for up to [`FLUSH_LIMIT`], and stops exporting. Call on
    /// the runtime the exports ran on.
    pub async fn shutdown(self) {
        // Blocks until the exporting task, on this runtime, is done.
        let provider = self.provider;
        let flushed = tokio::task::spawn_blocking(move || provider.shutdown());
        let _ = tokio::time::timeout(FLUSH_LIMIT, flushed).await;
    }
}

/// The tracer provider for `service`, exporting as `settings` say, on the current runtime; the
/// endpoint and the rest are read by the exporter.
fn provider(settings: &Settings, service: Service) -> Result<SdkTracerProvider, String> {
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
    let mut resource =
        Resource::builder().with_attribute(KeyValue::new("service.version", service.version));
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name(service.name);
    }
    let resource = resource.build();
    let batches = BatchSpanProcessor::builder(exporter, Tokio).build();
    Ok(SdkTracerProvider::builder()
        .with_span_processor(batches)
        .with_resource(resource)
        .build())
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
