//! Applying a [`MigrationSet`] to a live database: each file once, in version order, recorded in
//! `bottles_migrations` (see `history.sql`), one deploy at a time, also behind a transaction
//! pooler. Nothing is applied when the history disagrees with the files.

use std::time::{Duration, Instant};

use tokio_postgres::SimpleQueryMessage;
use tokio_postgres::error::SqlState;

use super::files::{Migration, MigrationSet};
use super::history::{self, Recorded, db_version, first_line, pending, refuse, run, sql, step};
use super::lock::with_deploy_lock;
use super::{MigrateError, Progress, StoppedAt};
use crate::{Client, Database, Error, Result, message};

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
    ///
    /// No statement timeout applies to a migration, whatever the pool's
    /// (`PoolOptions::statement_timeout`): cut half-way, a no-transaction file is left
    /// half-applied, and a `CREATE INDEX CONCURRENTLY` leaves an INVALID index.
    pub lock_timeout: Duration,
    /// How long to wait for another deploy's lock before giving up
    /// ([`MigrateError::LockWait`]).
    pub lock_wait: Duration,
}

impl Default for MigrateOptions {
    fn default() -> Self {
        Self {
            dry_run: false,
            lock_timeout: Duration::from_secs(5),
            lock_wait: Duration::from_secs(600),
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

/// Applies the files of `set` the database does not have yet, in version order, each once.
///
/// Refuses, changing nothing, when an applied file's text changed, when the database has a
/// version `set` lacks or a file of another name at a version, or when a no-transaction file
/// stopped half-way. A file that fails is [`MigrateError::Failed`] (or
/// [`MigrateError::FailedAt`] outside a transaction) and the files after it are not applied.
/// Uses two pooled connections at once: one holds the deploy lock, the other applies.
pub async fn migrate(
    db: &Database,
    set: &MigrationSet,
    options: &MigrateOptions,
) -> Result<MigrateReport> {
    migrate_with_progress(db, set, options, |_| {}).await
}

/// [`migrate`], telling `progress` as it goes: waiting for another deploy, each file and each
/// statement of a no-transaction file as it starts, each file once applied.
pub async fn migrate_with_progress(
    db: &Database,
    set: &MigrationSet,
    options: &MigrateOptions,
    mut progress: impl FnMut(Progress<'_>) + Send,
) -> Result<MigrateReport> {
    if options.dry_run {
        let history = history::read(&mut db.client().await?).await?;
        refuse(set, &history)?;
        let pending_sql = pending(set, &history)
            .map(|m| (m.version, m.name.clone(), m.sql.clone()))
            .collect();
        return Ok(MigrateReport {
            applied: Vec::new(),
            pending_sql,
        });
    }
    let work = async |progress: &mut (dyn FnMut(Progress<'_>) + Send)| {
        apply_pending(db, set, options, progress).await
    };
    with_deploy_lock(db, options.lock_wait, &mut progress, work).await
}

/// Under the deploy lock: checks the history, then applies what is missing.
async fn apply_pending(
    db: &Database,
    set: &MigrationSet,
    options: &MigrateOptions,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> Result<MigrateReport> {
    let mut client = db.client().await?;
    history::create(&*client).await?;
    let history = history::read(&mut client).await?;
    refuse(set, &history)?;
    let mut report = MigrateReport::default();
    for (index, migration) in pending(set, &history).enumerate() {
        progress(Progress::Applying { migration });
        let started = Instant::now();
        let outcome = match migration.outside_transaction {
            false => apply_in_transaction(&mut client, migration, options, started).await,
            true => {
                let alone = Alone {
                    options,
                    unprepared: db.runs_unprepared(),
                };
                apply_outside_transaction(&mut client, migration, &alone, started, progress).await
            }
        };
        outcome.map_err(|err| adoption_hint(err, index == 0 && history.is_empty()))?;
        let duration = started.elapsed();
        tracing::info!(
            target: "bottles::migrate",
            "applied {} in {} ms", migration.label(), duration.as_millis()
        );
        progress(Progress::Applied {
            migration,
            duration,
        });
        report.applied.push(Applied {
            version: migration.version,
            name: migration.name.clone(),
            duration,
        });
    }
    Ok(report)
}

/// The first file of a database with no history failing on an object already there: the
/// database was most likely made before migrations, which `baseline` is for.
fn adoption_hint(err: Error, first_ever: bool) -> Error {
    let exists = [
        SqlState::DUPLICATE_TABLE,
        SqlState::DUPLICATE_OBJECT,
        SqlState::DUPLICATE_SCHEMA,
        SqlState::DUPLICATE_FUNCTION,
    ];
    match err {
        Error::Migrate(MigrateError::Failed {
            version,
            name,
            reason,
        }) if first_ever && exists.iter().any(|code| reason.contains(code.code())) => {
            let reason = format!(
                "{reason}; the database has no migration history but already has this \
                 object: if its tables were made before migrations (by schema.sql or another \
                 tool), adopt it with `bottles migrate baseline`"
            );
            MigrateError::Failed {
                version,
                name,
                reason,
            }
            .into()
        }
        err => err,
    }
}

/// The file, its timeouts and its history row in one transaction: a failure or a kill
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
    run(&tx, "set_timeouts", &[&lock_timeout]).await?;
    if let Err(err) = tx.batch_execute(&migration.sql).await {
        let _ = tx.rollback().await;
        return Err(failed(err));
    }
    let (version, ms) = (db_version(migration.version), millis(started.elapsed()));
    let (name, checksum) = (&migration.name, &migration.checksum);
    run(&tx, "insert_done", &[&version, name, checksum, &ms]).await?;
    // A deferred constraint fails at commit: that is the file failing too.
    tx.commit().await.map_err(failed)
}

/// Marked 'running' first, so that a run stopped half-way is seen by the next one, which
/// refuses: what the file did so far stays, and only a person can tell what to do about it.
/// Each statement commits on its own (see [`run_alone`]), its count with it.
async fn apply_outside_transaction(
    client: &mut Client,
    migration: &Migration,
    alone: &Alone<'_>,
    started: Instant,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> Result<()> {
    let version = db_version(migration.version);
    let tx = client.transaction().await.map_err(step)?;
    let (name, checksum) = (&migration.name, &migration.checksum);
    run(&tx, "insert_running", &[&version, name, checksum]).await?;
    tx.commit().await.map_err(step)?;
    let statements = migration.statements();
    for (index, statement) in statements.iter().enumerate() {
        let (number, of) = (index + 1, statements.len());
        progress(Progress::Statement {
            migration,
            number,
            of,
            statement,
        });
        let done = i32::try_from(number).unwrap_or(i32::MAX);
        run_alone(client, statement, alone, version, done)
            .await
            .map_err(|err| {
                let stopped = StoppedAt {
                    number,
                    of,
                    statement: first_line(statement),
                };
                MigrateError::FailedAt {
                    version: migration.version,
                    name: migration.name.clone(),
                    stopped,
                    reason: message(&err),
                }
            })?;
    }
    let tx = client.transaction().await.map_err(step)?;
    let duration = millis(started.elapsed());
    run(&tx, "mark_done", &[&version, &duration]).await?;
    tx.commit().await.map_err(step)
}

/// How statements of a no-transaction file run.
struct Alone<'a> {
    options: &'a MigrateOptions,
    /// Behind a transaction pooler (see [`without_statement_timeout`]).
    unprepared: bool,
}

/// One statement of a no-transaction file, committed on its own with the count of statements
/// done: in a transaction with the lock timeout, or, when PostgreSQL refuses to run it in one
/// (25001, checked before it does anything), alone and without a statement timeout, the
/// count after it.
async fn run_alone(
    client: &mut Client,
    statement: &str,
    alone: &Alone<'_>,
    version: i32,
    done: i32,
) -> Result<(), tokio_postgres::Error> {
    let tx = client.transaction().await?;
    let lock_timeout = format!("{}ms", alone.options.lock_timeout.as_millis());
    tx.execute(sql("set_timeouts"), &[&lock_timeout]).await?;
    match tx.batch_execute(statement).await {
        Ok(()) => {
            tx.execute(sql("statement_done"), &[&version, &done])
                .await?;
            return tx.commit().await;
        }
        Err(err) if err.code() == Some(&SqlState::ACTIVE_SQL_TRANSACTION) => tx.rollback().await?,
        Err(err) => {
            let _ = tx.rollback().await;
            return Err(err);
        }
    }
    without_statement_timeout(client, statement, alone.unprepared).await?;
    let tx = client.transaction().await?;
    tx.execute(sql("statement_done"), &[&version, &done])
        .await?;
    tx.commit().await
}

/// `statement` outside a transaction with no statement timeout. A connection opened with one
/// (`PoolOptions::statement_timeout`, a start-up option) is set to none around it, and RESET
/// after, which restores the start-up value. Behind a transaction pooler bottles sets its
/// timeout per transaction, so outside one there is none to lift (and a session SET could
/// land on another server connection than the statement).
async fn without_statement_timeout(
    client: &mut Client,
    statement: &str,
    unprepared: bool,
) -> Result<(), tokio_postgres::Error> {
    let shown = client.simple_query(sql("show_statement_timeout")).await?;
    let limited = shown.iter().any(|message| {
        matches!(message, SimpleQueryMessage::Row(row) if row.get(0).is_some_and(|v| v != "0"))
    });
    if !limited || unprepared {
        return client.batch_execute(statement).await;
    }
    client.batch_execute(sql("no_statement_timeout")).await?;
    let outcome = client.batch_execute(statement).await;
    client.batch_execute(sql("reset_statement_timeout")).await?;
    outcome
}

/// What the database has next to `set`, without changing anything.
pub async fn status(db: &Database, set: &MigrationSet) -> Result<Status> {
    let applied = history::read(&mut db.client().await?).await?;
    Ok(Status {
        pending: pending(set, &applied)
            .map(|m| (m.version, m.name.clone()))
            .collect(),
        refusal: refuse(set, &applied).err(),
        applied,
    })
}

fn failure(migration: &Migration, reason: String) -> Error {
    Error::from(MigrateError::Failed {
        version: migration.version,
        name: migration.name.clone(),
        reason,
    })
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
