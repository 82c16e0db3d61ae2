//! `bottles-web [--listen ADDR]`: serve the notebook's data over HTTP. With connection settings
//! (DATABASE_URL, PG*, --database-url) it serves what the database holds and never resets it;
//! without, it starts a throwaway PostgreSQL and fills it with the notebook's data first.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use bottles::PoolOptions;
use bottles::cli::{DatabaseArgs, fail, parse_duration, say};
use bottles_web::telemetry::{self, LogFormat};
use bottles_web::{Application, ServiceOptions, Tokens};
use clap::{CommandFactory, FromArgMatches, Parser};

/// Serve the notebook's users and messages as JSON over HTTP
#[derive(Debug, Parser)]
#[command(name = "bottles-web", version)]
struct Args {
    /// Address to listen on (port 0: any free port)
    #[arg(
        long,
        value_name = "ADDR",
        env = "BOTTLES_LISTEN",
        hide_env_values = true,
        default_value = "127.0.0.1:8080"
    )]
    listen: SocketAddr,

    /// Threads serving requests [default: half the cores, at least 1]
    #[arg(long, value_name = "N", env = "BOTTLES_THREADS", hide_env_values = true, value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,

    /// Connections shared by all requests for short statements, pipelined [default: half the cores, at least 1]
    #[arg(long, value_name = "N", env = "BOTTLES_SHARED_CONNECTIONS", hide_env_values = true, value_parser = clap::value_parser!(u16).range(1..))]
    shared_connections: Option<u16>,

    /// Most pooled connections, one per request reading a lot (all users, a user's messages, counts) [default: twice the cores]
    #[arg(long, value_name = "N", env = "BOTTLES_POOL_SIZE", hide_env_values = true, value_parser = clap::value_parser!(u16).range(1..))]
    pool_size: Option<u16>,

    /// Answer 503 to a request still waiting on the database after this long
    #[arg(long, value_name = "DURATION", env = "BOTTLES_REQUEST_TIMEOUT", hide_env_values = true, default_value = "30s", value_parser = parse_duration)]
    request_timeout: Duration,

    /// A bearer token POSTs must carry (repeat for more, to rotate one; BOTTLES_WRITE_TOKENS takes a comma-separated list)
    #[arg(
        long,
        value_name = "TOKEN",
        env = "BOTTLES_WRITE_TOKENS",
        hide_env_values = true,
        value_delimiter = ','
    )]
    write_token: Vec<String>,

    /// A bearer token GETs must carry (a write token also reads; /health stays open) [default: GETs are open]
    #[arg(
        long,
        value_name = "TOKEN",
        env = "BOTTLES_READ_TOKENS",
        hide_env_values = true,
        value_delimiter = ','
    )]
    read_token: Vec<String>,

    /// Listen beyond loopback with no write token, letting anyone who reaches the port write
    #[arg(long)]
    allow_anonymous_writes: bool,

    /// How the access log and the statement log are written: text, or one JSON object a line
    #[arg(
        long,
        value_name = "FORMAT",
        env = "BOTTLES_LOG_FORMAT",
        hide_env_values = true,
        default_value = "text"
    )]
    log_format: LogFormat,

    #[command(flatten)]
    database: DatabaseArgs,
}

impl Args {
    /// On the 2-core machine of the benchmarks, one thread and one shared connection served
    /// the most requests, PostgreSQL and the load generator using the other core
    /// (`cargo xtask bench --bench web`); on a bigger host these scale with it.
    fn per_cores(given: Option<u16>, per_two_cores: usize) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        given.map_or((cores * per_two_cores / 2).max(1), usize::from)
    }

    /// The pool as measured, and a server-side statement timeout no longer than the request
    /// timeout: a write stuck behind a lock is cancelled by the server when its request is
    /// answered 503, instead of landing after the client was told to try again.
    fn pool_options(&self) -> PoolOptions {
        let defaults = PoolOptions {
            size: Self::per_cores(self.pool_size, 4),
            shared: Self::per_cores(self.shared_connections, 1),
            wait_timeout: self.request_timeout,
            ..bottles::pool_options()
        };
        let mut options = self.database.pool_options(defaults);
        let limit = options
            .statement_timeout
            .map_or(self.request_timeout, |given| {
                given.min(self.request_timeout)
            });
        options.statement_timeout = Some(limit);
        options
    }
}

