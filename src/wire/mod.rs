//! The statement log's view of a connection: [`Tapped`] wraps the connection's byte stream,
//! reads the PostgreSQL protocol going by in both directions, and hands every statement that
//! finishes to a sink (the statement log, [`crate::echo`]). It changes no byte, and a connection opened while the log is
//! off carries no tap at all.
//!
//! Watching the wire, rather than wrapping the client, is what lets the log see every statement
//! whoever issues it: cornucopia's generated code hands its client an opaque `ToStatement`, so a
//! client wrapper never learns the SQL of an `execute` or of a statement prepared earlier.

mod conversation;
mod framer;
mod gate;
mod values;

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, TlsStream};

use conversation::{Conversation, reads_backend, reads_frontend};
pub(crate) use conversation::{Finished, Outcome};
use framer::Framer;
pub(crate) use gate::Gate;
pub(crate) use values::render;

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

/// Reads the conversation and hands each finished statement to its sink, if it has one. During
/// start-up (TLS, authentication) it reads only the server's messages, and keeps the process id
/// of its `BackendKeyData`; nothing the client sends to sign in is ever read. The log starts
/// once the connection is armed ([`Startup::armed`]), after bottles' own set-up statements.
/// With a [`Gate`], it also holds requests back behind a transaction pooler.
pub(crate) struct Tap {
    sink: Option<fn(&Finished)>,
    gate: Option<Gate>,
    started: Arc<Startup>,
    live: bool,
    wrote_anything: bool,
    /// The client asked for TLS on this stream; the next byte read is the server's answer.
    ssl_answer_due: bool,
    frontend: Framer,
    backend: Framer,
    conversation: Conversation,
}

/// What the tap learned during start-up, shared with the code opening the connection.
#[derive(Debug, Default)]
pub(crate) struct Startup {
    /// The process id the server gave in `BackendKeyData` (for cancelling). A pooler such as
    /// PgBouncer makes up its own, so it differs from the backend's `pg_backend_pid()`.
    pub backend_key_pid: std::sync::OnceLock<i32>,
    /// Set once bottles' own set-up statements are done: the log starts with the next request.
    pub armed: AtomicBool,
}

impl Tap {
    /// A tap that logs finished statements to `sink` (none: it only watches start-up).
    pub(crate) fn new(
        sink: Option<fn(&Finished)>,
        started: Arc<Startup>,
        gate: Option<Gate>,
    ) -> Box<Self> {
        Box::new(Self {
            sink,
            gate,
            started,
            live: false,
            wrote_anything: false,
            ssl_answer_due: false,
            frontend: Framer::default(),
            backend: Framer::default(),
            conversation: Conversation::default(),
        })
    }

    /// The same tap on a stream that now runs TLS: start-up begins again inside it.
    pub(crate) fn over_tls(mut self: Box<Self>) -> Box<Self> {
        self.wrote_anything = false;
        self.ssl_answer_due = false;
        self
    }

    /// Whether the tap has nothing left to do: start-up is over, and there is no log or gate.
    fn done(&self) -> bool {
        self.live && self.sink.is_none() && self.gate.is_none()
    }

    /// How many of `bytes` may be written now: all of them, or (behind a pooler) those through
    /// the end of the next request once every earlier request has been answered.
    fn poll_writable(&mut self, cx: &mut Context<'_>, bytes: &[u8]) -> Poll<usize> {
        let Some(gate) = self
            .gate
            .as_mut()
            .filter(|gate| self.live && gate.engaged())
        else {
            return Poll::Ready(bytes.len());
        };
        let next_kind = self
            .frontend
            .at_message_start()
            .then(|| bytes.first().copied());
        ready!(gate.poll_open(cx, next_kind.flatten()));
        let through = self.frontend.through_next(bytes, Gate::ends_request);
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
        let (now, armed, conversation) = (Instant::now(), self.armed(), &mut self.conversation);
        let gate = &mut self.gate;
        self.frontend.feed(bytes, reads_frontend, |kind, body| {
            if let Some(gate) = gate.as_mut() {
                gate.sent(kind);
            }
            if armed {
                conversation.sent(kind, body, now);
            }
        });
    }

    fn armed(&self) -> bool {
        self.live && self.sink.is_some() && self.started.armed.load(Ordering::Acquire)
    }

    fn received(&mut self, mut bytes: &[u8]) {
        if self.ssl_answer_due && !bytes.is_empty() {
            self.ssl_answer_due = false;
            bytes = &bytes[1..];
        }
        let (now, sink, armed) = (Instant::now(), self.sink, self.armed());
        let (live, started, conversation) = (&mut self.live, &self.started, &mut self.conversation);
        let gate = &mut self.gate;
        let keep = |kind| reads_backend(kind) || kind == b'K';
        self.backend.feed(bytes, keep, |kind, body| {
            if !*live {
                if kind == b'K' {
                    let pid = body
                        .get(..4)
                        .map(|b| i32::from_be_bytes(b.try_into().expect("4 bytes")));
                    let _ = pid.map(|pid| started.backend_key_pid.set(pid));
                }
                *live = kind == b'Z';
                return;
            }
            if let Some(gate) = gate.as_mut() {
                gate.received(kind);
            }
            if armed {
                let finished = conversation.received(kind, body, now);
                if let (Some(finished), Some(sink)) = (finished, sink) {
                    sink(&finished);
                }
            }
        });
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
