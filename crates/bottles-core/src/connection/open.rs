//! Opening one connection: each host in turn (and each address a name resolves to), over TCP
//! or a Unix socket, TLS as `sslmode` says, start-up and authentication, then for
//! `target_session_attrs` the check that the server is the kind asked for.
//!
//! tokio-postgres' `Config::connect` does the same, but owns the socket. bottles opens the
//! socket itself and hands it to `Config::connect_raw`, so that the tap can watch the
//! connection ([`crate::wire`]: the statement log, the pooler's gate) and so that one attempt's
//! timeout covers the whole handshake, not only the TCP connect.

use std::io;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use deadpool_postgres::ClientWrapper;
use futures::future::BoxFuture;
use rand::seq::SliceRandom;
use socket2::{SockRef, TcpKeepalive};
use tokio::net::{TcpStream, UnixStream};
use tokio_postgres::config::{Host, LoadBalanceHosts, SslMode, TargetSessionAttrs};
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres_rustls::MakeRustlsConnect;
use tokio_util::either::Either;

use super::options::ConnectOptions;
use crate::error::{ConnectFailure, message};
use crate::log::{self, Statements};
use crate::pooler::{Gate, Mode, detect};
use crate::wire::{Startup, Tap, Tapped};

/// A TCP or Unix socket (tokio-util's `Either` reads and writes whichever it holds).
type Socket = Either<TcpStream, UnixStream>;

/// What opening a connection needs: the settings, TLS, the time one attempt may take, the
/// database's statement mode, and the catalog the statement log names statements from.
pub(crate) struct Opener {
    pub(crate) options: ConnectOptions,
    pub(crate) tls: MakeRustlsConnect,
    pub(crate) timeout: Duration,
    pub(crate) mode: Arc<Mode>,
    pub(crate) statements: Option<&'static Statements>,
}

/// One place to try: an address, the name to verify TLS against, and a port.
struct Target {
    address: Address,
    server_name: String,
    port: u16,
}

enum Address {
    Tcp(String),
    Unix(PathBuf),
}

impl Target {
    fn describe(&self) -> String {
        match &self.address {
            Address::Tcp(host) if host.contains(':') => format!("[{host}]:{}", self.port),
            Address::Tcp(host) => format!("{host}:{}", self.port),
            Address::Unix(dir) => format!("{}/.s.PGSQL.{}", dir.display(), self.port),
        }
    }
}

impl Opener {
    /// Opens a connection to the first host that accepts it, each attempt within the timeout
    /// (the URL's `connect_timeout` wins).
    pub(crate) async fn open(&self) -> Result<ClientWrapper, ConnectFailure> {
        let (options, mode) = (&self.options, &self.mode);
        let timeout = options.connect_timeout(self.timeout);
        let mut failures: Vec<(String, Cause)> = Vec::new();
        for target in targets(&options.pg)? {
            let attempt = async {
                match self.open_at(&target).await {
                    // Our statement timeout was refused as a start-up parameter, as PgBouncer
                    // does: behind a pooler, it goes in with SET LOCAL instead.
                    Err(Cause::Refused) if !options.has_options => {
                        mode.behind_a_pooler(
                            "the server refused the options start-up parameter, as PgBouncer does",
                        );
                        self.open_at(&target).await
                    }
                    other => other,
                }
            };
            let attempt = tokio::time::timeout(timeout, attempt).await;
            match attempt.unwrap_or(Err(Cause::TimedOut(timeout))) {
                Ok(client) => return Ok(client),
                Err(cause) => failures.push((target.describe(), cause)),
            }
        }
        Err(failure(failures))
    }
}

/// Every place tried and why it failed, on one line.
fn failure(mut failures: Vec<(String, Cause)>) -> ConnectFailure {
    let reason = match failures.as_slice() {
        [(_, cause)] => cause.to_string(),
        all => {
            let each = all.iter().map(|(place, cause)| format!("{place}: {cause}"));
            each.collect::<Vec<_>>().join("; ")
        }
    };
    ConnectFailure {
        reason,
        cause: failures.pop().and_then(|(_, cause)| cause.into_source()),
    }
}

