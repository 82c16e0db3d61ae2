//! The pool's half of connecting: deadpool asks [`Manager`] for new connections and to check
//! returned ones.

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use deadpool_postgres::ClientWrapper;

use crate::connection::open::Opener;
use crate::error::ConnectFailure;

/// Opens connections for the pool, and checks a returned one is still alive before reuse.
pub(crate) struct Manager(pub(crate) Opener);

impl managed::Manager for Manager {
    type Type = ClientWrapper;
    type Error = ConnectFailure;

    async fn create(&self) -> Result<ClientWrapper, ConnectFailure> {
        self.0.open().await
    }

    async fn recycle(
        &self,
        client: &mut ClientWrapper,
        _: &Metrics,
    ) -> RecycleResult<ConnectFailure> {
        // A connection that broke while in use is dropped here; one that breaks while idle
        // fails its next statement, and is dropped then.
        if client.is_closed() {
            return Err(RecycleError::message("the connection is closed"));
        }
        Ok(())
    }
}

pub(crate) type Pool = managed::Pool<Manager>;
pub(crate) type Object = managed::Object<Manager>;
