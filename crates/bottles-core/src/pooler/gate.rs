//! Behind a transaction pooler, no request goes out while one in flight may free the server
//! connection.
//!
//! A transaction pooler (PgBouncer before 1.21) gives the server connection back to its pool
//! at the first `ReadyForQuery` that says the server is idle. Anything the client pipelined
//! behind that request has already been passed to the same server, and its answers then go
//! nowhere, or to another client of the pooler: a client of bottles saw "unexpected message
//! from server" about one run in eight with 24 processes through PgBouncer 1.18. So once a
//! pooler is seen ([`super::Mode::pooled`]), the gate holds each request back until every
//! earlier one has been answered, unless each of those leaves a transaction open: then the
//! pooler keeps the server connection, and requests may follow unanswered (a `BEGIN`, the
//! statements inside, the `COMMIT`: one round trip). What a request does to the transaction
//! is read from its SQL ([`super::effect`]), and from the status each `ReadyForQuery` gives.
//!
//! The gate counts requests from what goes by (a `Sync` or a simple `Query` ends one; each gets
//! one `ReadyForQuery`), so it covers every sender: generated queries, the statement `Close`
//! tokio-postgres sends when a statement is dropped, anything sent through the raw client.

use std::collections::VecDeque;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use super::effect::{self, Effect};
use super::mode::Mode;
use crate::wire::Hold;
use crate::wire::framer::Body;

const SYNC: u8 = b'S';
const QUERY: u8 = b'Q';
const PARSE: u8 = b'P';
const BIND: u8 = b'B';
const EXECUTE: u8 = b'E';
/// `Terminate`: never held back, so a connection can always close.
const TERMINATE: u8 = b'X';
const READY_FOR_QUERY: u8 = b'Z';
/// `ReadyForQuery`'s status outside a transaction block.
const IDLE: u8 = b'I';

#[derive(Debug)]
pub(crate) struct Gate {
    mode: Arc<Mode>,
    /// Each request on the wire, oldest first: how it ended (`Sync` or `Query`) and what it
    /// does to the transaction.
    in_flight: VecDeque<(u8, Effect)>,
    /// The request being sent, so far.
    sending: Option<Request>,
    /// The transaction status of the last `ReadyForQuery`.
    status: u8,
    /// The server takes COPY data: writes go on until `CopyDone` or `CopyFail`.
    copying: bool,
    waker: Option<Waker>,
}

/// An extended-protocol request as its messages go by.
#[derive(Debug, Default)]
struct Request {
    effect: Option<Effect>,
    /// An unnamed statement was parsed in it, so a `Bind` of "" is to that one.
    parsed: Option<Effect>,
}

impl Gate {
    pub(crate) fn new(mode: Arc<Mode>) -> Self {
        Self {
            mode,
            in_flight: VecDeque::new(),
            sending: None,
            status: IDLE,
            copying: false,
            waker: None,
        }
    }

    /// Whether, once every request in flight is answered, a transaction is surely still open.
    fn stays_in_transaction(&self) -> bool {
        let mut open = self.status != IDLE;
        for (_, effect) in &self.in_flight {
            open = match effect {
                Effect::Opens => true,
                Effect::Keeps => open,
                Effect::MayEnd => false,
            };
        }
        open
    }

    fn wake(&mut self) {
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

impl Request {
    fn message(&mut self, kind: u8, body: &[u8]) {
        let mut body = Body(body);
        match kind {
            PARSE => {
                let (name, sql) = (body.cstr(), body.cstr());
                let effect = sql.map_or(Effect::MayEnd, effect::of_statement);
                self.parsed = name.filter(|name| name.is_empty()).map(|_| effect);
            }
            BIND => {
                let (_portal, statement) = (body.cstr(), body.cstr());
                // A named statement was parsed in an earlier request: its SQL is not known here.
                let effect = match statement {
                    Some("") => self.parsed.unwrap_or(Effect::MayEnd),
                    _ => Effect::MayEnd,
                };
                self.effect = Some(self.effect.map_or(effect, |before| worse(before, effect)));
            }
            // Executing a portal bound in an earlier request.
            EXECUTE if self.effect.is_none() => self.effect = Some(Effect::MayEnd),
            _ => {}
        }
    }
}

/// Of two effects in one request, the one to assume.
fn worse(one: Effect, other: Effect) -> Effect {
    match (one, other) {
        (Effect::MayEnd, _) | (_, Effect::MayEnd) => Effect::MayEnd,
        (Effect::Opens, _) | (_, Effect::Opens) => Effect::Opens,
        _ => Effect::Keeps,
    }
}

impl Hold for Gate {
    fn reads(&self) -> crate::wire::Reads {
        (
            |kind| matches!(kind, QUERY | PARSE | BIND),
            |kind| kind == READY_FOR_QUERY,
        )
    }

    /// Whether requests are held back: once a pooler is seen.
    fn engaged(&self) -> bool {
        self.mode.pooled()
    }

    fn ends_request(&self, kind: u8) -> bool {
        kind == SYNC || kind == QUERY
    }

    fn poll_open(&mut self, cx: &mut Context<'_>, next_kind: Option<u8>) -> Poll<()> {
        let open = self.sending.is_some()
            || self.in_flight.is_empty()
            || self.copying
            || next_kind == Some(TERMINATE)
            || self.stays_in_transaction();
        if open {
            return Poll::Ready(());
        }
        self.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    fn sent(&mut self, kind: u8, body: &[u8]) {
        match kind {
            QUERY => {
                let sql = Body(body).cstr();
                let effect = sql.map_or(Effect::MayEnd, effect::of_simple_query);
                self.in_flight.push_back((QUERY, effect));
            }
            SYNC => {
                let request = self.sending.take().unwrap_or_default();
                // A request that executes nothing (a Parse and Describe, a Close) keeps it.
                self.in_flight
                    .push_back((SYNC, request.effect.unwrap_or(Effect::Keeps)));
            }
            b'c' | b'f' => self.copying = false,
            // CopyData, and the client's last word.
            b'd' | TERMINATE => {}
            _ => self.sending.get_or_insert_default().message(kind, body),
        }
    }

    fn received(&mut self, kind: u8, body: &[u8]) {
        match kind {
            READY_FOR_QUERY => {
                self.in_flight.pop_front();
                if let Some(&status) = body.first() {
                    self.status = status;
                }
                self.wake();
            }
            // CopyInResponse. In the extended protocol the server ignores the `Sync` that came
            // with the `Execute` (it answers the one after `CopyDone`), so that one gets no
            // `ReadyForQuery` of its own.
            b'G' => {
                self.copying = true;
                // Everything before the COPY has been answered, so its request is the oldest.
                if matches!(self.in_flight.front(), Some((SYNC, _))) {
                    self.in_flight.pop_front();
                }
                self.wake();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