/// The places to try, in the order libpq would: each host (or `hostaddr`) with its port,
/// shuffled for `load_balance_hosts=random`.
fn targets(pg: &tokio_postgres::Config) -> Result<Vec<Target>, ConnectFailure> {
    let (hosts, addresses, ports) = (pg.get_hosts(), pg.get_hostaddrs(), pg.get_ports());
    let count = hosts.len().max(addresses.len());
    let invalid = |reason: &str| ConnectFailure {
        reason: reason.into(),
        cause: None,
    };
    if count == 0 {
        return Err(invalid("no host to connect to (set host or hostaddr)"));
    }
    if (!hosts.is_empty() && !addresses.is_empty() && hosts.len() != addresses.len())
        || (ports.len() > 1 && ports.len() != count)
    {
        return Err(invalid(
            "host, hostaddr and port must list the same number of entries",
        ));
    }
    let mut targets: Vec<Target> = (0..count)
        .map(|index| {
            let port = ports.get(index).or(ports.first()).copied().unwrap_or(5432);
            let address: Option<&IpAddr> = addresses.get(index);
            let (address, server_name) = match (hosts.get(index), address) {
                (Some(Host::Unix(dir)), _) => (Address::Unix(dir.clone()), String::new()),
                (Some(Host::Tcp(name)), Some(ip)) => (Address::Tcp(ip.to_string()), name.clone()),
                (Some(Host::Tcp(name)), None) => (Address::Tcp(name.clone()), name.clone()),
                (None, Some(ip)) => (Address::Tcp(ip.to_string()), ip.to_string()),
                (None, None) => unreachable!("index < max(hosts, addresses)"),
            };
            Target {
                address,
                server_name,
                port,
            }
        })
        .collect();
    if pg.get_load_balance_hosts() == LoadBalanceHosts::Random {
        targets.shuffle(&mut rand::rng());
    }
    Ok(targets)
}

/// Why one attempt failed.
enum Cause {
    Io(io::Error),
    Postgres(tokio_postgres::Error),
    /// The server asked for a password and none was given.
    NoPassword(tokio_postgres::Error),
    TimedOut(Duration),
    WrongKind(&'static str),
    /// The server (a pooler) refused the `options` start-up parameter.
    Refused,
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cause::Io(err) => write!(f, "error connecting to server: {err}"),
            Cause::NoPassword(_) => f.write_str(
                "the server asks for a password and none was given (in the URL, PGPASSWORD or ~/.pgpass)",
            ),
            Cause::Postgres(err) => f.write_str(&message(err)),
            Cause::TimedOut(after) => write!(f, "timed out after {after:?}"),
            Cause::WrongKind(what) => f.write_str(what),
            Cause::Refused => f.write_str(
                "the server refused the start-up parameter options (from options= or PGOPTIONS), \
                 as PgBouncer does: leave it out, or add it to ignore_startup_parameters in pgbouncer.ini",
            ),
        }
    }
}

impl Cause {
    fn into_source(self) -> Option<Box<dyn std::error::Error + Send + Sync>> {
        match self {
            Cause::Io(err) => Some(Box::new(err)),
            Cause::Postgres(err) | Cause::NoPassword(err) => Some(Box::new(err)),
            Cause::TimedOut(_) | Cause::WrongKind(_) | Cause::Refused => None,
        }
    }
}

impl Opener {
    async fn open_at(&self, target: &Target) -> Result<ClientWrapper, Cause> {
        let (options, mode) = (&self.options, &self.mode);
        let mut pg = options.pg.clone();
        let mut sent_options = options.has_options;
        if let (Some(limit), false) = (mode.statement_timeout(), mode.pooled()) {
            let setting = format!("-c statement_timeout={}", limit.as_millis());
            let all = match pg.get_options() {
                Some(given) => format!("{given} {setting}"),
                None => setting,
            };
            pg.options(&all);
            sent_options = true;
        }
        if pg.get_password().is_none() {
            let host = match &target.address {
                Address::Unix(dir) => dir.display().to_string(),
                Address::Tcp(_) if target.server_name.is_empty() => "localhost".into(),
                Address::Tcp(_) => target.server_name.clone(),
            };
            if let Some(password) = options.file_password(&host, target.port) {
                pg.password(password);
            }
        }
        let socket = match &target.address {
            Address::Tcp(host) => open_tcp(host, target.port, &pg).await?,
            Address::Unix(dir) => {
                // As libpq: there is no TLS over a Unix socket, whatever sslmode says.
                pg.ssl_mode(SslMode::Disable);
                let path = dir.join(format!(".s.PGSQL.{}", target.port));
                Either::Right(UnixStream::connect(path).await.map_err(Cause::Io)?)
            }
        };
        let started = Arc::new(Startup::default());
        let watch = log::enabled().then(|| Box::new(log::Watcher::new(self.statements)) as _);
        let hold = Some(Box::new(Gate::new(mode.clone())) as _);
        let stream = Tapped::new(socket, Some(Tap::new(started.clone(), hold, watch)));
        let mut make_tls = self.tls.clone();
        let Ok(tls) =
            MakeTlsConnect::<Socket>::make_tls_connect(&mut make_tls, &target.server_name);
        let connected = pg.connect_raw(stream, TappedTls(tls)).await;
        let (client, connection) = connected.map_err(|err| {
            if detect::refused_options(&err, sent_options) {
                Cause::Refused
            } else if pg.get_password().is_none()
                && started.password_requested.load(Ordering::Acquire)
            {
                Cause::NoPassword(err)
            } else {
                Cause::Postgres(err)
            }
        })?;
        let task = tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(target: "bottles::connection", "connection closed: {err}");
            }
        });
        let client = ClientWrapper::new(client, task);
        check_session_kind(&client, pg.get_target_session_attrs()).await?;
        if mode.detects()
            && detect::behind_a_pooler(&client, &started)
                .await
                .map_err(Cause::Postgres)?
        {
            mode.behind_a_pooler("a connection pooler is in front of the server (its BackendKeyData is not the backend's)");
        }
        started.armed.store(true, Ordering::Release);
        Ok(client)
    }
}

