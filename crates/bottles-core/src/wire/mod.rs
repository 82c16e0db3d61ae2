//! A connection's bytes, watched. [`Tapped`] wraps the connection's stream and splits the
//! PostgreSQL protocol going by in both directions into messages ([`framer`]). During start-up
//! (TLS, authentication) it reads only the server's messages, for what the opener wants to know
//! ([`Startup`]); nothing the client sends to sign in is ever read. After start-up it hands
//! the messages to up to two parties, each optional and unaware of the other: a [`Hold`] that
//! may hold requests back (the pooler's gate, [`crate::pooler`]) and a [`Watch`] that follows
//! the conversation (the statement log, [`crate::log`]). It changes no byte, and drops itself
//! once start-up is over when there is nobody to hand messages to.

pub(crate) mod framer;

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, TlsStream};

use framer::Framer;

/// Which kinds of message a [`Watch`] reads the bodies of.
pub(crate) type KindFilter = fn(u8) -> bool;
/// The client's kinds and the server's.
pub(crate) type Reads = (KindFilter, KindFilter);

/// Follows the conversation after start-up (the statement log).
pub(crate) trait Watch: Send {
    /// The kinds of message whose bodies it reads, the client's and the server's; the others
    /// pass by uncopied (a million-row COPY or result, say).
    fn reads(&self) -> Reads;
    /// A whole message went to the server (`body` empty unless asked for).
    fn sent(&mut self, kind: u8, body: &[u8], at: Instant);
    /// A whole message came from the server (`body` empty unless asked for).
    fn received(&mut self, kind: u8, body: &[u8], at: Instant);
}

/// Decides when the client's requests may go out (the pooler's gate).
pub(crate) trait Hold: Send {
    /// The kinds of message whose bodies it reads, the client's and the server's.
    fn reads(&self) -> Reads;
    /// Whether it holds anything back now; when not, writes go straight through.
    fn engaged(&self) -> bool;
    /// Whether the next request (starting with a message of `next_kind`, when known) may go
    /// now; if not, the task is woken once it may.
    fn poll_open(&mut self, cx: &mut Context<'_>, next_kind: Option<u8>) -> Poll<()>;
    /// Whether a message of `kind` is the last one of a request.
    fn ends_request(&self, kind: u8) -> bool;
    /// A whole message went to the server (`body` empty unless asked for).
    fn sent(&mut self, kind: u8, body: &[u8]);
    /// A whole message came from the server (`body` empty unless asked for).
    fn received(&mut self, kind: u8, body: &[u8]);
}

/// The `SSLRequest` message: after it, the server answers with a single byte, not a message.
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

/// A connection's stream, watched by a [`Tap`] when there is one.
pub(crate) struct Tapped<S> {
    inner: S,
    tap: Option<Box<Tap>>,
}

impl<S> Tapped<S> {
    pub(crate) fn new(inner: S, tap: Option<Box<Tap>>) -> Self {
        Self { inner, tap }
    }

    /// The stream and its tap, for TLS to wrap the one and keep the other.
    pub(crate) fn into_parts(self) -> (S, Option<Box<Tap>>) {
        (self.inner, self.tap)
    }
}

/// What watches one connection: start-up first, then the [`Hold`] and the [`Watch`] if any.
pub(crate) struct Tap {
    hold: Option<Box<dyn Hold>>,
    watch: Option<Box<dyn Watch>>,
    /// The watch's [`Watch::reads`] and the hold's [`Hold::reads`], asked once.
    reads: Reads,
    hold_reads: Reads,
    started: Arc<Startup>,
    live: bool,
    wrote_anything: bool,
    /// The client asked for TLS on this stream; the next byte read is the server's answer.
    ssl_answer_due: bool,
    frontend: Framer,
    backend: Framer,
}

/// What the tap learned during start-up, shared with the code opening the connection.
#[derive(Debug, Default)]
pub(crate) struct Startup {
    /// The process id the server gave in `BackendKeyData` (for cancelling). A pooler such as
    /// PgBouncer makes up its own, so it differs from the backend's `pg_backend_pid()`.
    pub backend_key_pid: std::sync::OnceLock<i32>,
    /// The server asked for a password (cleartext, MD5 or SCRAM).
    pub password_requested: AtomicBool,
    /// Set once the opener's own set-up statements are done: the watch starts with the next
    /// request.
    pub armed: AtomicBool,
}

/// `BackendKeyData` and `Authentication`.
const BACKEND_KEY_DATA: u8 = b'K';
const AUTHENTICATION: u8 = b'R';
const READY_FOR_QUERY: u8 = b'Z';

impl Tap {
    pub(crate) fn new(
        started: Arc<Startup>,
        hold: Option<Box<dyn Hold>>,
        watch: Option<Box<dyn Watch>>,
    ) -> Box<Self> {
        let nothing: KindFilter = |_| false;
        let reads = watch
            .as_ref()
            .map_or((nothing, nothing), |watch| watch.reads());
        let hold_reads = hold
            .as_ref()
            .map_or((nothing, nothing), |hold| hold.reads());
        Box::new(Self {
            hold,
            watch,
            reads,
            hold_reads,
            started,
            live: false,
            wrote_anything: false,
            ssl_answer_due: false,
            frontend: Framer::default(),
            backend: Framer::default(),
        })
    }

