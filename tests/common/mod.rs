//! Test harness: every test gets its own freshly created database (random name, dropped when
//! the test ends) on the server at `DATABASE_URL`, or on a throwaway server this test binary
//! starts once and that disappears when the binary exits.

#![allow(dead_code)] // each test binary uses its own part of the harness

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

use bottles::{Database, SeedPlan};
use tokio_postgres::NoTls;

/// The server every database of this test binary is created on.
pub fn admin_url() -> &'static str {
    throwaway_pg::env_or_shared_server("DATABASE_URL")
}

async fn admin_client() -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(admin_url(), NoTls)
        .await
        .expect("connect as admin");
    tokio::spawn(connection);
    client
}

/// A fresh, empty database of this test's own.
pub struct TestDb {
    pub name: String,
    pub url: String,
    pub db: Database,
}

impl TestDb {
    pub async fn empty() -> Self {
        let name = format!("bottles_test_{:016x}", rand::random::<u64>());
        admin_client()
            .await
            .batch_execute(&format!(r#"CREATE DATABASE "{name}""#))
            .await
            .expect("create db");
        let url = bottles::db::with_database(admin_url(), &name);
        let db = Database::open(Some(&url))
            .await
            .expect("open the test database");
        Self { name, url, db }
    }

    /// A database after `bottles reset` and `bottles seed`.
    pub async fn seeded() -> Self {
        let test = Self::empty().await;
        let mut client = test.db.client().await.unwrap();
        bottles::reset(&mut client).await.expect("reset");
        bottles::seed(&mut client, &SeedPlan::notebook())
            .await
            .expect("seed");
        drop(client);
        test
    }

    pub async fn client(&self) -> deadpool_postgres::Client {
        self.db.client().await.expect("a pooled connection")
    }

    /// message's constraints and indexes as the catalog defines them, sorted.
    pub async fn message_keys(&self) -> Vec<String> {
        let sql = "SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint \
                   WHERE conrelid = 'message'::regclass \
                   UNION ALL SELECT indexdef FROM pg_indexes WHERE tablename = 'message' \
                   ORDER BY 1";
        let rows = self.client().await.query(sql, &[]).await.unwrap();
        rows.iter().map(|row| row.get(0)).collect()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop runs outside any async context we could borrow, so use a short-lived runtime.
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let sql = format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#);
                admin_client().await.batch_execute(&sql).await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("warning: could not drop test database {}", self.name);
        }
    }
}

/// A `bottles` command with `DATABASE_URL` set to `url` (or unset with `None`), no `RUST_LOG`,
/// run from `cwd`.
pub fn bottles_command(
    url: Option<&str>,
    args: impl IntoIterator<Item = impl AsRef<OsStr>>,
    cwd: &Path,
) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bottles"));
    command
        .args(args)
        .current_dir(cwd)
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG");
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
