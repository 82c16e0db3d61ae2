//! What the service tells its operators: metrics ([`metrics`], served at `/metrics`), traces
//! over OTLP ([`traces`]), both built from the statement spans bottles-core opens around every
//! generated query ([`bottles::SPAN_TARGET`]) and the request spans ([`crate::access`]); and
//! the process's `tracing` subscriber ([`init`]): the access log and the statement log on
//! stderr, as text or JSON.

pub mod metrics;
pub mod traces;

use std::io::{IsTerminal, Write};

use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::filter::{EnvFilter, filter_fn};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

/// How long the last spans may take to leave on shutdown.
pub const FLUSH_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// `GET /users 200 1.07ms`, for people.
    #[default]
    Text,
    /// One JSON object a line, for machines.
    Json,
}

/// What must outlive the service: the traces' exporter, flushed by [`Telemetry::shutdown`].
#[derive(Debug, Default)]
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Whether spans are exported.
    pub fn traces(&self) -> bool {
        self.traces.is_some()
    }

    /// Sends the spans still buffered (for up to [`FLUSH_LIMIT`]: an endpoint that does not
    /// answer must not hold the exit), and stops exporting.
    pub async fn shutdown(self) {
        if let Some(provider) = self.traces {
            // Blocks until the exporting task, on this runtime, is done.
            let flushed = tokio::task::spawn_blocking(move || provider.shutdown());
            let _ = tokio::time::timeout(FLUSH_LIMIT, flushed).await;
        }
    }
}

/// Installs the process's subscriber: the events `directives` select (`target=level`, as in
/// `RUST_LOG`) on stderr in `format`, the statement spans into the metrics, and, when the
/// environment asks for it ([`traces::settings`]), every span to OTLP as `service`. Call once,
/// inside the runtime that will carry the exports.
pub fn init(
    directives: &[String],
    format: LogFormat,
    service: &'static str,
) -> Result<Telemetry, String> {
    let settings = traces::settings(|name| std::env::var(name).ok())?;
    let provider = settings
        .map(|settings| traces::provider(&settings, service))
        .transpose()?;
    let log = tracing_subscriber::fmt::layer()
        .with_writer(|| StderrOrNothing)
        .with_ansi(format == LogFormat::Text && std::io::stderr().is_terminal());
    let log: Box<dyn Layer<Registry> + Send + Sync> = match format {
        LogFormat::Text => Box::new(log),
        LogFormat::Json => Box::new(
            log.json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(false),
        ),
    };
    let log = log.with_filter(EnvFilter::new(directives.join(",")));
    let statements = metrics::StatementMetrics.with_filter(filter_fn(metrics::is_statement));
    let spans = provider.as_ref().map(|provider| {
        let tracer = traces::tracer(provider, service);
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_filter(filter_fn(|metadata| metadata.is_span()))
    });
    tracing_subscriber::registry()
        .with(log)
        .with(statements)
        .with(spans)
        .try_init()
        .map_err(|err| format!("could not install the log: {err}"))?;
    Ok(Telemetry { traces: provider })
}

/// Stderr whose write errors are dropped: a closed stderr is not worth a panic.
struct StderrOrNothing;

impl Write for StderrOrNothing {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::stderr().write_all(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = std::io::stderr().flush();
        Ok(())
    }
}
