//! The conversation, driven by scripted messages as libpq and tokio-postgres send them.

use super::*;

/// Builds message bodies the way libpq and tokio-postgres write them.
fn cstrs(parts: &[&str]) -> Vec<u8> {
    parts
        .iter()
        .flat_map(|p| [p.as_bytes(), b"\0"].concat())
        .collect()
}

fn parse(name: &str, sql: &str, types: &[u32]) -> Vec<u8> {
    let mut body = cstrs(&[name, sql]);
    body.extend((types.len() as i16).to_be_bytes());
    body.extend(types.iter().flat_map(|t| t.to_be_bytes()));
    body
}

fn bind(statement: &str, values: &[Option<&[u8]>]) -> Vec<u8> {
    let mut body = cstrs(&["", statement]);
    body.extend(1i16.to_be_bytes());
    body.extend(1i16.to_be_bytes());
    body.extend((values.len() as i16).to_be_bytes());
    for value in values {
        match value {
            Some(bytes) => {
                body.extend((bytes.len() as i32).to_be_bytes());
                body.extend(*bytes);
            }
            None => body.extend((-1i32).to_be_bytes()),
        }
    }
    body.extend(0i16.to_be_bytes());
    body
}

fn error(message: &str, code: &str) -> Vec<u8> {
    let mut body = vec![b'S'];
    body.extend(cstrs(&["ERROR"]));
    body.push(b'C');
    body.extend(cstrs(&[code]));
    body.push(b'M');
    body.extend(cstrs(&[message, ""]));
    body
}

const ELIS_MESSAGES: &str = "SELECT m.id, m.content, m.user_id FROM message AS m JOIN \"user\" AS u ON u.id = m.user_id WHERE u.name = $1 ORDER BY m.id";

#[test]
fn a_prepared_statement_run_later_is_reported_under_its_name_with_its_parameters() {
    let (mut talk, now) = (Conversation::default(), Instant::now());
    // Prepare: Parse, Describe, Sync.
    talk.sent(b'P', &parse("s3", ELIS_MESSAGES, &[]), now);
    talk.sent(b'D', &[b"S".as_slice(), &cstrs(&["s3"])].concat(), now);
    talk.sent(b'S', &[], now);
    for (kind, body) in [
        (b'1', vec![]),
        (
            b't',
            [1i16.to_be_bytes().as_slice(), &25u32.to_be_bytes()].concat(),
        ),
        (b'T', vec![]),
        (b'Z', vec![b'I']),
    ] {
        assert!(talk.received(kind, &body, now).is_none());
    }
    // Run it: Bind, Execute, Sync; 33 rows.
    talk.sent(b'B', &bind("s3", &[Some(b"Eli")]), now);
    talk.sent(b'E', &[], now);
    talk.sent(b'S', &[], now);
    assert!(talk.received(b'2', &[], now).is_none());
    for _ in 0..33 {
        assert!(talk.received(b'D', &[], now).is_none());
    }
    let done = talk.received(b'C', &cstrs(&["SELECT 33"]), now).unwrap();
    assert_eq!(
        done.named.map(|n| n.name.as_str()),
        Some("messages_from_user")
    );
    assert_eq!(done.outcome, Outcome::Rows(33));
    let eli = Param {
        type_oid: 25,
        binary: true,
        value: Some(b"Eli".to_vec()),
    };
    assert_eq!(done.params, [eli]);
    assert!(talk.received(b'Z', b"I", now).is_none());
    assert!(talk.pending.is_empty());
}

#[test]
fn pipelined_statements_finish_in_order_and_an_error_skips_the_rest_of_its_batch() {
    let (mut talk, now) = (Conversation::default(), Instant::now());
    talk.sent(b'P', &parse("a", "SELECT 1", &[]), now);
    talk.sent(b'P', &parse("b", "SELECT 2", &[]), now);
    for statement in ["a", "b"] {
        talk.sent(b'B', &bind(statement, &[]), now);
        talk.sent(b'E', &[], now);
        talk.sent(b'S', &[], now);
    }
    let _ = (talk.received(b'1', &[], now), talk.received(b'1', &[], now));
    let first = talk.received(b'C', &cstrs(&["SELECT 1"]), now).unwrap();
    assert_eq!(&*first.sql, "SELECT 1");
    assert!(talk.received(b'Z', b"I", now).is_none());
    let second = talk.received(b'E', &error("boom", "XX000"), now).unwrap();
    assert_eq!(
        (&*second.sql, second.outcome),
        ("SELECT 2", Outcome::Failed("boom (SQLSTATE XX000)".into()))
    );
    assert!(talk.received(b'Z', b"I", now).is_none());
    assert!(talk.pending.is_empty());

    // An error in the first of two executions in one batch: the second never runs.
    talk.sent(b'B', &bind("a", &[]), now);
    talk.sent(b'E', &[], now);
    talk.sent(b'B', &bind("b", &[]), now);
    talk.sent(b'E', &[], now);
    talk.sent(b'S', &[], now);
    assert!(talk.received(b'E', &error("no", "42P01"), now).is_some());
    assert!(talk.received(b'Z', b"I", now).is_none());
    assert!(talk.pending.is_empty(), "{:?}", talk.pending);
}

