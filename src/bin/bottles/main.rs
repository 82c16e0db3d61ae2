//! `bottles`: reset, seed and query the notebook's users and messages from the command line.
//! Parses, opens the database, runs the steps, prints, and turns every error into one line and
//! an exit code: 0 success, 1 an error, 2 a usage error, 130 Ctrl-C.

mod args;
mod cells;
mod failed;
mod migrate;
mod progress;
mod report;
mod telemetry;

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use bottles::cli::{fail, say};
use bottles::{Database, Error};
use clap::{CommandFactory, FromArgMatches};
use serde::Serialize;
use tracing::Instrument;

use args::{Cli, Command};
use failed::Failed;
use progress::seed_showing_progress;

/// Exit status for Ctrl-C, by shell convention 128 + SIGINT.
const INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    let dotenv = bottles::cli::load_dotenv();
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|matches| Ok((Cli::from_arg_matches(&matches)?, matches)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(err) => return bottles::cli::usage_error(&err, usage_of()),
    };
    if let Err(message) = dotenv {
        return fail(&message);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => return fail(&format!("could not start the async runtime: {err}")),
    };
    // The exports run on this runtime.
    let entered = runtime.enter();
    let traces = match telemetry::start(&cli.database.log_directives()) {
        Ok(traces) => traces,
        Err(message) => return fail(&message),
    };
    drop(entered);
    cli.database.warn_if_password_in_arguments(&matches);
    // One trace per run: the statements' spans under the command's.
    let name = cli.command.as_ref().map_or("run", Command::name);
    let span = tracing::info_span!(
        "command",
        otel.name = format!("bottles {name}"),
        otel.kind = "internal"
    );
    let outcome = runtime.block_on(async {
        tokio::select! {
            outcome = run(cli).instrument(span) => Some(outcome),
            // Dropping `run` drops its Database: open transactions roll back, a local server stops.
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    if let Some(traces) = traces {
        runtime.block_on(traces.shutdown());
    }
    match outcome {
        Some(Ok(output)) if output.is_empty() => ExitCode::SUCCESS,
        Some(Ok(output)) => match writeln!(std::io::stdout().lock(), "{output}") {
            // A reader that stopped early (`bottles | head`) is not an error.
            Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => {
                fail(&format!("could not write the output: {err}"))
            }
            _ => ExitCode::SUCCESS,
        },
        Some(Err(Failed { message, code: 1 })) => fail(&message),
        Some(Err(Failed { message, code })) => {
            say(&format!("error: {message}"));
            ExitCode::from(code)
        }
        None => {
            say("bottles: interrupted");
            ExitCode::from(INTERRUPTED)
        }
    }
}

/// The command whose `--help` a usage error points to: `bottles migrate` for its subcommands,
/// whose flags `bottles --help` does not list.
fn usage_of() -> &'static str {
    let parsed = Cli::command().ignore_errors(true).try_get_matches();
    match parsed.ok().as_ref().and_then(|m| m.subcommand_name()) {
        Some("migrate") => "bottles migrate",
        _ => "bottles",
    }
}

/// Opens the database, runs the chosen steps and returns what to print, or the error's line.
async fn run(mut cli: Cli) -> Result<String, Failed> {
    let command = cli.command.take().unwrap_or_else(Command::notebook);
    if matches!(command, Command::Migrate(_)) && cli.json {
        return Err(Failed {
            message: "--json is not supported by bottles migrate, whose output is text (see \
                      `bottles migrate --help`)"
                .into(),
            code: 2,
        });
    }
    if matches!(command, Command::Migrate(_)) {
        // A migration runs as long as it needs: cut half-way, a no-transaction file is left
        // half-applied (and CREATE INDEX CONCURRENTLY leaves an INVALID index).
        cli.database.statement_timeout = Duration::ZERO;
    }
    let db = cli.database.open(bottles::pool_options()).await;
    let db = db.map_err(|err| err.to_string())?;
    if let Some(server) = db.local_server() {
        say(&format!(
            "bottles: no DATABASE_URL, so using a throwaway PostgreSQL at {} (removed on exit)",
            server.url()
        ));
        if !matches!(command, Command::Run(_)) {
            say("bottles: each run gets a new, empty server; plain `bottles` runs all three steps");
        }
    }
    if let Command::Migrate(args) = &command {
        return migrate::run(&db, args).await;
    }
    let output = run_steps(&db, command, cli.json).await;
    output.map_err(|err| with_hint(&err, &db).into())
}

async fn run_steps(db: &Database, command: Command, json: bool) -> bottles::Result<String> {
    let (text, json_text) = match command {
        Command::Reset => {
            let mut client = db.client().await?;
            let reset = bottles::reset(&mut client).await?;
            (report::reset_line(&reset), to_json(&reset))
        }
        Command::Seed(args) => {
            let mut client = db.client().await?;
            let seed = seed_showing_progress(&mut client, &args, !json).await?;
            (report::seed_line(&seed), to_json(&seed))
        }
        Command::Query(args) => {
            let query = read_query_cells(db, &args.user).await?;
            (query.to_string(), to_json(&query))
        }
        Command::Run(args) => {
            let mut client = db.client().await?;
            let reset = bottles::reset(&mut client).await?;
            let seed = seed_showing_progress(&mut client, &args.seed, !json).await?;
            drop(client);
            db.wrote().await?;
            let query = read_query_cells(db, &args.query.user).await?;
            let text = format!(
                "{}\n{}\n\n{query}",
                report::reset_line(&reset),
                report::seed_line(&seed)
            );
            (text, to_json(&RunReport { reset, seed, query }))
        }
        Command::Migrate(_) => unreachable!("handled in run"),
    };
    Ok(if json {
        json_text
    } else {
        text.trim_end().to_string()
    })
}

/// The query cells, on a replica when there is one that has everything this run wrote.
async fn read_query_cells(db: &Database, user: &str) -> bottles::Result<cells::QueryReport> {
    db.read(async |db| cells::read_only(&mut db.client().await?, user).await)
        .await
}

/// The error's line, with what to do next when the command line can tell.
fn with_hint(err: &Error, db: &Database) -> String {
    let hint = match err {
        Error::MissingTables(_) | Error::AlreadySeeded { .. } if db.local_server().is_some() => {
            "without DATABASE_URL every run starts an empty server: run plain `bottles` for the \
             whole pipeline, or set DATABASE_URL to keep data between runs"
        }
        Error::MissingTables(_) => "run `bottles reset` first",
        Error::AlreadySeeded { .. } => {
            "run `bottles reset` first, or plain `bottles` to reset, seed and query"
        }
        _ => return err.to_string(),
    };
    format!("{err} ({hint})")
}

/// `bottles run --json`: one document with each step's result.
#[derive(Serialize)]
struct RunReport {
    reset: bottles::ResetReport,
    seed: bottles::SeedReport,
    query: cells::QueryReport,
}

fn to_json(report: &impl Serialize) -> String {
    serde_json::to_string(report).expect("reports hold only strings and numbers")
}
