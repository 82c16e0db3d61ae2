//! The command line: subcommands and their flags.

use std::time::Duration;

use bottles::SeedPlan;
use bottles::cli::DatabaseArgs;
use clap::{Args, Parser, Subcommand};

const ABOUT: &str = "Reset, seed and query the notebook's users and messages in PostgreSQL";

const LONG_ABOUT: &str = "\
Reset, seed and query the notebook's users and messages in PostgreSQL.

Connection settings are read as psql reads them: DATABASE_URL (in the environment, a .env file
or --database-url), completed by the PG* variables and ~/.pgpass. With neither DATABASE_URL nor
PGHOST, PGHOSTADDR, PGDATABASE or PGSERVICE, bottles starts a throwaway local PostgreSQL from the
installed server binaries and removes it on exit.";

/// The user the notebook's last two cells look up, for `query`, `run` and plain `bottles`.
pub const DEFAULT_USER: &str = "Eli";

#[derive(Debug, Parser)]
#[command(name = "bottles", version, about = ABOUT, long_about = LONG_ABOUT)]
pub struct Cli {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Print results as JSON on stdout instead of text (not for migrate)
    #[arg(long, global = true, help_heading = "Output")]
    pub json: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Reset, seed and query: the whole notebook (the default)
    Run(RunArgs),
    /// Drop and recreate the tables from schema.sql, in one transaction, at the latest migration
    Reset,
    /// Insert the notebook's 3 users and 100 messages (or --users/--messages); refused unless the tables are empty
    Seed(SeedArgs),
    /// Run the notebook's query cells
    Query(QueryArgs),
    /// Apply the pending migrations (built into this binary), each once; `status` lists them, `check` reports drift, `resolve` settles a half-applied one
    Migrate(MigrateArgs),
}

impl Command {
    /// The subcommand's name, as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Run(_) => "run",
            Command::Reset => "reset",
            Command::Seed(_) => "seed",
            Command::Query(_) => "query",
            Command::Migrate(_) => "migrate",
        }
    }
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Print what would run, change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Wait at most this long for another deploy's migration lock, then give up (e.g. 10m, 30s)
    #[arg(long, global = true, value_name = "DURATION", default_value = "10m",
          value_parser = bottles::cli::parse_duration)]
    pub lock_wait: Duration,

    #[command(subcommand)]
    pub action: Option<MigrateAction>,
}

#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// List the applied and the pending migrations; exit 1 if a file is half-applied or refused
    Status,
    /// Compare the database with the schema the migrations produce: exit 1 listing each
    /// difference, 3 while migrations are pending
    Check,
    /// Settle a no-transaction migration that stopped half-way, once finished or undone by hand
    Resolve(ResolveArgs),
    /// Adopt a database whose tables were made before migrations: record the files up to the
    /// version whose schema it has (checked like `check`), so `bottles migrate` goes on from there
    Baseline(BaselineArgs),
}

#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// The version the database is at (3 or 0003); by default the earliest whose schema it has.
    /// Refused unless its schema is exactly that version's
    #[arg(long, value_name = "VERSION")]
    pub version: Option<u32>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("outcome").required(true).args(["applied", "rolled_back"])))]
pub struct ResolveArgs {
    /// The migration's version (3 or 0003)
    pub version: u32,

    /// You finished its remaining statements by hand: record it as applied
    #[arg(long)]
    pub applied: bool,

    /// You undid what it did by hand: forget it, so `bottles migrate` runs it again from the start
    #[arg(long)]
    pub rolled_back: bool,
}

impl Command {
    /// Plain `bottles`: the whole notebook with its own data.
    pub fn notebook() -> Self {
        let plan = SeedPlan::notebook();
        Command::Run(RunArgs {
            seed: SeedArgs {
                users: plan.user_count(),
                messages: plan.message_count(),
            },
            query: QueryArgs {
                user: DEFAULT_USER.into(),
            },
        })
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub seed: SeedArgs,
    #[command(flatten)]
    pub query: QueryArgs,
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// Users to insert: Nick, Eli and Paul first, then "User 4", "User 5", ...
    #[arg(long, value_name = "N", default_value_t = SeedPlan::notebook().user_count(),
          value_parser = clap::value_parser!(u32).range(1..=i64::from(SeedPlan::MAX_ROWS)))]
    pub users: u32,

    /// Messages to insert, "{i} bottles of beer on the wall..." down to 0, dealt to the users in turn
    #[arg(long, value_name = "M", default_value_t = SeedPlan::notebook().message_count(),
          value_parser = clap::value_parser!(u32).range(0..=i64::from(SeedPlan::MAX_ROWS)))]
    pub messages: u32,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The user name the chained filter and Message.afrom_user look up
    #[arg(long, value_name = "NAME", default_value = DEFAULT_USER,
          value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub user: String,
}