    /// The same tap on a stream that now runs TLS: start-up begins again inside it.
    pub(crate) fn over_tls(mut self: Box<Self>) -> Box<Self> {
        self.wrote_anything = false;
        self.ssl_answer_due = false;
        self
    }

    /// Whether the tap has nothing left to do: start-up is over, and nobody watches or holds.
    fn done(&self) -> bool {
        self.live && self.watch.is_none() && self.hold.is_none()
    }

    /// How many of `bytes` may be written now: all of them, or (while the hold is engaged)
    /// those through the end of the next request once the hold lets it go.
    fn poll_writable(&mut self, cx: &mut Context<'_>, bytes: &[u8]) -> Poll<usize> {
        let Some(hold) = self
            .hold
            .as_mut()
            .filter(|hold| self.live && hold.engaged())
        else {
            return Poll::Ready(bytes.len());
        };
        let next_kind = self
            .frontend
            .at_message_start()
            .then(|| bytes.first().copied());
        ready!(hold.poll_open(cx, next_kind.flatten()));
        let through = self
            .frontend
            .through_next(bytes, |kind| hold.ends_request(kind));
        Poll::Ready(through.unwrap_or(bytes.len()))
    }

    fn sent(&mut self, bytes: &[u8]) {
        if !self.live {
            if !self.wrote_anything && bytes.starts_with(&SSL_REQUEST) {
                self.ssl_answer_due = true;
            }
            self.wrote_anything |= !bytes.is_empty();
            return;
        }
        let (now, armed, reads) = (Instant::now(), self.armed(), self.reads.0);
        let hold_reads = self.hold_reads.0;
        let (hold, watch) = (&mut self.hold, &mut self.watch);
        let keep = |kind| (armed && reads(kind)) || hold_reads(kind);
        self.frontend.feed(bytes, keep, |kind, body| {
            if let Some(hold) = hold.as_mut() {
                hold.sent(kind, body);
            }
            if let Some(watch) = watch.as_mut().filter(|_| armed) {
                watch.sent(kind, body, now);
            }
        });
    }

    fn armed(&self) -> bool {
        self.live && self.started.armed.load(Ordering::Acquire)
    }

    fn received(&mut self, mut bytes: &[u8]) {
        if self.ssl_answer_due && !bytes.is_empty() {
            self.ssl_answer_due = false;
            bytes = &bytes[1..];
        }
        let (now, armed) = (Instant::now(), self.armed());
        let (live, started) = (&mut self.live, &self.started);
        let (hold, watch) = (&mut self.hold, &mut self.watch);
        let (was_live, reads, hold_reads) = (*live, self.reads.1, self.hold_reads.1);
        let keep = |kind| {
            (!was_live && matches!(kind, BACKEND_KEY_DATA | AUTHENTICATION))
                || (armed && reads(kind))
                || (was_live && hold_reads(kind))
        };
        self.backend.feed(bytes, keep, |kind, body| {
            if !*live {
                startup_message(started, kind, body);
                *live = kind == READY_FOR_QUERY;
                return;
            }
            if let Some(hold) = hold.as_mut() {
                hold.received(kind, body);
            }
            if let Some(watch) = watch.as_mut().filter(|_| armed) {
                watch.received(kind, body, now);
            }
        });
    }
}

/// What start-up tells: the cancel key's process id, and whether a password was asked for.
fn startup_message(started: &Startup, kind: u8, body: &[u8]) {
    let code = body
        .get(..4)
        .map(|b| i32::from_be_bytes(b.try_into().expect("4 bytes")));
    match (kind, code) {
        (BACKEND_KEY_DATA, Some(pid)) => {
            let _ = started.backend_key_pid.set(pid);
        }
        // AuthenticationCleartextPassword, AuthenticationMD5Password, AuthenticationSASL.
        (AUTHENTICATION, Some(3 | 5 | 10)) => {
            started.password_requested.store(true, Ordering::Release);
        }
        _ => {}
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tapped<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.inner).poll_read(cx, buf))?;
        if let Some(tap) = &mut self.tap {
            tap.received(&buf.filled()[before..]);
            if tap.done() {
                self.tap = None;
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tapped<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let allowed = match &mut self.tap {
            Some(tap) => ready!(tap.poll_writable(cx, buf)),
            None => buf.len(),
        };
        let written = ready!(Pin::new(&mut self.inner).poll_write(cx, &buf[..allowed]))?;
        if let Some(tap) = &mut self.tap {
            tap.sent(&buf[..written]);
        }
        Poll::Ready(Ok(written))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<S: TlsStream + Unpin> TlsStream for Tapped<S> {
    fn channel_binding(&self) -> ChannelBinding {
        self.inner.channel_binding()
    }
}
