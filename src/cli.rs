//! The `bottles` command line: parse, open the database, run the steps, print, exit.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::seed::{MAX_ROWS, NOTEBOOK_MESSAGES, NOTEBOOK_NAMES};
use crate::{Database, PoolOptions, SeedPlan, echo, reset, run_query_cells, seed_with_progress};

const ABOUT: &str = "Reset, seed and query the notebook's users and messages in PostgreSQL";

const LONG_ABOUT: &str = "\
Reset, seed and query the notebook's users and messages in PostgreSQL.

With no DATABASE_URL (in the environment, a .env file or --database-url), bottles starts a
throwaway local PostgreSQL from the installed server binaries and removes it on exit.";

#[derive(Debug, Parser)]
#[command(name = "bottles", version, about = ABOUT, long_about = LONG_ABOUT)]
pub struct Cli {
    /// PostgreSQL URL (postgres://user:password@host:port/dbname) or key=value string
    #[arg(
        long,
        env = "DATABASE_URL",
        hide_env_values = true,
        global = true,
        help_heading = "Global options",
        value_name = "URL"
    )]
    database_url: Option<String>,

    /// Give up connecting after this long (e.g. 10s, 500ms; a plain number is seconds)
    #[arg(long, global = true, help_heading = "Global options", env = "BOTTLES_CONNECT_TIMEOUT", value_name = "DURATION",
          default_value = "10s", value_parser = parse_duration)]
    connect_timeout: Duration,

    /// Have the server cancel any statement running longer than this (0: no limit)
    #[arg(long, global = true, help_heading = "Global options", env = "BOTTLES_STATEMENT_TIMEOUT", value_name = "DURATION",
          default_value = "0", value_parser = parse_statement_timeout)]
    statement_timeout: Duration,

    /// Log every statement with its parameters and elapsed time to stderr (like SQLAlchemy's echo=True)
    #[arg(long, global = true, help_heading = "Global options")]
    echo: bool,

    /// Print results as JSON on stdout instead of text
    #[arg(long, global = true, help_heading = "Global options")]
    json: bool,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Reset, seed and query: the whole notebook (the default)
    Run(RunArgs),
    /// Drop and recreate the tables from schema.sql, in one transaction
    Reset,
    /// Insert the notebook's 3 users and 100 messages (or --users/--messages); refused unless the tables are empty
    Seed(SeedArgs),
    /// Run the notebook's query cells
    Query(QueryArgs),
}

/// The user the notebook's last two cells look up, for `query`, `run` and plain `bottles`.
const DEFAULT_USER: &str = "Eli";

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    seed: SeedArgs,
    #[command(flatten)]
    query: QueryArgs,
}

#[derive(Debug, Args)]
struct SeedArgs {
    /// Users to insert: Nick, Eli and Paul first, then "User 4", "User 5", ...
    #[arg(long, value_name = "N", default_value_t = NOTEBOOK_NAMES.len() as u32,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_ROWS)))]
    users: u32,

    /// Messages to insert, "{i} bottles of beer on the wall..." down to 0, dealt to the users in turn
    #[arg(long, value_name = "M", default_value_t = NOTEBOOK_MESSAGES,
          value_parser = clap::value_parser!(u32).range(0..=i64::from(MAX_ROWS)))]
    messages: u32,
}

#[derive(Debug, Args)]
struct QueryArgs {
    /// The user name the chained filter and Message.afrom_user look up
    #[arg(long, value_name = "NAME", default_value = DEFAULT_USER,
          value_parser = clap::builder::NonEmptyStringValueParser::new())]
    user: String,
}

/// Exit status for Ctrl-C, by shell convention 128 + SIGINT.
const INTERRUPTED: u8 = 130;

pub fn main() -> ExitCode {
    let dotenv = load_dotenv();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage_error(&err),
    };
    if let Err(message) = dotenv {
        return fail(&message);
    }
    if cli.echo {
        let filter = tracing_subscriber::EnvFilter::new(format!("{}=info", echo::TARGET));
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .init();
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => return fail(&format!("could not start the async runtime: {err}")),
    };
    let outcome = runtime.block_on(async {
        tokio::select! {
            outcome = run(cli) => outcome,
            // Dropping `run` drops its Database: open transactions roll back, a local server stops.
            _ = tokio::signal::ctrl_c() => Err(Error::Interrupted),
        }
    });
    match outcome {
        Ok(output) => match writeln!(std::io::stdout().lock(), "{output}") {
            // A reader that stopped early (`bottles | head`) is not an error.
            Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => {
                fail(&format!("could not write the output: {err}"))
            }
            _ => ExitCode::SUCCESS,
        },
        Err(Error::Interrupted) => {
            eprintln!("bottles: interrupted");
            ExitCode::from(INTERRUPTED)
        }
        Err(err) => fail(&err.to_string()),
    }
}

