//! Connections shared by many callers at once. A pooled [`crate::Client`] is one caller's until
//! it is dropped; a [`SharedClient`] is one of a few connections every caller uses together,
//! and tokio-postgres pipelines the statements of all of them: they go out in batches and come
//! back in order, many statements per round trip and per wake-up of the server. For short
//! statements that need no transaction of their own (the web service's reads and single-row
//! writes) that serves more callers with fewer connections and server processes than one
//! connection per caller (`cargo xtask bench --bench concurrent`).
//!
//! A statement waits behind the ones sent before it on its connection, so a slow statement
//! (a big streamed read, one stuck behind a lock) belongs on a pooled client instead. Behind a
//! transaction pooler, which may hand the server connection to someone else after each
//! request, the requests on a shared connection go one at a time instead of being pipelined,
//! and the node shares as many connections as its pool holds.

use std::ops::Deref;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::connection::open::Opener;
use crate::error::{ConnectFailure, Result};
use crate::log::Origin;
use crate::pooler::{Calls, Mode, On};
use deadpool_postgres::ClientWrapper;

/// The shared connections, opened on first use and opened again when one has closed.
pub(crate) struct Shared {
    slots: Box<[Slot]>,
    /// How many of the slots are used directly connected; behind a pooler, all of them.
    direct: usize,
    next: AtomicUsize,
}

/// A shared connection, and its calls' turns behind a pooler.
struct Connection {
    client: ClientWrapper,
    calls: Calls,
}

#[derive(Default)]
struct Slot {
    current: Mutex<Option<Arc<Connection>>>,
    /// Held while opening a connection, so callers that find the slot empty wait for one
    /// connection instead of each opening their own.
    opening: tokio::sync::Mutex<()>,
}

impl Shared {
    /// `count` shared connections, or, behind a pooler, where each carries one request at a
    /// time and so serves no more than a pooled one, as many as the pool's `pool_size`.
    pub(crate) fn new(count: usize, pool_size: usize) -> Self {
        let direct = count.max(1);
        Self {
            slots: (0..direct.max(pool_size))
                .map(|_| Slot::default())
                .collect(),
            direct,
            next: AtomicUsize::new(0),
        }
    }

    /// The next connection in turn; opens it when it is missing or closed.
    pub(crate) async fn get(
        &self,
        opener: &Opener,
        mode: &Arc<Mode>,
        origin: &Arc<Origin>,
    ) -> Result<SharedClient, ConnectFailure> {
        let used = match mode.pooled() {
            true => self.slots.len(),
            false => self.direct,
        };
        let slot = &self.slots[self.next.fetch_add(1, Ordering::Relaxed) % used];
        let shared = |connection| SharedClient {
            connection,
            mode: mode.clone(),
            origin: origin.clone(),
        };
        if let Some(client) = slot.live() {
            return Ok(shared(client));
        }
        let _opening = slot.opening.lock().await;
        if let Some(client) = slot.live() {
            return Ok(shared(client));
        }
        let connection = Arc::new(Connection {
            client: opener.open().await?,
            calls: Calls::default(),
        });
        *slot.current.lock().expect("not poisoned") = Some(connection.clone());
        Ok(shared(connection))
    }
}

impl Slot {
    fn live(&self) -> Option<Arc<Connection>> {
        let current = self.current.lock().expect("not poisoned");
        current.as_ref().filter(|c| !c.client.is_closed()).cloned()
    }
}

/// One of a node's shared connections (see [`crate::Node::shared_client`]). Cheap to
/// get and to drop; runs generated queries like a [`crate::Client`], but has no transactions.
pub struct SharedClient {
    connection: Arc<Connection>,
    mode: Arc<Mode>,
    origin: Arc<Origin>,
}

impl SharedClient {
    /// Where generated queries run, how, and what their spans say.
    pub(crate) fn on(&self) -> (On<'_>, &Mode, &Origin) {
        let connection = &self.connection;
        let on = On::Connection(&connection.client, &connection.calls);
        (on, &self.mode, &self.origin)
    }
}

impl Deref for SharedClient {
    type Target = tokio_postgres::Client;

    fn deref(&self) -> &tokio_postgres::Client {
        &self.connection.client
    }
}

impl std::fmt::Debug for SharedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedClient").finish_non_exhaustive()
    }
}
