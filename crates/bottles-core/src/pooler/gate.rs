//! Behind a transaction pooler, one request on the wire at a time.
//!
//! A transaction pooler (PgBouncer before 1.21) gives the server connection back to its pool
//! at the first `ReadyForQuery` that says the server is idle. Anything the client pipelined
//! behind that request has already been passed to the same server, and its answers then go
//! nowhere, or to another client of the pooler: a client of bottles saw "unexpected message
//! from server" about one run in eight with 24 processes through PgBouncer 1.18. So once a
//! database runs unprepared ([`super::Mode`]), the gate holds each request back until every
//! earlier one has been answered. It counts requests from what goes by (a `Sync` or a simple
//! `Query` ends one; each gets one `ReadyForQuery`), so it covers every sender: generated
//! queries, the statement `Close` tokio-postgres sends when a statement is dropped, anything
//! sent through the raw client.

use std::collections::VecDeque;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use super::mode::Mode;
use crate::wire::Hold;

/// `Sync` and simple `Query`: each ends a request.
const SYNC: u8 = b'S';
const QUERY: u8 = b'Q';
/// `Terminate`: never held back, so a connection can always close.
const TERMINATE: u8 = b'X';

#[derive(Debug)]
pub(crate) struct Gate {
    mode: Arc<Mode>,
    /// How each request on the wire ended (`Sync` or `Query`), oldest first.
    in_flight: VecDeque<u8>,
    /// The server takes COPY data: writes go on until `CopyDone` or `CopyFail`.
    copying: bool,
    waker: Option<Waker>,
}

impl Gate {
    pub(crate) fn new(mode: Arc<Mode>) -> Self {
        Self {
            mode,
            in_flight: VecDeque::new(),
            copying: false,
            waker: None,
        }
    }
}

impl Hold for Gate {
    /// Whether requests are held back: once the database runs unprepared.
    fn engaged(&self) -> bool {
        self.mode.unprepared()
    }

    fn ends_request(&self, kind: u8) -> bool {
        kind == SYNC || kind == QUERY
    }

    fn poll_open(&mut self, cx: &mut Context<'_>, next_kind: Option<u8>) -> Poll<()> {
        let open = self.in_flight.is_empty() || self.copying || next_kind == Some(TERMINATE);
        if open {
            return Poll::Ready(());
        }
        self.waker = Some(cx.waker().clone());
        Poll::Pending
    }

    fn sent(&mut self, kind: u8) {
        match kind {
            SYNC | QUERY => self.in_flight.push_back(kind),
            b'c' | b'f' => self.copying = false,
            _ => {}
        }
    }

    fn received(&mut self, kind: u8) {
        match kind {
            b'Z' => {
                self.in_flight.pop_front();
                if self.in_flight.is_empty()
                    && let Some(waker) = self.waker.take()
                {
                    waker.wake();
                }
            }
            // CopyInResponse. In the extended protocol the server ignores the `Sync` that came
            // with the `Execute` (it answers the one after `CopyDone`), so that one gets no
            // `ReadyForQuery` of its own.
            b'G' => {
                self.copying = true;
                if self.in_flight.front() == Some(&SYNC) {
                    self.in_flight.pop_front();
                }
                if let Some(waker) = self.waker.take() {
                    waker.wake();
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engaged() -> Gate {
        Gate::new(Arc::new(Mode::new(Some(false), None)))
    }

    fn open(gate: &mut Gate, next: u8) -> bool {
        let mut cx = Context::from_waker(Waker::noop());
        gate.poll_open(&mut cx, Some(next)).is_ready()
    }

    #[test]
    fn a_request_waits_until_the_one_before_is_answered() {
        let mut gate = engaged();
        assert!(open(&mut gate, b'Q'));
        gate.sent(b'Q');
        assert!(!open(&mut gate, b'P'), "held back");
        assert!(open(&mut gate, b'X'), "terminate always goes");
        gate.received(b'C');
        assert!(!open(&mut gate, b'P'));
        gate.received(b'Z');
        assert!(open(&mut gate, b'P'));
    }

    #[test]
    fn copy_data_flows_and_the_ignored_sync_is_not_waited_for() {
        let mut gate = engaged();
        for kind in [b'B', b'E', b'S'] {
            gate.sent(kind);
        }
        gate.received(b'2');
        gate.received(b'G');
        assert!(
            open(&mut gate, b'd'),
            "COPY data goes while the server takes it"
        );
        for kind in [b'd', b'c', b'S'] {
            gate.sent(kind);
        }
        assert!(!open(&mut gate, b'Q'));
        gate.received(b'C');
        gate.received(b'Z');
        assert!(open(&mut gate, b'Q'), "one ReadyForQuery ends the COPY");
    }

    #[test]
    fn engaged_only_once_the_database_runs_unprepared() {
        let mode = Arc::new(Mode::new(None, None));
        let gate = Gate::new(mode.clone());
        assert!(!gate.engaged(), "a direct connection pipelines freely");
        mode.go_unprepared("a test");
        assert!(gate.engaged());
    }
}
