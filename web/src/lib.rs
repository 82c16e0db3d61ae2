//! bottles-web: the notebook's users and messages as a JSON HTTP service, on the bottles
//! library and its generated queries. Every statement it runs is in `queries/`.
//!
//! [`router`] builds the service on a [`bottles::Database`]; [`serve`] runs it on a listener
//! until a shutdown signal, then lets requests in flight finish (for up to
//! [`SHUTDOWN_GRACE`]). The `bottles-web` binary is a thin command line over both.
//!
//! Short statements with a bounded answer (a page of messages, one-row inserts, the health
//! check) run on the database's few shared connections, pipelined
//! ([`bottles::Database::shared_client`]); reads whose size grows with the data (all users, a
//! user's messages, the counts) take a pooled connection of their own, so no one waits behind
//! them.
#![deny(missing_docs)]

mod access;
mod errors;
mod extract;
mod routes;
mod users;

use std::time::Duration;

use tokio::net::TcpListener;

pub use errors::ApiError;
pub use routes::{ServiceOptions, router};

/// How long requests in flight may take to finish once shutdown begins.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The `tracing` target of the access log: one line per request.
pub const ACCESS_LOG_TARGET: &str = "bottles_web::access";

/// Serves `app` (see [`router`]) on `listener` until `shutdown` completes; then stops
/// accepting, lets the requests in flight finish for up to [`SHUTDOWN_GRACE`], and returns.
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
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
