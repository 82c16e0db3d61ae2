//! Read replicas: a read runs on the replicas in turn, skipping one that is down (see
//! [`health`]) or that has not yet replayed this process's last write, and on the primary when
//! none will do. Writes stay on the primary; after them [`Replicas::wrote`] records where its
//! write-ahead log stands, so that reads see what was written.

mod health;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use postgres_types::PgLsn;
use tokio_postgres::SimpleQueryMessage;
use tokio_postgres::error::SqlState;

use super::node::Node;
use super::shared::SharedClient;
use crate::error::{Error, ReadError, Result};
use health::Health;

/// The replicas of a database, and what the primary last wrote.
#[derive(Default)]
pub(crate) struct Replicas {
    replicas: Vec<Replica>,
    next: AtomicUsize,
    /// The primary's WAL position after this process's last write (0: none yet).
    written: AtomicU64,
}

struct Replica {
    node: Node,
    /// Replayed WAL position, as last asked; asked again when a write is newer.
    replayed: AtomicU64,
    health: Health,
}

impl Replicas {
    pub(crate) fn new(replicas: Vec<Node>) -> Self {
        let replicas = replicas
            .into_iter()
            .map(|node| Replica {
                node,
                replayed: AtomicU64::new(0),
                health: Health::unknown(),
            })
            .collect();
        Self {
            replicas,
            ..Self::default()
        }
    }

    pub(crate) fn count(&self) -> usize {
        self.replicas.len()
    }

    /// The replicas in turn, starting with the next one.
    fn in_turn(&self) -> impl Iterator<Item = &Replica> {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let count = self.replicas.len();
        (0..count).map(move |i| &self.replicas[(start + i) % count])
    }
}

impl Replica {
    /// Notes that the replica failed to answer (`err`): it is left alone for a while, and its
    /// idle connections, which most likely broke too, are closed.
    fn leave_alone(&self, using: health::Use<'_>, err: &impl std::fmt::Display) {
        self.node.forget_idle();
        let left_for = using.failed();
        let target = self.node.target();
        tracing::warn!(target: "bottles::replicas", "skipping replica {target} for {left_for:?}: {err}");
    }

    /// Whether the replica has replayed `written`; asks it when the last answer is older.
    async fn caught_up(&self, written: u64) -> Result<bool> {
        if self.replayed.load(Ordering::Acquire) >= written {
            return Ok(true);
        }
        let client = self.node.shared_client().await?;
        let replayed = wal_position(&client, WAL_REPLAYED).await?.unwrap_or(0);
        self.replayed.fetch_max(replayed, Ordering::AcqRel);
        Ok(replayed >= written)
    }
}

impl Replicas {
    /// Runs `read` on a replica, or on `primary` when there are none, all are down, or none
    /// has replayed this process's last write ([`Replicas::wrote`]). A replica that fails to
    /// answer is left alone (see [`health`]) and the read tried on the next one, then on the
    /// primary, so `read` may run more than once. When the primary does not answer either (a
    /// failover, say), a replica that answers serves the read even if it has not replayed
    /// this process's last write: a read that may miss it beats no read.
    pub(crate) async fn read<'a, T, E, F>(
        &'a self,
        primary: &'a Node,
        read: impl Fn(&'a Node) -> F,
    ) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>>,
        E: ReadError,
    {
        let written = self.written.load(Ordering::Acquire);
        for replica in self.in_turn() {
            let Some(using) = replica.health.try_use() else {
                continue;
            };
            let attempt = match replica.caught_up(written).await {
                Ok(true) => read(&replica.node).await,
                Ok(false) => {
                    using.answered();
                    continue;
                }
                Err(err) => Err(E::from(err)),
            };
            match attempt {
                Err(err) if err.is_unavailable() => replica.leave_alone(using, &err),
                // Replay cancelled the read (a recovery conflict); the primary has none.
                Err(err) if err.code() == Some(&SqlState::T_R_SERIALIZATION_FAILURE) => {
                    using.answered();
                }
                done => {
                    using.answered();
                    return done;
                }
            }
        }
        match read(primary).await {
            Err(err) if err.is_unavailable() => {
                primary.forget_idle();
                self.read_anywhere(&read).await.unwrap_or(Err(err))
            }
            done => done,
        }
    }