async fn open_tcp(host: &str, port: u16, pg: &tokio_postgres::Config) -> Result<Socket, Cause> {
    let mut addresses: Vec<_> = tokio::net::lookup_host((host, port))
        .await
        .map_err(Cause::Io)?
        .collect();
    if pg.get_load_balance_hosts() == LoadBalanceHosts::Random {
        addresses.shuffle(&mut rand::rng());
    }
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the host name resolved to nothing");
    for address in addresses {
        match TcpStream::connect(address).await {
            Ok(stream) => {
                stream.set_nodelay(true).map_err(Cause::Io)?;
                let socket = SockRef::from(&stream);
                if let Some(limit) = pg.get_tcp_user_timeout() {
                    socket
                        .set_tcp_user_timeout(Some(*limit))
                        .map_err(Cause::Io)?;
                }
                if pg.get_keepalives() {
                    let mut keepalive = TcpKeepalive::new().with_time(pg.get_keepalives_idle());
                    if let Some(interval) = pg.get_keepalives_interval() {
                        keepalive = keepalive.with_interval(interval);
                    }
                    if let Some(retries) = pg.get_keepalives_retries() {
                        keepalive = keepalive.with_retries(retries);
                    }
                    socket.set_tcp_keepalive(&keepalive).map_err(Cause::Io)?;
                }
                return Ok(Either::Left(stream));
            }
            Err(err) => last = err,
        }
    }
    Err(Cause::Io(last))
}

/// `target_session_attrs`: `read-write` wants a primary, `read-only` a standby.
async fn check_session_kind(
    client: &ClientWrapper,
    wanted: TargetSessionAttrs,
) -> Result<(), Cause> {
    if wanted == TargetSessionAttrs::Any {
        return Ok(());
    }
    let rows = client
        .simple_query("SHOW transaction_read_only")
        .await
        .map_err(Cause::Postgres)?;
    let read_only = rows.iter().any(|message| match message {
        tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0) == Some("on"),
        _ => false,
    });
    match (wanted, read_only) {
        (TargetSessionAttrs::ReadWrite, true) => Err(Cause::WrongKind(
            "the server only allows reads (target_session_attrs=read-write)",
        )),
        (TargetSessionAttrs::ReadOnly, false) => Err(Cause::WrongKind(
            "the server allows writes (target_session_attrs=read-only)",
        )),
        _ => Ok(()),
    }
}

type RustlsConnect = <MakeRustlsConnect as MakeTlsConnect<Socket>>::TlsConnect;
type RustlsStream = <RustlsConnect as TlsConnect<Socket>>::Stream;

/// TLS for a tapped socket: the handshake runs on the bare socket, and the tap moves inside,
/// where it reads the plain text.
struct TappedTls(RustlsConnect);

impl TlsConnect<Tapped<Socket>> for TappedTls {
    type Stream = Tapped<RustlsStream>;
    type Error = io::Error;
    type Future = BoxFuture<'static, io::Result<Tapped<RustlsStream>>>;

    fn connect(self, stream: Tapped<Socket>) -> Self::Future {
        let (socket, tap) = stream.into_parts();
        Box::pin(async move {
            let encrypted = TlsConnect::<Socket>::connect(self.0, socket).await?;
            Ok(Tapped::new(encrypted, tap.map(Tap::over_tls)))
        })
    }
}
