//! What the service tells its operators: metrics ([`metrics`], served at `/metrics`), the
//! statement spans they are built from ([`statement`]), and the process's `tracing`
//! subscriber ([`init`]): the access log and the statement log on stderr, and the layers that
//! feed the metrics.

pub mod metrics;
pub mod statement;

use std::io::{IsTerminal, Write};

use tracing_subscriber::Layer;
use tracing_subscriber::filter::{EnvFilter, filter_fn};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Installs the process's subscriber: the events `directives` select (`target=level`, as in
/// `RUST_LOG`) on stderr, and the statement spans into the metrics. Call once.
pub fn init(directives: &[String]) {
    let log = tracing_subscriber::fmt::layer()
        .with_writer(|| StderrOrNothing)
        .with_ansi(std::io::stderr().is_terminal())
        .with_filter(EnvFilter::new(directives.join(",")));
    let statements = metrics::StatementMetrics.with_filter(filter_fn(metrics::is_statement));
    tracing_subscriber::registry()
        .with(log)
        .with(statements)
        .init();
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
