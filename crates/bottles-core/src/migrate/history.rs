//! `bottles_migrations`, the history: its statements (`history.sql`), its rows, and how they
//! and the files agree ([`refuse`], [`pending`]).

use std::sync::LazyLock;

use super::MigrateError;
use super::files::{Migration, MigrationSet};
use crate::log::Statements;
use crate::{Client, Error, Result, Transaction};

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
    /// How long it took; `None` until done or when finished by hand, 0 when recorded by
    /// [`record_all_applied`].
    pub duration_ms: Option<i64>,
    /// For a no-transaction file: how many of its statements had committed.
    pub statements_done: Option<u32>,
}

static HISTORY: LazyLock<Statements> =
    LazyLock::new(|| Statements::from_sources(&[("history.sql", include_str!("history.sql"))]));

/// A statement of `history.sql` (every name is checked by a unit test).
pub(super) fn sql(name: &str) -> &'static str {
    HISTORY.text(name).expect("a section of history.sql")
}

pub(super) type Param = dyn tokio_postgres::types::ToSql + Sync;

/// Runs a statement of `history.sql` with its parameters; the rows it changed.
pub(super) async fn run(
    tx: &tokio_postgres::Transaction<'_>,
    name: &str,
    params: &[&Param],
) -> Result<u64> {
    tx.execute(sql(name), params).await.map_err(step)
}

pub(super) fn step(source: tokio_postgres::Error) -> Error {
    Error::statement("migrate")(source)
}

/// Creates the history table, or brings an older one up to date.
pub(super) async fn create(client: &impl tokio_postgres::GenericClient) -> Result<()> {
    client
        .batch_execute(sql("create_table"))
        .await
        .map_err(step)?;
    client
        .batch_execute(sql("add_progress_column"))
        .await
        .map_err(step)
}

/// The history rows, or none when there is no history table yet. In a transaction, where
/// statements with parameters work behind a pooler too.
pub(super) async fn read(client: &mut Client) -> Result<Vec<Recorded>> {
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
    let done: Option<i32> = row.try_get("statements_done").map_err(step)?;
    Ok(Recorded {
        version: u32::try_from(version)
            .map_err(|_| Error::Unexpected(format!("bottles_migrations has version {version}")))?,
        name: row.try_get("name").map_err(step)?,
        checksum: row.try_get("checksum").map_err(step)?,
        done: row.try_get("done").map_err(step)?,
        applied_at: row.try_get("applied_at").map_err(step)?,
        duration_ms: row.try_get("duration_ms").map_err(step)?,
        statements_done: done.and_then(|n| u32::try_from(n).ok()),
    })
}

/// Records every file of `set` as applied (duration 0) in `tx`, replacing any history: for a
/// schema just recreated from `schema.sql`, which is what the files produce.
pub async fn record_all_applied(tx: &Transaction<'_>, set: &MigrationSet) -> Result<()> {
    create(&**tx).await?;
    tx.batch_execute(sql("forget_all")).await.map_err(step)?;
    record_applied(tx, set.iter()).await
}

/// Records `migrations` as applied (duration 0) in `tx`, which has the history table.
pub(super) async fn record_applied<'a>(
    tx: &tokio_postgres::Transaction<'_>,
    migrations: impl Iterator<Item = &'a Migration>,
) -> Result<()> {
    for migration in migrations {
        let (name, checksum) = (&migration.name, &migration.checksum);
        let version = db_version(migration.version);
        run(tx, "insert_done", &[&version, name, checksum, &0_i64]).await?;
    }
    Ok(())
}

/// Refuses, in `tx` and changing nothing, a database whose history holds a migration `set`
/// lacks (a newer binary's): recreating `schema.sql` over it would leave that migration's
/// objects behind and record an older version.
pub async fn refuse_newer(tx: &Transaction<'_>, set: &MigrationSet) -> Result<()> {
    let exists = tx.query_one(sql("exists"), &[]).await;
    if !exists
        .and_then(|row| row.try_get::<_, bool>(0))
        .map_err(step)?
    {
        return Ok(());
    }
    for row in tx.query(sql("history"), &[]).await.map_err(step)? {
        let Recorded { version, name, .. } = recorded(&row)?;
        if set.get(version).is_none() {
            return Err(MigrateError::UnknownVersion { version, name }.into());
        }
    }
    Ok(())
}

/// Drops `bottles_migrations` in `tx`: for a schema that is not what the files produce, so
/// that `bottles migrate` refuses to start from it rather than trusting a wrong history.
pub async fn forget_history(tx: &Transaction<'_>) -> Result<()> {
    tx.batch_execute(sql("drop_table")).await.map_err(step)
}

