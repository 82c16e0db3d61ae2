//! Read replicas: [`Database::read`] runs a read on the replicas in turn, skipping one that is
//! down (see [`health`]) or that has not yet replayed this process's last write, and on the
//! primary when none will do. Writes stay on the primary; [`Database::wrote`] records where
//! its write-ahead log stands afterwards, so that reads see what was written.

mod health;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use bottles_codegen::queries::tables::{wal_replayed, wal_written};
use tokio_postgres::error::SqlState;

use crate::db::Database;
use crate::error::{Error, Result};
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
    db: Database,
    /// Replayed WAL position, as last asked; asked again when a write is newer.
    replayed: AtomicU64,
    health: Health,
}

impl Replicas {
    pub(crate) fn new(replicas: Vec<Database>) -> Self {
        let replicas = replicas
            .into_iter()
            .map(|db| Replica {
                db,
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
    /// Whether the replica has replayed `written`; asks it when the last answer is older.
    async fn caught_up(&self, written: u64) -> Result<bool> {
        if self.replayed.load(Ordering::Acquire) >= written {
            return Ok(true);
        }
        let client = self.db.shared_client().await?;
        let lsn = wal_replayed().bind(&client).one().await?;
        let replayed = lsn.as_deref().and_then(parse_lsn).unwrap_or(0);
        self.replayed.fetch_max(replayed, Ordering::AcqRel);
        Ok(replayed >= written)
    }
}

impl Database {
    /// Runs `read` on a replica, or on the primary (this database) when there are none, all
    /// are down, or none has replayed this process's last write ([`Database::wrote`]). A
    /// replica that fails to answer is left alone (a second, doubling while probes keep
    /// failing) and the read tried on the next one, then on the primary: no read fails because
    /// a replica is gone. `read` may therefore run more than once, so it should only read.
    pub async fn read<'a, T, F>(&'a self, read: impl Fn(&'a Database) -> F) -> Result<T>
    where
        F: Future<Output = Result<T>>,
    {
        let written = self.replicas.written.load(Ordering::Acquire);
        for replica in self.replicas.in_turn() {
            let Some(using) = replica.health.try_use() else {
                continue;
            };
            let attempt = match replica.caught_up(written).await {
                Ok(true) => read(&replica.db).await,
                Ok(false) => {
                    using.answered();
                    continue;
                }
                Err(err) => Err(err),
            };
            match attempt {
                Err(err) if err.is_unavailable() => {
                    let left_for = using.failed();
                    let target = replica.db.target();
                    tracing::warn!(target: "bottles::replicas", "skipping replica {target} for {left_for:?}: {err}");
                }
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
        read(self).await
    }

    /// Records the primary's write-ahead log position after writes just made, so that reads
    /// from now on go to replicas that have replayed them (and to the primary until one has).
    /// A no-op without replicas.
    pub async fn wrote(&self) -> Result<()> {
        if self.replicas.count() == 0 {
            return Ok(());
        }
        let client = self.shared_client().await?;
        let lsn = wal_written().bind(&client).one().await?;
        let written =
            parse_lsn(&lsn).ok_or_else(|| Error::Unexpected(format!("a WAL position {lsn:?}")))?;
        self.replicas.written.fetch_max(written, Ordering::AcqRel);
        Ok(())
    }

    /// The replicas' targets, safe to print.
    pub fn replica_targets(&self) -> Vec<&str> {
        self.replicas
            .replicas
            .iter()
            .map(|replica| replica.db.target())
            .collect()
    }
}

/// `16/B374D848` → a number that orders like the position.
fn parse_lsn(text: &str) -> Option<u64> {
    let (high, low) = text.split_once('/')?;
    Some((u64::from_str_radix(high, 16).ok()? << 32) | u64::from_str_radix(low, 16).ok()?)
}

#[cfg(test)]
mod tests {
    use super::parse_lsn;

    #[test]
    fn wal_positions_order_as_numbers() {
        assert_eq!(parse_lsn("0/16B3748"), Some(0x16B3748));
        assert!(parse_lsn("1/0").unwrap() > parse_lsn("0/FFFFFFFF").unwrap());
        assert_eq!(parse_lsn("nonsense"), None);
    }
}
