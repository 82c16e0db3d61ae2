//! Test harness: every test gets its own freshly created database (a
//! [`throwaway_pg::ScratchDatabase`], dropped when the test ends) on the server at
//! `DATABASE_URL`, or on a throwaway server this test binary starts once and that disappears
//! when the binary exits.
//!
//! `TEST_LOG=1 cargo test` shows the statement log of every test (add `-- --nocapture` to see
//! it for passing tests too).

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Once;

use bottles::codegen::queries::messages::{Message, count_messages, messages_from_user};
use bottles::codegen::queries::users::count_users;
use bottles::{Client, Database, SeedPlan, UserWithMessages};
use futures::TryStreamExt;
use throwaway_pg::ScratchDatabase;

/// The server every database of this test binary is created on.
pub fn admin_url() -> &'static str {
    throwaway_pg::env_or_shared_server("DATABASE_URL")
}

/// With `TEST_LOG` set, the statement log of every connection opened from now on goes to the
/// test's output.
pub fn init_test_log() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            let filter = format!("{}=info", bottles::LOG_TARGET);
            tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_test_writer()
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
                .init();
        }
    });
}

/// A fresh, empty database of this test's own.
pub struct TestDb {
    pub name: String,
    pub url: String,
    pub db: Database,
    /// Declared last: the pool's connections close before the database is dropped.
    _scratch: ScratchDatabase,
}

impl TestDb {
    pub async fn empty() -> Self {
        init_test_log();
        let scratch = ScratchDatabase::create(admin_url(), "bottles_test").expect("create db");
        let (name, url) = (scratch.name().to_string(), scratch.url().to_string());
        let db = bottles::open(Some(&url))
            .await
            .expect("open the test database");
        Self {
            name,
            url,
            db,
            _scratch: scratch,
        }
    }

    /// A database after `bottles reset` and `bottles seed`.
    pub async fn seeded() -> Self {
        let test = Self::empty().await;
        let mut client = test.client().await;
        bottles::reset(&mut client).await.expect("reset");
        bottles::seed(&mut client, &SeedPlan::notebook())
            .await
            .expect("seed");
        drop(client);
        test
    }

    pub async fn client(&self) -> Client {
        self.db.client().await.expect("a pooled connection")
    }

    /// message's constraints and indexes as the server has them now, sorted.
    pub async fn message_keys(&self) -> Vec<String> {
        let sql = "SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint \
                   WHERE conrelid = 'message'::regclass \
                   UNION ALL SELECT indexdef FROM pg_indexes WHERE tablename = 'message'";
        let rows = self.client().await.query(sql, &[]).await.unwrap();
        let mut keys: Vec<String> = rows.iter().map(|row| row.get(0)).collect();
        keys.sort();
        keys
    }

    /// The tables of the public schema now, but the migration history, sorted.
    pub async fn tables(&self) -> Vec<String> {
        let sql = "SELECT tablename::text FROM pg_tables \
                   WHERE schemaname = 'public' AND tablename <> 'bottles_migrations'";
        let rows = self.client().await.query(sql, &[]).await.unwrap();
        let mut tables: Vec<String> = rows.iter().map(|row| row.get(0)).collect();
        tables.sort();
        tables
    }

    /// (users, messages) in the tables now.
    pub async fn counts(&self) -> (i64, i64) {
        counts(&self.client().await).await
    }
}

/// message's constraints and indexes as `migrations/schema.json` (what schema.sql and the
/// migrations built into the binary produce) declares them, in [`TestDb::message_keys`]'s form:
/// the expectation follows a change to schema.sql instead of hard-coding today's.
pub fn declared_message_keys() -> Vec<String> {
    let message = bottles::expected_schema()
        .table("message")
        .expect("schema.sql declares message");
    let mut keys = Vec::new();
    for constraint in &message.constraints {
        keys.push(format!("{} {}", constraint.name, constraint.definition));
        keys.extend(constraint.index.clone());
    }
    keys.extend(message.indexes.iter().map(|index| index.definition.clone()));
    keys.sort();
    keys
}

/// The tables `migrations/schema.json` declares, by name, sorted.
pub fn declared_tables() -> Vec<String> {
    let tables = bottles::expected_schema().tables.iter();
    let mut names: Vec<String> = tables.map(|table| table.name.clone()).collect();
    names.sort();
    names
}