#[test]
fn a_simple_query_batch_is_one_statement_and_a_failed_prepare_is_reported() {
    let (mut talk, now) = (Conversation::default(), Instant::now());
    talk.sent(b'Q', &cstrs(&[crate::sql::SCHEMA]), now);
    for tag in ["CREATE TABLE", "CREATE TABLE", "CREATE INDEX"] {
        assert!(talk.received(b'C', &cstrs(&[tag]), now).is_none());
    }
    let schema = talk.received(b'Z', b"T", now).unwrap();
    assert_eq!(schema.named.map(|n| n.name.as_str()), Some("schema.sql"));
    assert_eq!(schema.outcome, Outcome::Done);

    talk.sent(
        b'P',
        &parse("s9", "SELECT count(*) AS count FROM \"user\"", &[]),
        now,
    );
    talk.sent(b'D', &[b"S".as_slice(), &cstrs(&["s9"])].concat(), now);
    talk.sent(b'S', &[], now);
    let failed = talk.received(
        b'E',
        &error("relation \"user\" does not exist", "42P01"),
        now,
    );
    let failed = failed.expect("the failed prepare is reported");
    assert_eq!(failed.named.map(|n| n.name.as_str()), Some("count_users"));
    assert!(matches!(failed.outcome, Outcome::Failed(ref e) if e.ends_with("(SQLSTATE 42P01)")));
    assert!(talk.received(b'Z', b"I", now).is_none());
    assert!(talk.pending.is_empty());
}

#[test]
fn a_copy_in_is_one_statement_and_its_early_sync_is_not_awaited() {
    let (mut talk, now) = (Conversation::default(), Instant::now());
    let copy = "COPY message (content, user_id) FROM STDIN (FORMAT binary)";
    talk.sent(b'P', &parse("s1", copy, &[]), now);
    talk.sent(b'S', &[], now);
    let _ = (
        talk.received(b'1', &[], now),
        talk.received(b'Z', b"T", now),
    );
    talk.sent(b'B', &bind("s1", &[]), now);
    talk.sent(b'E', &[], now);
    talk.sent(b'S', &[], now);
    talk.sent(b'd', &[], now);
    talk.sent(b'c', &[], now);
    talk.sent(b'S', &[], now);
    for kind in [b'2', b'G'] {
        assert!(talk.received(kind, &[], now).is_none());
    }
    let done = talk.received(b'C', &cstrs(&["COPY 100"]), now).unwrap();
    assert_eq!(done.named.map(|n| n.name.as_str()), Some("copy_messages"));
    assert_eq!(done.outcome, Outcome::Affected(100));
    assert!(talk.received(b'Z', b"T", now).is_none());
    assert!(talk.pending.is_empty(), "{:?}", talk.pending);
}

#[test]
fn a_failed_simple_query_is_reported_at_its_error_and_once() {
    let (mut talk, now) = (Conversation::default(), Instant::now());
    talk.sent(b'Q', &cstrs(&["SELECT * FROM nowhere"]), now);
    let failed = talk.received(b'E', &error("no", "42P01"), now).unwrap();
    assert_eq!(
        failed.outcome,
        Outcome::Failed("no (SQLSTATE 42P01)".into())
    );
    assert!(talk.received(b'Z', b"I", now).is_none());
    assert!(talk.pending.is_empty());
}

#[test]
fn command_tags_become_rows_affected_rows_or_done() {
    assert_eq!(outcome_of("SELECT 0", 0), Outcome::Rows(0));
    assert_eq!(outcome_of("INSERT 0 3", 3), Outcome::Rows(3));
    assert_eq!(outcome_of("INSERT 0 3", 0), Outcome::Affected(3));
    assert_eq!(outcome_of("DELETE 7", 0), Outcome::Affected(7));
    assert_eq!(outcome_of("DROP TABLE", 0), Outcome::Done);
    assert_eq!(outcome_of("", 0), Outcome::Done);
}