fn main() -> ExitCode {
    let dotenv = bottles::cli::load_dotenv();
    let parsed = Args::command()
        .try_get_matches()
        .and_then(|matches| Ok((Args::from_arg_matches(&matches)?, matches)));
    let (args, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(err) => return bottles::cli::usage_error(&err, "bottles-web"),
    };
    if let Err(message) = dotenv {
        return fail(&message);
    }
    args.database.warn_if_password_in_arguments(&matches);
    for flag in ["write_token", "read_token"] {
        if matches.value_source(flag) == Some(clap::parser::ValueSource::CommandLine) {
            say(&format!(
                "warning: --{} is visible to every user of this machine in the process list; prefer {}",
                flag.replace('_', "-"),
                if flag == "write_token" {
                    "BOTTLES_WRITE_TOKENS"
                } else {
                    "BOTTLES_READ_TOKENS"
                }
            ));
        }
    }
    let runtime = match Args::per_cores(args.threads, 1) {
        1 => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        threads => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build(),
    };
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(err) => return fail(&format!("could not start the async runtime: {err}")),
    };
    // Inside the runtime: the spans' exporter runs on it.
    let mut directives = args.database.log_directives();
    directives.push(format!("{}=info", bottles_web::ACCESS_LOG_TARGET));
    directives.push(format!("{SERVICE_TARGET}=info"));
    let telemetry = {
        let _inside = runtime.enter();
        telemetry::init(&directives, args.log_format, "bottles-web")
    };
    let telemetry = match telemetry {
        Ok(telemetry) => telemetry,
        Err(message) => return fail(&message),
    };
    let served = runtime.block_on(async {
        let served = run(args).await;
        telemetry.shutdown().await;
        served
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

async fn run(args: Args) -> Result<(), String> {
    let format = args.log_format;
    // Before anything connects: a refusal should cost nothing.
    let tokens = Tokens::new(&args.write_token, &args.read_token);
    tokens.check_listen(args.listen, args.allow_anonymous_writes)?;
    let db = tokio::select! {
        db = args.database.open(args.pool_options()) => db.map_err(|err| err.to_string())?,
        () = shutdown_signal() => return Ok(()),
    };
    #[cfg(feature = "throwaway")]
    if let Some(server) = db.local_server() {
        announce(
            format,
            &format!(
                "bottles-web: no DATABASE_URL, so serving the notebook's data from a throwaway PostgreSQL at {} (removed on exit)",
                server.url()
            ),
        );
        let filled = bottles_web::fill_with_notebook(&db).await;
        filled.map_err(|err| err.to_string())?;
    }
    let replicas = db.replica_targets();
    if !replicas.is_empty() {
        announce(
            format,
            &format!(
                "bottles-web: reads go to {}, writes to {}",
                replicas.join(", "),
                db.target()
            ),
        );
    }
    let options = ServiceOptions {
        request_timeout: args.request_timeout,
        tokens,
        ..ServiceOptions::default()
    };
    let app = Application::build(db, args.listen, options).await?;
    announce(format, &format!("listening on http://{}", app.address()));
    let served = app.run_until(shutdown_signal()).await;
    served.map_err(|err| format!("the server failed: {err}"))
}

/// A line about the service itself on stderr: as written, or with `--log-format json` as one
/// JSON object (`{"timestamp", "level", "message", "target"}`) like the log's lines.
fn announce(format: LogFormat, line: &str) {
    match format {
        LogFormat::Text => say(line),
        LogFormat::Json => tracing::info!(target: SERVICE_TARGET, "{line}"),
    }
}

/// The `tracing` target of [`announce`]'s lines.
const SERVICE_TARGET: &str = "bottles_web::service";

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
