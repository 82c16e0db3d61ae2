//! The statement log sees every statement on a bottles connection, whoever sends it: generated
//! queries run directly, cornucopia's `execute`-style queries (which hand the client an opaque
//! statement), SQL written by hand, and failures.

use crate::capture::Captured;
use crate::helpers::TestDb;
use bottles::Database;
use bottles::codegen::queries::messages::{insert_messages, messages_from_user};
use bottles::codegen::queries::users::insert_users;

/// A seeded database, a capture of the log, and the database opened again under it (so its
/// connections carry the log).
async fn seeded_and_captured() -> (TestDb, Captured, Database) {
    let test = TestDb::seeded().await;
    let captured = Captured::start();
    let db = bottles::open(Some(&test.url)).await.unwrap();
    (test, captured, db)
}

fn assert_logged(log: &str, expected: &str) {
    assert!(
        log.lines().any(|line| line.contains(expected)),
        "missing {expected:?} in:\n{log}"
    );
}

#[tokio::test]
async fn every_statement_on_a_pooled_client_is_logged_whoever_sends_it() {
    let (_test, captured, db) = seeded_and_captured().await;
    let client = db.client().await.unwrap();

    let elis = messages_from_user()
        .bind(&client, &"Eli")
        .all()
        .await
        .unwrap();
    assert_eq!(elis.len(), 33);
    let (contents, authors) = (vec!["one more"; 4], vec![2; 4]);
    let inserted = insert_messages().bind(&client, &contents, &authors).await;
    assert_eq!(inserted.unwrap(), 4);
    let names: Vec<String> = (0..1000).map(|i| format!("Guest {i}")).collect();
    insert_users().bind(&client, &names).all().await.unwrap();
    let sum = client
        .query_one("SELECT $1::int + 1 AS two", &[&1i32])
        .await;
    assert_eq!(sum.unwrap().get::<_, i32>(0), 2);
    let missing = client.simple_query("SELECT * FROM nowhere").await;
    assert!(missing.is_err());
    let log = captured.text();

    assert_logged(
        &log,
        "WHERE u.name = :name ORDER BY m.id  -- messages_from_user {name: \"Eli\"}: 33 rows in ",
    );
    assert_logged(
        &log,
        "unnest(:contents::text[], :user_ids::integer[]) AS t (content, user_id)  -- insert_messages {contents: [\"one more\", \"one more\", \"one more\", … 4 items], user_ids: [2, 2, 2, … 4 items]}: 4 rows affected in ",
    );
    assert_logged(
        &log,
        "-- insert_users {names: [\"Guest 0\", \"Guest 1\", \"Guest 2\", … 1000 items]}: 1000 rows in ",
    );
    assert_logged(&log, "SELECT $1::int + 1 AS two  -- {$1: 1}: 1 row in ");
    assert_logged(
        &log,
        "SELECT * FROM nowhere  -- failed: relation \"nowhere\" does not exist (SQLSTATE 42P01) in ",
    );
    assert!(
        log.lines()
            .all(|line| line.contains(" INFO bottles::sql: ")),
        "{log}"
    );
}

#[tokio::test]
async fn a_transaction_is_logged_from_begin_to_rollback() {
    let (_test, captured, db) = seeded_and_captured().await;
    let mut client = db.client().await.unwrap();
    let transaction = client.transaction().await.unwrap();
    let names = vec!["Zoe"];
    insert_users()
        .bind(&transaction, &names)
        .all()
        .await
        .unwrap();
    transaction.rollback().await.unwrap();
    let log = captured.text();
    let statements: Vec<&str> = log
        .lines()
        .filter_map(|line| line.split(" bottles::sql: ").nth(1))
        .map(|line| line.split("  -- ").next().unwrap())
        .collect();
    assert_eq!(statements.len(), 3, "{log}");
    assert_eq!(statements[0], "START TRANSACTION");
    assert!(statements[1].starts_with("INSERT INTO \"user\""), "{log}");
    assert_eq!(statements[2], "ROLLBACK");
}

#[tokio::test]
async fn connections_opened_while_the_log_is_off_carry_nothing() {
    // The harness has opened this database's first connection before any capture started.
    let test = TestDb::seeded().await;
    let client = test.client().await;
    let captured = Captured::start();
    let elis = messages_from_user()
        .bind(&client, &"Eli")
        .all()
        .await
        .unwrap();
    assert_eq!(elis.len(), 33);
    if std::env::var_os("TEST_LOG").is_none() {
        assert_eq!(captured.text(), "");
    }
}
