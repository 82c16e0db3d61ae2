//! Applying a [`MigrationSet`] to a live database: each file once, in version order, recorded in
//! `bottles_migrations` (see `history.sql`), one deploy at a time, also behind a transaction
//! pooler. Nothing is applied when the history disagrees with the files.

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use tokio_postgres::error::SqlState;

use super::MigrateError;
use super::files::{Migration, MigrationSet};
use crate::log::Statements;
use crate::{Client, Database, Error, Result, Transaction, message};

/// How [`migrate`] runs.
#[derive(Debug, Clone, Copy)]
pub struct MigrateOptions {
    /// Report what would run and change nothing, not even create the history table.
    pub dry_run: bool,
    /// How long a statement may wait for a lock before its file fails (a transactional file
    /// is rolled back): while it waits, every query that needs the same table queues behind
    /// it. Set with `SET LOCAL`, so it holds behind a transaction pooler and ends with the
    /// transaction. A no-transaction file's statements each get a transaction of their own
    /// with it, except those PostgreSQL runs only outside one (`CREATE INDEX CONCURRENTLY`),
    /// which keep the server's setting: such a build waits for older transactions without
    /// blocking anyone's reads or writes, and timing it out would leave an invalid index.
    pub lock_timeout: Duration,
}

impl Default for MigrateOptions {
    fn default() -> Self {
        Self {
            dry_run: false,
            lock_timeout: Duration::from_secs(5),
        }
    }
}

/// What [`migrate`] did.
#[derive(Debug, Clone, Default)]
pub struct MigrateReport {
    /// The files applied by this run, in order; empty when all were applied already.
    pub applied: Vec<Applied>,
    /// On a dry run: `(version, name, sql)` of each file that would be applied, in order.
    pub pending_sql: Vec<(u32, String, String)>,
}

/// A file [`migrate`] applied.
#[derive(Debug, Clone)]
pub struct Applied {
    /// Its version.
    pub version: u32,
    /// Its name.
    pub name: String,
    /// How long it took.
    pub duration: Duration,
}

/// The database's history next to the files ([`status`]).
#[derive(Debug, Clone, Default)]
pub struct Status {
    /// The rows of `bottles_migrations`, in version order.
    pub applied: Vec<Recorded>,
    /// `(version, name)` of each file not applied yet, in order.
    pub pending: Vec<(u32, String)>,
    /// Why [`migrate`] would refuse to run, if it would.
    pub refusal: Option<MigrateError>,
}

/// A row of `bottles_migrations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// Its version.
    pub version: u32,
    /// Its name, as the file had it.
    pub name: String,
    /// The checksum of the file's text when it was applied.
    pub checksum: String,
    /// `false` while a no-transaction file runs, and ever after if it stopped half-way.
    pub done: bool,
    /// When it finished (or, not done, started), `YYYY-MM-DD HH:MM:SS UTC`.
    pub applied_at: Option<String>,
    /// How long it took; `None` until done, 0 when recorded by [`record_all_applied`].
    pub duration_ms: Option<i64>,
}

/// How often a deploy that found the lock taken tries again.
const LOCK_POLL: Duration = Duration::from_millis(200);

static HISTORY: LazyLock<Statements> =
    LazyLock::new(|| Statements::from_sources(&[("history.sql", include_str!("history.sql"))]));

/// A statement of `history.sql` (every name is checked by a unit test).
fn sql(name: &str) -> &'static str {
    HISTORY.text(name).expect("a section of history.sql")
}

/// Runs a statement of `history.sql` with its parameters.
async fn run(tx: &tokio_postgres::Transaction<'_>, name: &str, params: &[&Param]) -> Result<()> {
    tx.execute(sql(name), params).await.map(drop).map_err(step)
}

type Param = dyn tokio_postgres::types::ToSql + Sync;

fn step(source: tokio_postgres::Error) -> Error {
    Error::statement("migrate")(source)
}

