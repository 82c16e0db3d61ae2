//! `bottles::write_once` in the library: eight tasks with one key write once and all get the
//! first answer; another request under the key is `KeyReused`; a failed write stores nothing.

use bottles::codegen::queries::users::insert_user;
use bottles::{Answer, Error};

use crate::helpers::TestDb;

async fn add_user(test: &TestDb, key: &str, name: &str) -> Result<Answer, Error> {
    let mut client = test.client().await;
    let request = format!("add user {name}");
    bottles::write_once(&mut client, key, request.as_bytes(), async |tx| {
        let user = insert_user().bind(tx, &name).one().await?;
        Ok::<_, Error>((201, format!("user {}", user.id)))
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn eight_tasks_with_one_key_write_once_and_share_the_answer() {
    let test = TestDb::seeded().await;
    let tasks = (0..8).map(|_| add_user(&test, "one-key", "Zed"));
    let answers: Vec<Answer> = futures::future::try_join_all(tasks).await.unwrap();
    let done = answers
        .iter()
        .filter(|a| matches!(a, Answer::Done { .. }))
        .count();
    assert_eq!(done, 1, "{answers:?}");
    let bodies: Vec<&String> = answers
        .iter()
        .map(|a| match a {
            Answer::Done { body, .. } | Answer::Replayed { body, .. } => body,
            Answer::KeyReused => panic!("same request"),
        })
        .collect();
    assert!(bodies.iter().all(|b| *b == bodies[0]), "{bodies:?}");
    assert_eq!(test.counts().await, (4, 100));
    let other = add_user(&test, "one-key", "Ann").await.unwrap();
    assert_eq!(other, Answer::KeyReused);
    assert_eq!(test.counts().await, (4, 100));
}

#[tokio::test]
async fn a_failed_write_stores_nothing_so_the_key_can_be_retried() {
    let test = TestDb::seeded().await;
    let mut client = test.client().await;
    let failed = bottles::write_once(&mut client, "retry-me", b"x", async |tx| {
        tx.batch_execute("SELECT 1/0").await?;
        Ok::<_, Error>((201, String::new()))
    })
    .await;
    assert!(failed.is_err());
    let retried = add_user(&test, "retry-me", "Zed").await.unwrap();
    assert!(
        matches!(retried, Answer::Done { status: 201, .. }),
        "{retried:?}"
    );
}