    /// Runs `read` on the first replica that answers, whatever it has replayed, trying those
    /// left alone too (there is nowhere else to go); `None` when none answers.
    async fn read_anywhere<'a, T, E, F>(
        &'a self,
        read: &impl Fn(&'a Node) -> F,
    ) -> Option<Result<T, E>>
    where
        F: Future<Output = Result<T, E>>,
        E: ReadError,
    {
        for replica in self.in_turn() {
            // Twice: the first try may meet a connection that broke before the pool noticed
            // (then the pool's idle ones are closed, and the second opens one).
            for _ in 0..2 {
                let using = replica.health.use_anyway();
                match read(&replica.node).await {
                    Err(err) if err.is_unavailable() => replica.leave_alone(using, &err),
                    done => {
                        using.answered();
                        return Some(done);
                    }
                }
            }
        }
        None
    }

    /// Records `primary`'s write-ahead log position after writes just made, so that reads
    /// from now on go to replicas that have replayed them. A no-op without replicas.
    pub(crate) async fn wrote(&self, primary: &Node) -> Result<()> {
        if self.count() == 0 {
            return Ok(());
        }
        let client = primary.shared_client().await?;
        let written = wal_position(&client, WAL_WRITTEN).await?;
        let written = written.ok_or_else(|| Error::Unexpected("no WAL position".into()))?;
        self.written.fetch_max(written, Ordering::AcqRel);
        Ok(())
    }

    /// Each replica and its state, for [`crate::Database::stats`].
    pub(crate) fn states(&self) -> Vec<(&Node, crate::ReplicaState)> {
        let each = self.replicas.iter();
        each.map(|r| (&r.node, r.health.state())).collect()
    }

    /// The replicas' targets, safe to print.
    pub(crate) fn targets(&self) -> Vec<&str> {
        self.replicas
            .iter()
            .map(|replica| replica.node.target())
            .collect()
    }
}

/// How far the primary has written, and how far a standby has replayed. Run on the simple
/// protocol: nothing is prepared, so this works behind a transaction pooler as well. The insert
/// position, not pg_current_wal_lsn(): with synchronous_commit off a commit is not yet written
/// out when the client hears of it.
const WAL_WRITTEN: &str = "SELECT pg_current_wal_insert_lsn()";
const WAL_REPLAYED: &str = "SELECT pg_last_wal_replay_lsn()";

/// How far `node` has written (`replayed`: replayed), for [`crate::Database::stats`].
pub(crate) async fn wal_position_of(node: &Node, replayed: bool) -> Option<u64> {
    let sql = if replayed { WAL_REPLAYED } else { WAL_WRITTEN };
    wal_position(&node.shared_client().await.ok()?, sql)
        .await
        .ok()?
}

/// The WAL position `sql` answers (`None` for NULL: a server that is not a standby).
async fn wal_position(client: &SharedClient, sql: &str) -> Result<Option<u64>> {
    let failed = Error::statement("replica check");
    // Sent in turn with the client's other calls (see `crate::pooler`).
    let (on, mode, _) = client.on();
    let rows = on.simple_query(mode, sql).await.map_err(failed)?;
    let text = rows.iter().find_map(|message| match message {
        SimpleQueryMessage::Row(row) => Some(row.get(0)),
        _ => None,
    });
    match text.flatten() {
        None => Ok(None),
        Some(text) => match text.parse::<PgLsn>() {
            Ok(lsn) => Ok(Some(u64::from(lsn))),
            Err(_) => Err(Error::Unexpected(format!("a WAL position {text:?}"))),
        },
    }
}

#[cfg(test)]
mod tests {
    use postgres_types::PgLsn;

    #[test]
    fn wal_positions_order_as_numbers() {
        let lsn = |text: &str| text.parse::<PgLsn>().map(u64::from).ok();
        assert_eq!(lsn("0/16B3748"), Some(0x16B3748));
        assert!(lsn("1/0").unwrap() > lsn("0/FFFFFFFF").unwrap());
        assert_eq!(lsn("nonsense"), None);
    }
}