/// Applies the files of `set` the database does not have yet, in version order, each once.
///
/// Refuses, changing nothing, when an applied file's text changed, when the database has a
/// version `set` lacks, or when a no-transaction file stopped half-way. A file that fails is
/// [`MigrateError::Failed`] and the files after it are not applied. Uses two pooled
/// connections at once: one holds the deploy lock, the other applies.
pub async fn migrate(
    db: &Database,
    set: &MigrationSet,
    options: &MigrateOptions,
) -> Result<MigrateReport> {
    if options.dry_run {
        let history = read_history(&mut db.client().await?).await?;
        refuse(set, &history)?;
        let pending_sql = pending(set, &history)
            .map(|m| (m.version, m.name.clone(), m.sql.clone()))
            .collect();
        return Ok(MigrateReport {
            applied: Vec::new(),
            pending_sql,
        });
    }
    // The lock is a transaction-level advisory lock in a transaction left open for the whole
    // run: an open transaction pins its server connection even behind a transaction pooler,
    // where a session lock would not hold. If this process dies, the server ends the
    // transaction and the lock is gone with it.
    let mut holder = db.client().await?;
    let mut waiting = false;
    loop {
        let lock = holder.transaction().await.map_err(step)?;
        lock.batch_execute(sql("keep_lock_open"))
            .await
            .map_err(step)?;
        // The simple protocol, whose portal ends with the statement: a portal left open (as
        // the extended protocol's is) keeps a snapshot, which `CREATE INDEX CONCURRENTLY`
        // on the other connection would wait for forever.
        let answer = lock.simple_query(sql("try_deploy_lock")).await;
        if answer.map_err(step)?.iter().any(granted) {
            let result = apply_pending(db, set, options).await;
            // Ending the transaction releases the lock; a lost connection already did.
            let _ = lock.rollback().await;
            return result;
        }
        lock.rollback().await.map_err(step)?;
        // Polled rather than waited for: a deploy blocked in the server would pin a pooler's
        // server connection all the while, which could be the one the running deploy needs.
        if !waiting {
            tracing::info!(target: "bottles::migrate", "another deploy is migrating: waiting");
            waiting = true;
        }
        tokio::time::sleep(LOCK_POLL).await;
    }
}

fn granted(message: &tokio_postgres::SimpleQueryMessage) -> bool {
    matches!(message, tokio_postgres::SimpleQueryMessage::Row(row) if row.get(0) == Some("t"))
}

/// Under the deploy lock: checks the history, then applies what is missing.
async fn apply_pending(
    db: &Database,
    set: &MigrationSet,
    options: &MigrateOptions,
) -> Result<MigrateReport> {
    let mut client = db.client().await?;
    client
        .batch_execute(sql("create_table"))
        .await
        .map_err(step)?;
    let history = read_history(&mut client).await?;
    refuse(set, &history)?;
    let mut report = MigrateReport::default();
    for migration in pending(set, &history) {
        let started = Instant::now();
        match migration.outside_transaction {
            false => apply_in_transaction(&mut client, migration, options, started).await?,
            true => apply_outside_transaction(&mut client, migration, options, started).await?,
        }
        let duration = started.elapsed();
        tracing::info!(
            target: "bottles::migrate",
            "applied {} in {} ms", migration.label(), duration.as_millis()
        );
        report.applied.push(Applied {
            version: migration.version,
            name: migration.name.clone(),
            duration,
        });
    }
    Ok(report)
}

/// The file, its lock timeout and its history row in one transaction: a failure or a kill
/// leaves the previous version intact, and the next run applies the file again.
async fn apply_in_transaction(
    client: &mut Client,
    migration: &Migration,
    options: &MigrateOptions,
    started: Instant,
) -> Result<()> {
    let failed = |err: tokio_postgres::Error| failure(migration, message(&err));
    let tx = client.transaction().await.map_err(step)?;
    let lock_timeout = format!("{}ms", options.lock_timeout.as_millis());
    run(&tx, "set_lock_timeout", &[&lock_timeout]).await?;
    if let Err(err) = tx.batch_execute(&migration.sql).await {
        let _ = tx.rollback().await;
        return Err(failed(err));
    }
    let (version, ms) = (db_version(migration), millis(started.elapsed()));
    let (name, checksum) = (&migration.name, &migration.checksum);
    run(&tx, "insert_done", &[&version, name, checksum, &ms]).await?;
    // A deferred constraint fails at commit: that is the file failing too.
    tx.commit().await.map_err(failed)
}

