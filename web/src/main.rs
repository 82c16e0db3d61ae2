//! `bottles-web [--listen ADDR]`: serve the notebook's data over HTTP. With connection settings
//! (DATABASE_URL, PG*, --database-url) it serves what the database holds and never resets it;
//! without, it starts a throwaway PostgreSQL and fills it with the notebook's data first.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use bottles::cli::{DatabaseArgs, say};
use bottles::{PoolOptions, SeedPlan};
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
        default_value = "127.0.0.1:8080"
    )]
    listen: SocketAddr,

    #[command(flatten)]
    database: DatabaseArgs,
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
    let mut directives = args.database.log_directives();
    directives.push(format!("{}=info", bottles_web::ACCESS_LOG_TARGET));
    bottles::cli::log_to_stderr(&directives);
    args.database.warn_if_password_in_arguments(&matches);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => return fail(&format!("could not start the async runtime: {err}")),
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

fn fail(message: &str) -> ExitCode {
    say(&format!("error: {message}"));
    ExitCode::FAILURE
}

async fn run(args: Args) -> Result<(), String> {
    let db = tokio::select! {
        db = args.database.open(PoolOptions::default()) => db.map_err(|err| err.to_string())?,
        () = shutdown_signal() => return Ok(()),
    };
    if let Some(server) = db.local_server() {
        say(&format!(
            "bottles-web: no DATABASE_URL, so serving the notebook's data from a throwaway PostgreSQL at {} (removed on exit)",
            server.url()
        ));
        let mut client = db.client().await.map_err(|err| err.to_string())?;
        bottles::reset(&mut client)
            .await
            .map_err(|err| err.to_string())?;
        let seeded = bottles::seed(&mut client, &SeedPlan::notebook()).await;
        seeded.map_err(|err| err.to_string())?;
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|err| format!("could not listen on {}: {err}", args.listen))?;
    let address = listener.local_addr().map_err(|err| err.to_string())?;
    say(&format!("listening on http://{address}"));
    let served = bottles_web::serve(listener, Arc::new(db), shutdown_signal()).await;
    served.map_err(|err| format!("the server failed: {err}"))
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}