/// `--help` and `--version` print as usual; a usage error becomes one line on stderr, exit 2.
fn usage_error(err: &clap::Error) -> ExitCode {
    if !err.use_stderr() {
        let _ = err.print();
        return ExitCode::SUCCESS;
    }
    let rendered = err.render().to_string();
    let first = rendered
        .lines()
        .next()
        .unwrap_or("error: invalid arguments");
    eprintln!("{first} (see `bottles --help`)");
    ExitCode::from(2)
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

/// Loads `.env` from the working directory or its parents; a missing file is fine. A broken one
/// is reported without its text, which may hold a password.
fn load_dotenv() -> Result<(), String> {
    match dotenvy::dotenv() {
        Ok(_) => Ok(()),
        Err(err) if err.not_found() => Ok(()),
        Err(dotenvy::Error::LineParse(_, position)) => Err(format!(
            "could not parse .env (at character {position} of a line)"
        )),
        Err(err) => Err(format!("could not read .env: {err}")),
    }
}

/// `10s`, `500ms`, `2m`, or a plain (possibly fractional) number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
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

/// Runs the chosen steps and returns what to print.
async fn run(cli: Cli) -> Result<String> {
    let options = PoolOptions {
        connect_timeout: cli.connect_timeout,
        statement_timeout: Some(cli.statement_timeout).filter(|limit| !limit.is_zero()),
        ..PoolOptions::default()
    };
    let db = Database::open_with(cli.database_url.as_deref(), options).await?;
    let command = cli.command.unwrap_or(Command::Run(RunArgs {
        seed: SeedArgs {
            users: NOTEBOOK_NAMES.len() as u32,
            messages: NOTEBOOK_MESSAGES,
        },
        query: QueryArgs {
            user: DEFAULT_USER.into(),
        },
    }));
    if let Some(server) = db.local_server() {
        eprintln!(
            "bottles: no DATABASE_URL, so using a throwaway PostgreSQL at {} (removed on exit)",
            server.url()
        );
        if !matches!(command, Command::Run(_)) {
            eprintln!(
                "bottles: each run gets a new, empty server; plain `bottles` runs all three steps"
            );
        }
    }
    let mut client = db.client().await?;
    let (text, json) = match command {
        Command::Reset => {
            let report = reset(&mut client).await?;
            (report.to_string(), to_json(&report))
        }
        Command::Seed(args) => {
            let report = seed_showing_progress(&mut client, &args, !cli.json).await?;
            (report.to_string(), to_json(&report))
        }
        Command::Query(args) => {
            let report = run_query_cells(&client, &args.user).await?;
            (report.to_string(), to_json(&report))
        }
        Command::Run(args) => {
            let reset = reset(&mut client).await?;
            let seed = seed_showing_progress(&mut client, &args.seed, !cli.json).await?;
            let query = run_query_cells(&client, &args.query.user).await?;
            let text = format!("{reset}\n{seed}\n\n{query}");
            (text, to_json(&RunReport { reset, seed, query }))
        }
    };
    Ok(if cli.json {
        json
    } else {
        text.trim_end().to_string()
    })
}

/// Seeds, with a progress bar on stderr when `show` and stderr is a terminal.
async fn seed_showing_progress(
    client: &mut deadpool_postgres::Client,
    args: &SeedArgs,
    show: bool,
) -> Result<crate::SeedReport> {
    let plan = SeedPlan::new(args.users, args.messages)?;
    let bar = if show && std::io::stderr().is_terminal() {
        ProgressBar::new(0).with_style(
            ProgressStyle::with_template(
                "seed [{bar:30}] {human_pos}/{human_len} rows  {elapsed}, eta {eta}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        )
    } else {
        ProgressBar::hidden()
    };
    let report = seed_with_progress(client, &plan, |progress| {
        bar.set_length(progress.rows_total);
        bar.set_position(progress.rows_done);
    })
    .await;
    bar.finish_and_clear();
    report
}

/// `bottles run --json`: one document with each step's result.
#[derive(Serialize)]
struct RunReport {
    reset: crate::ResetReport,
    seed: crate::SeedReport,
    query: crate::QueryReport,
}

fn to_json(report: &impl Serialize) -> String {
    serde_json::to_string(report).expect("reports hold only strings and numbers")
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