/// Marked 'running' first, so that a run stopped half-way is seen by the next one, which
/// refuses: what the file did so far stays, and only a person can tell what to do about it.
/// Each statement commits on its own (see [`run_alone`]).
async fn apply_outside_transaction(
    client: &mut Client,
    migration: &Migration,
    options: &MigrateOptions,
    started: Instant,
) -> Result<()> {
    let version = db_version(migration);
    let tx = client.transaction().await.map_err(step)?;
    let (name, checksum) = (&migration.name, &migration.checksum);
    run(&tx, "insert_running", &[&version, name, checksum]).await?;
    tx.commit().await.map_err(step)?;
    for statement in migration.statements() {
        run_alone(client, statement, options).await.map_err(|err| {
            let reason = format!(
                "{} (it runs outside a transaction: what it did stays, and bottles_migrations marks it half-applied)",
                message(&err)
            );
            failure(migration, reason)
        })?;
    }
    let tx = client.transaction().await.map_err(step)?;
    let duration = millis(started.elapsed());
    run(&tx, "mark_done", &[&version, &duration]).await?;
    tx.commit().await.map_err(step)
}

/// One statement of a no-transaction file, committed on its own: in a transaction with the
/// lock timeout, or, when PostgreSQL refuses to run it in one (25001, checked before it does
/// anything), alone.
async fn run_alone(
    client: &mut Client,
    statement: &str,
    options: &MigrateOptions,
) -> Result<(), tokio_postgres::Error> {
    let tx = client.transaction().await?;
    let lock_timeout = format!("{}ms", options.lock_timeout.as_millis());
    tx.execute(sql("set_lock_timeout"), &[&lock_timeout])
        .await?;
    match tx.batch_execute(statement).await {
        Ok(()) => tx.commit().await,
        Err(err) if err.code() == Some(&SqlState::ACTIVE_SQL_TRANSACTION) => {
            tx.rollback().await?;
            client.batch_execute(statement).await
        }
        Err(err) => {
            let _ = tx.rollback().await;
            Err(err)
        }
    }
}

/// What the database has next to `set`, without changing anything.
pub async fn status(db: &Database, set: &MigrationSet) -> Result<Status> {
    let applied = read_history(&mut db.client().await?).await?;
    Ok(Status {
        pending: pending(set, &applied)
            .map(|m| (m.version, m.name.clone()))
            .collect(),
        refusal: refuse(set, &applied).err(),
        applied,
    })
}

/// Records every file of `set` as applied (duration 0) in `tx`, replacing any history: for a
/// schema just recreated from `schema.sql`, which is what the files produce.
pub async fn record_all_applied(tx: &Transaction<'_>, set: &MigrationSet) -> Result<()> {
    tx.batch_execute(sql("create_table")).await.map_err(step)?;
    tx.batch_execute(sql("forget_all")).await.map_err(step)?;
    for migration in set {
        let (name, checksum) = (&migration.name, &migration.checksum);
        run(
            tx,
            "insert_done",
            &[&db_version(migration), name, checksum, &0_i64],
        )
        .await?;
    }
    Ok(())
}

/// Drops `bottles_migrations` in `tx`: for a schema that is not what the files produce, so
/// that `bottles migrate` refuses to start from it rather than trusting a wrong history.
pub async fn forget_history(tx: &Transaction<'_>) -> Result<()> {
    tx.batch_execute(sql("drop_table")).await.map_err(step)
}

/// The history rows, or none when there is no history table yet. In a transaction, where
/// statements with parameters work behind a pooler too.
async fn read_history(client: &mut Client) -> Result<Vec<Recorded>> {
    let tx = client.transaction().await.map_err(step)?;
    let exists = tx.query_one(sql("exists"), &[]).await;
    let rows = match exists
        .and_then(|row| row.try_get::<_, bool>(0))
        .map_err(step)?
    {
        true => tx.query(sql("history"), &[]).await.map_err(step)?,
        false => Vec::new(),
    };
    tx.commit().await.map_err(step)?;
    rows.iter().map(recorded).collect()
}

