//! What the service tells its operators: metrics ([`metrics`], served at `/metrics`), traces
//! over OTLP ([`bottles_otlp`]), both built from the statement spans bottles-core opens around every
//! generated query ([`bottles::SPAN_TARGET`]) and the request spans ([`crate::access`]); and
//! the process's `tracing` subscriber ([`init`]): the access log and the statement log on
//! stderr, as text or JSON.

pub mod metrics;

use std::io::IsTerminal;

use bottles::cli::StderrOrNothing;

use bottles_otlp::{Service, Traces};
use tracing_subscriber::filter::{EnvFilter, filter_fn};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

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
    traces: Option<Traces>,
}

impl Telemetry {
    /// Whether spans are exported.
    pub fn traces(&self) -> bool {
        self.traces.is_some()
    }

    /// Sends the spans still buffered (for up to [`bottles_otlp::FLUSH_LIMIT`]: an endpoint
    /// that does not answer must not hold the exit), and stops exporting.
    pub async fn shutdown(self) {
        if let Some(traces) = self.traces {
            traces.shutdown().await;
        }
    }
}

/// Installs the process's subscriber: the events `directives` select (`target=level`, as in
/// `RUST_LOG`) on stderr in `format`, the statement spans into the metrics, and, when the
/// environment asks for it ([`bottles_otlp::settings`]), every span to OTLP as `service`. Call
/// once, inside the runtime that will carry the exports.
pub fn init(
    directives: &[String],
    format: LogFormat,
    service: &'static str,
) -> Result<Telemetry, String> {
    let service = Service {
        name: service,
        version: env!("CARGO_PKG_VERSION"),
    };
    let traces = Traces::from_env(service, |name| std::env::var(name).ok())?;
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
    let spans = traces.as_ref().map(Traces::layer);
    tracing_subscriber::registry()
        .with(log)
        .with(statements)
        .with(spans)
        .try_init()
        .map_err(|err| format!("could not install the log: {err}"))?;
    Ok(Telemetry { traces })
}
