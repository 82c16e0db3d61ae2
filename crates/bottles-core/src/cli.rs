//! What command-line programs built on bottles-core share (feature `cli`): the database flags,
//! `.env` loading, the statement log on stderr, one-line errors and usage errors. `bottles`
//! and `bottles-web` both use it; a library leaves the feature off and pulls in none of clap,
//! dotenvy or tracing-subscriber.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use clap::parser::ValueSource;
use tracing::Subscriber;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::{Database, PoolOptions, Result};

/// The database flags: `--database-url`, `--replica-url`, timeouts, `--echo`.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL URL (postgres://user@host:port/dbname) or key=value string; PG* variables fill in the rest
    #[arg(
        long,
        env = "DATABASE_URL",
        hide_env_values = true,
        global = true,
        help_heading = "Database options",
        value_name = "URL"
    )]
    pub database_url: Option<String>,

    /// A read replica: reads go there (bottles' query steps, bottles-web's GETs), writes stay on the primary (repeat for more; DATABASE_REPLICA_URLS takes a comma-separated list)
    #[arg(
        long = "replica-url",
        env = "DATABASE_REPLICA_URLS",
        hide_env_values = true,
        value_delimiter = ',',
        global = true,
        help_heading = "Database options",
        value_name = "URL"
    )]
    pub replica_urls: Vec<String>,

    /// Give up connecting after this long (e.g. 10s, 500ms; a plain number is seconds)
    #[arg(long, global = true, help_heading = "Database options", env = "BOTTLES_CONNECT_TIMEOUT", hide_env_values = true,
          value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub connect_timeout: Duration,

    /// Have the server cancel any statement running longer than this (0: no limit)
    #[arg(long, global = true, help_heading = "Database options", env = "BOTTLES_STATEMENT_TIMEOUT", hide_env_values = true,
          value_name = "DURATION", default_value = "0", value_parser = parse_statement_timeout)]
    pub statement_timeout: Duration,

    /// Log every statement with its parameters and elapsed time to stderr (like SQLAlchemy's echo=True)
    #[arg(long, global = true, help_heading = "Database options")]
    pub echo: bool,
}

impl DatabaseArgs {
    /// What to log on stderr: bottles' warnings, and with `--echo` the statement log.
    pub fn log_directives(&self) -> Vec<String> {
        let mut directives = vec!["bottles=warn".to_string()];
        if self.echo {
            directives.push(format!("{}=info", crate::LOG_TARGET));
        }
        directives
    }

    /// One line on stderr when `--database-url` was given on the command line with a password
    /// in it: other users of the machine can read it in the process list.
    pub fn warn_if_password_in_arguments(&self, matches: &clap::ArgMatches) {
        let on_command_line = |id| matches.value_source(id) == Some(ValueSource::CommandLine);
        let has_password = |url: &String| crate::ConnectOptions::has_password(url);
        let exposed = [
            (
                "--database-url",
                "database_url",
                self.database_url.as_slice(),
            ),
            (
                "--replica-url",
                "replica_urls",
                self.replica_urls.as_slice(),
            ),
        ];
        for (flag, id, urls) in exposed {
            if on_command_line(id) && urls.iter().any(has_password) {
                say(&format!(
                    "warning: a password in {flag} is visible to other users of this machine \
                     (in the process list); use PGPASSWORD, ~/.pgpass, or DATABASE_URL in the environment or .env"
                ));
            }
        }
    }

    /// The pool settings these flags ask for, on top of `defaults`.
    pub fn pool_options(&self, defaults: PoolOptions) -> PoolOptions {
        PoolOptions {
            connect_timeout: self.connect_timeout,
            statement_timeout: Some(self.statement_timeout).filter(|limit| !limit.is_zero()),
            ..defaults
        }
    }

