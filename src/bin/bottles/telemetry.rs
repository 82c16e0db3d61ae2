//! What `bottles` tells besides its output: the log on stderr (`--echo`'s statement log, the
//! warnings), and, when `OTEL_EXPORTER_OTLP_ENDPOINT` asks for them, a span per statement over
//! OTLP, as bottles-web exports them (see `bottles_otlp` for the `OTEL_*` variables).

use bottles_otlp::{Service, Traces};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the process's subscriber; the traces to flush at exit, when exported. Call inside
/// the runtime that will carry the exports.
pub fn start(directives: &[String]) -> Result<Option<Traces>, String> {
    let service = Service {
        name: "bottles",
        version: env!("CARGO_PKG_VERSION"),
    };
    let traces = Traces::from_env(service, |name| std::env::var(name).ok())?;
    tracing_subscriber::registry()
        .with(bottles::cli::stderr_log(directives))
        .with(traces.as_ref().map(Traces::layer))
        .try_init()
        .map_err(|err| format!("could not install the log: {err}"))?;
    Ok(traces)
}
