//! The pool's half of connecting: deadpool asks [`Connector`] for new connections and to check
//! returned ones.

use std::time::Duration;

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use deadpool_postgres::ClientWrapper;
use tokio_postgres_rustls::MakeRustlsConnect;

use std::sync::Arc;

use crate::config::ConnectOptions;
use crate::connect::connect;
use crate::error::ConnectFailure;
use crate::mode::Mode;

/// Opens connections for the pool, and checks a returned one is still alive before reuse.
pub(crate) struct Connector {
    pub(crate) options: ConnectOptions,
    pub(crate) tls: MakeRustlsConnect,
    pub(crate) timeout: Duration,
    pub(crate) mode: Arc<Mode>,
}

impl managed::Manager for Connector {
    type Type = ClientWrapper;
    type Error = ConnectFailure;

    async fn create(&self) -> Result<ClientWrapper, ConnectFailure> {
        connect(&self.options, &self.tls, self.timeout, &self.mode).await
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

pub(crate) type Pool = managed::Pool<Connector>;
pub(crate) type Object = managed::Object<Connector>;
