//! Starting the service, the same way for `main` and for the tests: [`Application::build`]
//! binds the listener over a database, [`Application::run_until`] serves until shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bottles::{Database, SeedPlan};
use tokio::net::TcpListener;

use crate::access::ACCESS_LOG_TARGET;
use crate::routes::{ServiceOptions, router};

/// How long requests in flight may take to finish once shutdown begins.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The service, bound to its address and ready to serve.
pub struct Application {
    listener: TcpListener,
    address: SocketAddr,
    app: axum::Router,
}

impl Application {
    /// The service over `db`, listening on `listen` (port 0: any free port).
    pub async fn build(
        db: Database,
        listen: SocketAddr,
        options: ServiceOptions,
    ) -> Result<Self, String> {
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|err| format!("could not listen on {listen}: {err}"))?;
        let address = listener.local_addr().map_err(|err| err.to_string())?;
        let app = router(Arc::new(db), options);
        Ok(Self {
            listener,
            address,
            app,
        })
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Serves until `shutdown` completes; then stops accepting, lets the requests in flight
    /// finish for up to [`SHUTDOWN_GRACE`], and returns.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = axum::serve(self.listener, self.app).with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stopping.send(());
        });
        tokio::select! {
            served = server => served,
            () = async {
                if stopped.await.is_ok() {
                    tokio::time::sleep(SHUTDOWN_GRACE).await;
                } else {
                    std::future::pending::<()>().await;
                }
            } => {
                tracing::warn!(
                    target: ACCESS_LOG_TARGET,
                    "requests still running {SHUTDOWN_GRACE:?} after shutdown began; stopping anyway"
                );
                Ok(())
            }
        }
    }
}

/// Resets `db` and fills it with the notebook's data (what the service serves from a
/// throwaway server, and what the tests start from).
pub async fn fill_with_notebook(db: &Database) -> bottles::Result<()> {
    let mut client = db.client().await?;
    bottles::reset(&mut client).await?;
    bottles::seed(&mut client, &SeedPlan::notebook()).await?;
    drop(client);
    Ok(db.wrote().await?)
}