/// The latest migration built into the binary: where `reset` records the database.
pub fn latest_migration() -> String {
    let set = bottles::migrations().expect("well-named migration files");
    set.latest().expect("at least the baseline").label()
}

/// `bottles::reset`, then the notebook's seed, on one pooled connection of `db`.
pub async fn reset_and_seed(db: &Database) {
    let mut client = db.client().await.expect("a pooled connection");
    bottles::reset(&mut client).await.expect("reset");
    bottles::seed(&mut client, &SeedPlan::notebook())
        .await
        .expect("seed");
}

/// The generated `count_users` and `count_messages`.
pub async fn counts(client: &Client) -> (i64, i64) {
    let users = count_users().bind(client).one().await.unwrap();
    let messages = count_messages().bind(client).one().await.unwrap();
    (users, messages)
}

/// Every user with every message, through the streamed joined load.
pub async fn joined(client: &Client) -> Vec<UserWithMessages> {
    let users = bottles::users_with_messages(client).try_collect().await;
    users.expect("the joined load")
}

/// The generated `messages_from_user`: the notebook's `Message.afrom_user`.
pub async fn messages_from(client: &Client, name: &str) -> Vec<Message> {
    let messages = messages_from_user().bind(client, &name).all().await;
    messages.expect("messages_from_user")
}

/// The libpq variables, none of which a test inherits from whoever runs it.
pub const PG_VARIABLES: [&str; 18] = [
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGDATABASE",
    "PGUSER",
    "PGPASSWORD",
    "PGPASSFILE",
    "PGSERVICE",
    "PGSERVICEFILE",
    "PGSYSCONFDIR",
    "PGSSLMODE",
    "PGSSLROOTCERT",
    "PGSSLCERT",
    "PGSSLKEY",
    "PGOPTIONS",
    "PGAPPNAME",
    "PGCONNECT_TIMEOUT",
    "PGTARGETSESSIONATTRS",
];

/// A `bottles` command with `DATABASE_URL` set to `url` (or unset with `None`), no `RUST_LOG`
/// or `PG*` variables, run from `cwd`, which is also its `HOME` (so no `~/.pgpass` or
/// `~/.postgresql` of the developer's is read).
pub fn bottles_command(
    url: Option<&str>,
    args: impl IntoIterator<Item = impl AsRef<OsStr>>,
    cwd: &Path,
) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bottles"));
    command
        .args(args)
        .current_dir(cwd)
        .env("HOME", cwd)
        .env_remove("DATABASE_URL")
        .env_remove("DATABASE_REPLICA_URLS")
        .env_remove("RUST_LOG");
    for variable in PG_VARIABLES {
        command.env_remove(variable);
    }
    if let Some(url) = url {
        command.env("DATABASE_URL", url);
    }
    command
}

/// Runs `bottles` to completion from an empty directory, so no `.env` of the developer's is
/// picked up.
pub fn bottles(url: Option<&str>, args: &[&str]) -> Output {
    let cwd = tempfile::tempdir().unwrap();
    let output = bottles_command(url, args, cwd.path()).output();
    output.expect("run bottles")
}

/// What every failure of the binary looks like: one line on stderr, `error: …`, no panic.
pub fn assert_one_line_error(err: &str, what: &str) {
    assert!(err.starts_with("error: "), "{what}\n{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {what}\n{err}");
    assert!(!err.contains("panicked"), "{what}\n{err}");
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// Eli's first five messages in the notebook: ids 2, 5, …, 14 with 98, 95, … 86 bottles.
pub fn assert_elis_first_five(messages: &[Message]) {
    assert_eq!(ids(messages), [2, 5, 8, 11, 14]);
    assert_eq!(contents(messages), bottles_of([98, 95, 92, 89, 86]));
}

pub fn contents(messages: &[Message]) -> Vec<&str> {
    messages.iter().map(|m| m.content.as_str()).collect()
}

pub fn ids(messages: &[Message]) -> Vec<i32> {
    messages.iter().map(|m| m.id).collect()
}

pub fn bottles_of<const N: usize>(counts: [u32; N]) -> [String; N] {
    counts.map(|i| format!("{i} bottles of beer on the wall..."))
}
