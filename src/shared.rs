//! Connections shared by many callers at once. A pooled [`crate::Client`] is one caller's until
//! it is dropped; a [`SharedClient`] is one of a few connections every caller uses together,
//! and tokio-postgres pipelines the statements of all of them: they go out in batches and come
//! back in order, many statements per round trip and per wake-up of the server. For short
//! statements that need no transaction of their own (the web service's reads and single-row
//! writes) that serves more callers with fewer connections and server processes than one
//! connection per caller (`cargo xtask bench --bench concurrent`).
//!
//! A statement waits behind the ones sent before it on its connection, so a slow statement
//! (a big streamed read, one stuck behind a lock) belongs on a pooled client instead.

use std::ops::Deref;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use deadpool::managed::Manager;
use deadpool_postgres::ClientWrapper;

use crate::error::{ConnectFailure, Error, Result};
use crate::pool::Connector;

/// The shared connections, opened on first use and opened again when one has closed.
pub(crate) struct Shared {
    slots: Box<[Slot]>,
    next: AtomicUsize,
}

#[derive(Default)]
struct Slot {
    current: Mutex<Option<Arc<ClientWrapper>>>,
    /// Held while opening a connection, so callers that find the slot empty wait for one
    /// connection instead of each opening their own.
    opening: tokio::sync::Mutex<()>,
}

impl Shared {
    pub(crate) fn new(count: usize) -> Self {
        Self {
            slots: (0..count.max(1)).map(|_| Slot::default()).collect(),
            next: AtomicUsize::new(0),
        }
    }

    /// The next connection in turn; opens it when it is missing or closed.
    pub(crate) async fn get(&self, connector: &Connector, target: &str) -> Result<SharedClient> {
        let slot = &self.slots[self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len()];
        if let Some(client) = slot.live() {
            return Ok(SharedClient(client));
        }
        let _opening = slot.opening.lock().await;
        if let Some(client) = slot.live() {
            return Ok(SharedClient(client));
        }
        let opened = connector
            .create()
            .await
            .map_err(|failure: ConnectFailure| Error::Connect {
                target: target.to_string(),
                reason: failure.reason,
                source: failure.cause,
            })?;
        let client = Arc::new(opened);
        *slot.current.lock().expect("not poisoned") = Some(client.clone());
        Ok(SharedClient(client))
    }
}

impl Slot {
    fn live(&self) -> Option<Arc<ClientWrapper>> {
        let current = self.current.lock().expect("not poisoned");
        current
            .as_ref()
            .filter(|client| !client.is_closed())
            .cloned()
    }
}

/// One of the database's shared connections (see [`crate::Database::shared_client`]). Cheap to
/// get and to drop; runs generated queries like a [`crate::Client`], but has no transactions.
#[derive(Clone)]
pub struct SharedClient(Arc<ClientWrapper>);

impl SharedClient {
    pub(crate) fn cached(&self) -> &ClientWrapper {
        &self.0
    }

    pub(crate) fn plain(&self) -> &tokio_postgres::Client {
        &self.0
    }
}

impl Deref for SharedClient {
    type Target = tokio_postgres::Client;

    fn deref(&self) -> &tokio_postgres::Client {
        &self.0
    }
}

impl std::fmt::Debug for SharedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedClient").finish_non_exhaustive()
    }
}
