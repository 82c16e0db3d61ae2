//! The deploy lock: one `bottles migrate` (or `resolve`, or `baseline`) at a time per database,
//! also behind a transaction pooler, waited for at most a bound, the wait reported.

use std::time::{Duration, Instant};

use super::history::{sql, step};
use super::{MigrateError, Progress};
use crate::{Database, Result};

/// How often a deploy that found the lock taken tries again.
const LOCK_POLL: Duration = Duration::from_millis(200);

/// Runs `work` holding the deploy lock, waiting at most `wait` for it (reported once through
/// `progress`); [`MigrateError::LockWait`] when the wait runs out.
///
/// The lock is a transaction-level advisory lock in a transaction left open for the whole
/// run: an open transaction pins its server connection even behind a transaction pooler,
/// where a session lock would not hold. If this process dies, the server ends the transaction
/// and the lock is gone with it.
pub(super) async fn with_deploy_lock<T>(
    db: &Database,
    wait: Duration,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
    work: impl AsyncFnOnce(&mut (dyn FnMut(Progress<'_>) + Send)) -> Result<T>,
) -> Result<T> {
    let mut holder = db.client().await?;
    let started = Instant::now();
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
        if answer.map_err(step)?.iter().any(is_true) {
            let result = work(progress).await;
            // Ending the transaction releases the lock; a lost connection already did.
            let _ = lock.rollback().await;
            return result;
        }
        lock.rollback().await.map_err(step)?;
        if !waiting || started.elapsed() >= wait {
            let rows = holder.simple_query(sql("deploy_lock_holder")).await;
            let pid = rows.ok().and_then(|rows| first_value(&rows));
            if started.elapsed() >= wait {
                let waited = started.elapsed();
                return Err(MigrateError::LockWait { waited, pid }.into());
            }
            tracing::info!(target: "bottles::migrate", "another deploy is migrating: waiting");
            progress(Progress::Waiting { pid, at_most: wait });
            waiting = true;
        }
        // Polled rather than waited for: a deploy blocked in the server would pin a pooler's
        // server connection all the while, which could be the one the running deploy needs.
        tokio::time::sleep(LOCK_POLL.min(wait.saturating_sub(started.elapsed()))).await;
    }
}

fn is_true(message: &tokio_postgres::SimpleQueryMessage) -> bool {
    matches!(message, tokio_postgres::SimpleQueryMessage::Row(row) if row.get(0) == Some("t"))
}

fn first_value(messages: &[tokio_postgres::SimpleQueryMessage]) -> Option<i32> {
    messages.iter().find_map(|message| match message {
        tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0)?.parse().ok(),
        _ => None,
    })
}