/// Why the history and the files disagree, if they do: the first row, in version order, that
/// has no file, has a file of another name, stopped half-way, or was applied from a different
/// text.
pub(super) fn refuse(set: &MigrationSet, history: &[Recorded]) -> Result<(), MigrateError> {
    let problem = history.iter().find_map(|row| {
        let (version, name) = (row.version, row.name.clone());
        match set.get(row.version) {
            None => Some(MigrateError::UnknownVersion { version, name }),
            Some(file) if file.name != row.name => Some(MigrateError::OtherName {
                version,
                applied: name,
                file: file.name.clone(),
            }),
            Some(file) if !row.done => Some(half_applied(row, file)),
            Some(file) if file.checksum != row.checksum => {
                let name = file.name.clone();
                Some(MigrateError::ChecksumMismatch { version, name })
            }
            Some(_) => None,
        }
    });
    problem.map_or(Ok(()), Err)
}

/// Where `row`'s file stopped: the statement after the last that committed, when the file is
/// the one that ran.
pub(super) fn half_applied(row: &Recorded, file: &Migration) -> MigrateError {
    let statements = file.statements();
    let stopped = row
        .statements_done
        .filter(|_| file.checksum == row.checksum)
        .and_then(|done| {
            let at = usize::try_from(done).ok()?;
            let statement = statements.get(at)?;
            Some(super::StoppedAt {
                number: at + 1,
                of: statements.len(),
                statement: first_line(statement),
            })
        });
    MigrateError::HalfApplied {
        version: row.version,
        name: row.name.clone(),
        stopped,
    }
}

/// A statement's first line, cut at 80 characters: how messages name it.
pub(super) fn first_line(statement: &str) -> String {
    let line = statement.lines().next().unwrap_or_default().trim();
    match line.char_indices().nth(80) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_string(),
    }
}

/// The files of `set` that have no row.
pub(super) fn pending<'a>(
    set: &'a MigrationSet,
    history: &'a [Recorded],
) -> impl Iterator<Item = &'a Migration> {
    set.iter()
        .filter(|m| !history.iter().any(|row| row.version == m.version))
}

/// A set's versions have 4 digits, so they fit the `integer` column.
pub(super) fn db_version(version: u32) -> i32 {
    i32::try_from(version).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_statement_is_in_history_sql() {
        let names = "create_table add_progress_column exists history insert_done insert_running \
                     statement_done mark_done resolve_applied resolve_rolled_back forget_all \
                     drop_table set_timeouts show_statement_timeout no_statement_timeout \
                     reset_statement_timeout keep_lock_open try_deploy_lock deploy_lock_holder";
        let names: Vec<_> = names.split_whitespace().collect();
        for name in &names {
            assert!(!sql(name).is_empty(), "{name}");
        }
        assert_eq!(HISTORY.len(), names.len());
        assert!(sql("insert_done").contains("VALUES ($1, $2, $3, 'done', clock_timestamp(), $4)"));
    }

    fn row(version: u32, name: &str, checksum: &str, done: bool) -> Recorded {
        Recorded {
            version,
            name: name.into(),
            checksum: checksum.into(),
            done,
            applied_at: None,
            duration_ms: None,
            statements_done: None,
        }
    }

    #[test]
    fn the_first_disagreeing_row_is_the_refusal() {
        let set =
            MigrationSet::from_files(&[("0001_a.sql", "SELECT 1"), ("0002_b.sql", "")]).unwrap();
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
        // Two branches that both wrote a 0002: not "changed after it was applied".
        let other = refuse(&set, &[row(1, "a", &a, true), row(2, "c", "", true)]).unwrap_err();
        assert_eq!(
            other.to_string(),
            "the database has migration 0002_c applied, and this binary has 0002_b instead \
             (two branches numbered a migration alike?): merge the branch with 0002_c and \
             renumber 0002_b after it"
        );
    }

    #[test]
    fn a_half_applied_file_names_the_statement_it_stopped_at() {
        let sql = "-- bottles: no-transaction\nCREATE INDEX CONCURRENTLY a ON t (x);\n\
                   CREATE INDEX CONCURRENTLY b ON t (y);\nCREATE INDEX CONCURRENTLY c ON t (z);\n";
        let set = MigrationSet::from_files(&[("0003_indexes.sql", sql)]).unwrap();
        let file = set.get(3).unwrap();
        let mut stopped = row(3, "indexes", &file.checksum, false);
        stopped.statements_done = Some(1);
        let refusal = half_applied(&stopped, file);
        assert_eq!(
            refusal.to_string(),
            "migration 0003_indexes stopped half-way, at statement 2 of 3 \
             (CREATE INDEX CONCURRENTLY b ON t (y)): it runs outside a transaction, so the \
             statements before it stay applied, and that one may have finished too, or left an \
             INVALID index (DROP INDEX CONCURRENTLY it); finish the file by hand, then run \
             `bottles migrate resolve 3 \
             --applied`, or undo what it did, then run `bottles migrate resolve 3 \
             --rolled-back` to have it run again"
        );
        // A history table from before statements_done: no statement to name.
        stopped.statements_done = None;
        assert!(
            half_applied(&stopped, file)
                .to_string()
                .starts_with("migration 0003_indexes stopped half-way: it runs outside")
        );
    }
}
