use super::*;

fn pooled() -> Gate {
    let mode = Arc::new(Mode::new(None, None));
    mode.behind_a_pooler("a test");
    Gate::new(mode)
}

fn open(gate: &mut Gate, next: u8) -> bool {
    let mut cx = Context::from_waker(Waker::noop());
    gate.poll_open(&mut cx, Some(next)).is_ready()
}

fn query(gate: &mut Gate, sql: &str) {
    gate.sent(QUERY, format!("{sql}\0").as_bytes());
}

/// An unnamed statement: Parse, Bind, Describe, Execute, Sync (tokio-postgres' `query_typed`).
fn statement(gate: &mut Gate, sql: &str) {
    gate.sent(PARSE, format!("\0{sql}\0\0\0").as_bytes());
    gate.sent(BIND, b"\0\0\0\0\0\0\0\0");
    gate.sent(b'D', b"P\0");
    gate.sent(EXECUTE, b"\0\0\0\0\0");
    gate.sent(SYNC, b"");
}

fn answered(gate: &mut Gate, status: u8) {
    gate.received(b'C', b"");
    gate.received(READY_FOR_QUERY, &[status]);
}

#[test]
fn outside_a_transaction_a_request_waits_until_the_one_before_is_answered() {
    let mut gate = pooled();
    assert!(open(&mut gate, PARSE));
    statement(&mut gate, "SELECT 1");
    assert!(!open(&mut gate, PARSE), "held back");
    assert!(open(&mut gate, TERMINATE), "terminate always goes");
    gate.received(b'C', b"");
    assert!(!open(&mut gate, PARSE));
    gate.received(READY_FOR_QUERY, b"I");
    assert!(open(&mut gate, PARSE));
}

#[test]
fn behind_a_begin_requests_follow_unanswered_until_one_may_end_the_transaction() {
    let mut gate = pooled();
    query(&mut gate, "BEGIN; SET LOCAL statement_timeout = 5000; ");
    assert!(
        open(&mut gate, PARSE),
        "the BEGIN keeps the server connection"
    );
    statement(&mut gate, "SELECT id FROM message WHERE user_id = $1");
    assert!(open(&mut gate, QUERY), "so does a SELECT inside");
    query(&mut gate, "COMMIT");
    assert!(!open(&mut gate, QUERY), "nothing goes behind a COMMIT");
    answered(&mut gate, b'T');
    answered(&mut gate, b'T');
    assert!(!open(&mut gate, QUERY), "the COMMIT is still in flight");
    answered(&mut gate, b'I');
    assert!(open(&mut gate, QUERY));
}

#[test]
fn inside_a_transaction_the_status_keeps_it_open_and_an_idle_one_closes_it() {
    let mut gate = pooled();
    query(&mut gate, "BEGIN");
    answered(&mut gate, b'T');
    statement(&mut gate, "SELECT 1");
    assert!(
        open(&mut gate, PARSE),
        "the last ReadyForQuery said: in a transaction"
    );
    statement(&mut gate, "SELECT 2");
    answered(&mut gate, b'E');
    assert!(
        open(&mut gate, PARSE),
        "a failed transaction still holds the connection"
    );
    answered(&mut gate, b'E');
    query(&mut gate, "ROLLBACK");
    answered(&mut gate, b'I');
    statement(&mut gate, "SELECT 3");
    assert!(!open(&mut gate, PARSE), "outside a transaction again");
}

#[test]
fn a_statement_whose_sql_is_not_in_its_request_stops_requests_going_together() {
    let mut gate = pooled();
    query(&mut gate, "BEGIN");
    answered(&mut gate, b'T');
    // A Bind to a statement named in an earlier request: what it runs is not known here.
    gate.sent(BIND, b"\0s1\0\0\0\0\0\0\0");
    gate.sent(EXECUTE, b"\0\0\0\0\0");
    gate.sent(SYNC, b"");
    assert!(!open(&mut gate, PARSE));
    answered(&mut gate, b'T');
    statement(&mut gate, "commit");
    assert!(!open(&mut gate, PARSE), "an unnamed COMMIT may end it");
}

#[test]
fn a_request_that_executes_nothing_keeps_the_transaction() {
    let mut gate = pooled();
    query(&mut gate, "BEGIN");
    gate.sent(PARSE, b"s7\0SELECT $1\0\0\0");
    gate.sent(b'D', b"Ss7\0");
    gate.sent(SYNC, b"");
    assert!(
        open(&mut gate, QUERY),
        "a prepare follows a BEGIN and is followed"
    );
}

#[test]
fn a_request_already_begun_is_never_cut_in_two() {
    let mut gate = pooled();
    statement(&mut gate, "SELECT 1");
    gate.sent(PARSE, b"\0SELECT 2\0\0\0");
    assert!(
        open(&mut gate, BIND),
        "its first message went, so the rest follows"
    );
}

#[test]
fn copy_data_flows_and_the_ignored_sync_is_not_waited_for() {
    let mut gate = pooled();
    gate.sent(PARSE, b"\0COPY message FROM STDIN\0\0\0");
    for kind in [BIND, EXECUTE, SYNC] {
        gate.sent(kind, b"\0\0\0\0\0\0\0\0");
    }
    gate.received(b'1', b"");
    gate.received(b'2', b"");
    gate.received(b'G', b"");
    assert!(
        open(&mut gate, b'd'),
        "COPY data goes while the server takes it"
    );
    for kind in [b'd', b'c', SYNC] {
        gate.sent(kind, b"");
    }
    assert!(!open(&mut gate, QUERY));
    answered(&mut gate, b'I');
    assert!(open(&mut gate, QUERY), "one ReadyForQuery ends the COPY");
}

#[test]
fn a_simple_query_copy_has_no_sync_to_forget() {
    let mut gate = pooled();
    query(&mut gate, "COPY message FROM STDIN");
    gate.received(b'G', b"");
    for kind in [b'd', b'c'] {
        gate.sent(kind, b"");
    }
    assert!(
        !open(&mut gate, QUERY),
        "the COPY's Query still waits for its answer"
    );
    answered(&mut gate, b'I');
    assert!(open(&mut gate, QUERY));
}

#[test]
fn engaged_only_once_a_pooler_is_seen() {
    let mode = Arc::new(Mode::new(Some(false), None));
    let gate = Gate::new(mode.clone());
    assert!(
        !gate.engaged(),
        "statement_cache_size=0 alone pipelines freely on a direct connection"
    );
    mode.behind_a_pooler("a test");
    assert!(gate.engaged());
}