    /// Opens the database: the URL given, or a throwaway local server without one; with the
    /// replicas given for reads.
    pub async fn open(&self, defaults: PoolOptions) -> Result<Database> {
        let options = self.pool_options(defaults);
        let url = self.database_url.as_deref();
        // `DATABASE_REPLICA_URLS=` (set but empty) means none.
        let replicas: Vec<&String> = self
            .replica_urls
            .iter()
            .filter(|url| !url.trim().is_empty())
            .collect();
        Database::open_with_replicas(url, &replicas, options).await
    }
}

/// Loads `.env` from the working directory or its parents; a missing file is fine. A broken one
/// is reported without its text, which may hold a password.
pub fn load_dotenv() -> Result<(), String> {
    match dotenvy::dotenv() {
        Ok(_) => Ok(()),
        Err(err) if err.not_found() => Ok(()),
        Err(dotenvy::Error::LineParse(_, position)) => Err(format!(
            "could not parse .env (at character {position} of a line)"
        )),
        Err(err) => Err(format!("could not read .env: {err}")),
    }
}

/// The `tracing` layer that sends the events `directives` select (`target=level`, as in
/// `RUST_LOG`) to stderr, in color on a terminal; its filter is its own, so other layers (an
/// OTLP exporter, say) may see more.
pub fn stderr_log<S>(directives: &[String]) -> impl Layer<S> + Send + Sync + use<S>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    tracing_subscriber::fmt::layer()
        .with_writer(|| StderrOrNothing)
        .with_ansi(std::io::stderr().is_terminal())
        .with_filter(EnvFilter::new(directives.join(",")))
}

/// Installs [`stderr_log`] alone as the process's subscriber. Call once.
pub fn log_to_stderr(directives: &[String]) {
    tracing_subscriber::registry()
        .with(stderr_log(directives))
        .init();
}

/// Prints `error: {message}` on stderr and gives the exit code for a failure (1).
pub fn fail(message: &str) -> ExitCode {
    say(&format!("error: {message}"));
    ExitCode::FAILURE
}

/// Prints `line` on stderr; a closed stderr (`2>&- `, a reader that quit) is not worth a panic.
pub fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// Stderr whose write errors are dropped: tracing-subscriber reports a failed write on stderr
/// with `eprintln!`, which panics when stderr itself is what failed. For a log layer's
/// `with_writer(|| StderrOrNothing)`.
pub struct StderrOrNothing;

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

/// `--help` and `--version` print as usual; a usage error becomes one line on stderr, exit 2.
pub fn usage_error(err: &clap::Error, program: &str) -> ExitCode {
    if !err.use_stderr() {
        let _ = err.print();
        return ExitCode::SUCCESS;
    }
    let rendered = err.render().to_string();
    let mut lines = rendered.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut first = lines
        .next()
        .unwrap_or("error: invalid arguments")
        .to_string();
    // "the following required arguments were not provided:" names them on the next line.
    if first.ends_with(':')
        && let Some(next) = lines.next()
    {
        first = format!("{first} {next}");
    }
    say(&format!("{first} (see `{program} --help`)"));
    ExitCode::from(2)
}

/// `10s`, `500ms`, `2m`, or a plain (possibly fractional) number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    const HINT: &str = "use e.g. 10s, 500ms or 2m";
    let text = text.trim();
    match text.parse::<f64>() {
        Ok(seconds) => Duration::try_from_secs_f64(seconds)
            .map_err(|_| format!("not a duration of zero or more seconds ({HINT})")),
        Err(_) => humantime::parse_duration(text).map_err(|err| format!("{err} ({HINT})")),
    }
}

/// PostgreSQL keeps `statement_timeout` in milliseconds in a 32-bit integer.
fn parse_statement_timeout(text: &str) -> Result<Duration, String> {
    let limit = parse_duration(text)?;
    if limit.as_millis() > i32::MAX as u128 {
        return Err("PostgreSQL allows at most 2147483647ms (about 24 days)".into());
    }
    Ok(limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_units_or_plain_seconds() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        for bad in ["-1", "soon", "", "NaN", "1e300", "10 parsecs"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
        assert!(parse_statement_timeout("30d").is_err());
        assert_eq!(parse_statement_timeout("2m"), Ok(Duration::from_secs(120)));
    }
}
