//! Opening one connection: each host in turn (and each address a name resolves to), over TCP
//! or a Unix socket, TLS as `sslmode` says, start-up and authentication, then for
//! `target_session_attrs` the check that the server is the kind asked for.
//!
//! tokio-postgres' `Config::connect` does the same, but owns the socket. bottles opens the
//! socket itself and hands it to `Config::connect_raw`, so that the statement log can watch the
//! connection ([`crate::wire`]) and so that one attempt's timeout covers the whole handshake, not
//! only the TCP connect.

use std::io;
use std::net::IpAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use deadpool_postgres::ClientWrapper;
use futures::future::BoxFuture;
use rand::seq::SliceRandom;
use socket2::{SockRef, TcpKeepalive};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};
use tokio_postgres::config::{Host, LoadBalanceHosts, SslMode, TargetSessionAttrs};
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres_rustls::MakeRustlsConnect;

use std::sync::Arc;

use crate::config::ConnectOptions;
use crate::error::ConnectFailure;
use crate::mode::Mode;
use crate::wire::{Gate, Startup, Tap, Tapped};

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

/// Opens a connection to the first host that accepts it, each attempt within `timeout` (the
/// URL's `connect_timeout` wins).
pub(crate) async fn connect(
    options: &ConnectOptions,
    tls: &MakeRustlsConnect,
    timeout: Duration,
    mode: &Arc<Mode>,
) -> Result<ClientWrapper, ConnectFailure> {
    let timeout = options.connect_timeout(timeout);
    let mut failures: Vec<(String, Cause)> = Vec::new();
    for target in targets(&options.pg)? {
        let attempt = async {
            match connect_to(&target, options, tls, mode).await {
                // Our statement timeout was refused as a start-up parameter, as PgBouncer does:
                // now unprepared, it goes in each transaction instead.
                Err(Cause::Refused) if !options.has_options => {
                    mode.go_unprepared(
                        "the server refused the options start-up parameter, as PgBouncer does",
                    );
                    connect_to(&target, options, tls, mode).await
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
    let reason = match failures.as_slice() {
        [(_, cause)] => cause.to_string(),
        all => {
            let each = all.iter().map(|(place, cause)| format!("{place}: {cause}"));
            each.collect::<Vec<_>>().join("; ")
        }
    };
    Err(ConnectFailure {
        reason,
        cause: failures.pop().and_then(|(_, cause)| cause.into_source()),
    })
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
    TimedOut(Duration),
    WrongKind(&'static str),
    /// The server (a pooler) refused the `options` start-up parameter.
    Refused,
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cause::Io(err) => write!(f, "error connecting to server: {err}"),
            // tokio-postgres' words when the server asks for a password none was given for.
            Cause::Postgres(err) if crate::error::one_line(err).ends_with("password missing") => f.write_str(
                "the server asks for a password and none was given (in the URL, PGPASSWORD or ~/.pgpass)",
            ),
            Cause::Postgres(err) => f.write_str(&crate::error::one_line(err)),
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
            Cause::Postgres(err) => Some(Box::new(err)),
            Cause::TimedOut(_) | Cause::WrongKind(_) | Cause::Refused => None,
        }
    }
}

async fn connect_to(
    target: &Target,
    options: &ConnectOptions,
    tls: &MakeRustlsConnect,
    mode: &Arc<Mode>,
) -> Result<ClientWrapper, Cause> {
    let mut pg = options.pg.clone();
    if let (Some(limit), false) = (mode.statement_timeout(), mode.unprepared()) {
        let setting = format!("-c statement_timeout={}", limit.as_millis());
        let all = match pg.get_options() {
            Some(given) => format!("{given} {setting}"),
            None => setting,
        };
        pg.options(&all);
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
            Socket::Unix(UnixStream::connect(path).await.map_err(Cause::Io)?)
        }
    };
    let started = Arc::new(Startup::default());
    let sink = crate::echo::enabled().then_some(crate::echo::finished as fn(&_));
    let gate = mode.can_run_unprepared().then(|| Gate::new(mode.clone()));
    let stream = Tapped::new(socket, Some(Tap::new(sink, started.clone(), gate)));
    let mut make_tls = tls.clone();
    let Ok(tls) = MakeTlsConnect::<Socket>::make_tls_connect(&mut make_tls, &target.server_name);
    let (client, connection) = pg
        .connect_raw(stream, TappedTls(tls))
        .await
        .map_err(|err| {
            let refused = err.as_db_error().is_some_and(|db| {
                db.message()
                    .contains("unsupported startup parameter: options")
            });
            if refused {
                Cause::Refused
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
    if mode.detects() && behind_a_pooler(&client, &started).await? {
        mode.go_unprepared("a connection pooler is in front of the server (its BackendKeyData is not the backend's)");
    }
    started
        .armed
        .store(true, std::sync::atomic::Ordering::Release);
    Ok(client)
}

/// A pooler such as PgBouncer gives clients a cancel key of its own making (it has to route
/// cancel requests), so the process id in `BackendKeyData` is not the backend's.
async fn behind_a_pooler(client: &ClientWrapper, started: &Startup) -> Result<bool, Cause> {
    let Some(&key_pid) = started.backend_key_pid.get() else {
        return Ok(false);
    };
    let rows = client
        .simple_query("SELECT pg_backend_pid()")
        .await
        .map_err(Cause::Postgres)?;
    let backend_pid = rows.iter().find_map(|message| match message {
        tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0)?.parse::<i32>().ok(),
        _ => None,
    });
    Ok(backend_pid.is_some_and(|pid| pid != key_pid))
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
                return Ok(Socket::Tcp(stream));
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

/// A TCP or Unix socket.
pub(crate) enum Socket {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Socket::Tcp(stream) => Pin::new(stream).poll_read(cx, buf),
            Socket::Unix(stream) => Pin::new(stream).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Socket::Tcp(stream) => Pin::new(stream).poll_write(cx, buf),
            Socket::Unix(stream) => Pin::new(stream).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Socket::Tcp(stream) => Pin::new(stream).poll_flush(cx),
            Socket::Unix(stream) => Pin::new(stream).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Socket::Tcp(stream) => Pin::new(stream).poll_shutdown(cx),
            Socket::Unix(stream) => Pin::new(stream).poll_shutdown(cx),
        }
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