fn recorded(row: &tokio_postgres::Row) -> Result<Recorded> {
    let version: i32 = row.try_get("version").map_err(step)?;
    Ok(Recorded {
        version: u32::try_from(version)
            .map_err(|_| Error::Unexpected(format!("bottles_migrations has version {version}")))?,
        name: row.try_get("name").map_err(step)?,
        checksum: row.try_get("checksum").map_err(step)?,
        done: row.try_get("done").map_err(step)?,
        applied_at: row.try_get("applied_at").map_err(step)?,
        duration_ms: row.try_get("duration_ms").map_err(step)?,
    })
}

/// Why the history and the files disagree, if they do: the first row, in version order, that
/// has no file, stopped half-way, or was applied from a different text.
fn refuse(set: &MigrationSet, history: &[Recorded]) -> Result<(), MigrateError> {
    let problem = history.iter().find_map(|row| {
        let (version, name) = (row.version, row.name.clone());
        match set.get(row.version) {
            None => Some(MigrateError::UnknownVersion { version, name }),
            Some(_) if !row.done => Some(MigrateError::HalfApplied { version, name }),
            Some(file) if file.checksum != row.checksum => {
                let name = file.name.clone();
                Some(MigrateError::ChecksumMismatch { version, name })
            }
            Some(_) => None,
        }
    });
    problem.map_or(Ok(()), Err)
}

fn pending<'a>(
    set: &'a MigrationSet,
    history: &'a [Recorded],
) -> impl Iterator<Item = &'a Migration> {
    set.iter()
        .filter(|m| !history.iter().any(|row| row.version == m.version))
}

fn failure(migration: &Migration, reason: String) -> Error {
    Error::from(MigrateError::Failed {
        version: migration.version,
        name: migration.name.clone(),
        reason,
    })
}

/// A set's versions have 4 digits, so they fit the `integer` column.
fn db_version(migration: &Migration) -> i32 {
    i32::try_from(migration.version).unwrap_or(i32::MAX)
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_statement_is_in_history_sql() {
        let names = "create_table exists history insert_done insert_running mark_done forget_all drop_table \
                     set_lock_timeout keep_lock_open try_deploy_lock";
        let names: Vec<_> = names.split_whitespace().collect();
        for name in &names {
            assert!(!sql(name).is_empty(), "{name}");
        }
        assert_eq!(HISTORY.len(), names.len());
        assert!(sql("insert_done").contains("VALUES ($1, $2, $3, 'done', clock_timestamp(), $4)"));
    }

    #[test]
    fn the_first_disagreeing_row_is_the_refusal() {
        let set =
            MigrationSet::from_files(&[("0001_a.sql", "SELECT 1"), ("0002_b.sql", "")]).unwrap();
        let row = |version: u32, name: &str, checksum: &str, done| Recorded {
            version,
            name: name.into(),
            checksum: checksum.into(),
            done,
            applied_at: None,
            duration_ms: None,
        };
        let a = set.get(1).unwrap().checksum.clone();
        assert_eq!(refuse(&set, &[row(1, "a", &a, true)]), Ok(()));
        assert_eq!(pending(&set, &[row(1, "a", &a, true)]).count(), 1);
        let changed = refuse(&set, &[row(1, "a", "0ld", true)]).unwrap_err();
        assert!(matches!(
            changed,
            MigrateError::ChecksumMismatch { version: 1, .. }
        ));
        let half = refuse(&set, &[row(1, "a", &a, false)]).unwrap_err();
        assert!(matches!(half, MigrateError::HalfApplied { version: 1, .. }));
        let unknown = refuse(&set, &[row(1, "a", &a, true), row(5, "x", "", true)]).unwrap_err();
        assert_eq!(
            unknown.to_string(),
            "the database has migration 0005_x, which this binary does not have: deploy a newer binary"
        );
    }
}
