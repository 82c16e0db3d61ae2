//! The notebook's results, through the library, against a real PostgreSQL.

mod common;

use bottles::codegen::queries::messages::Message;
use bottles::codegen::queries::users::insert_users;
use bottles::{Error, SeedPlan};
use common::TestDb;

fn contents(messages: &[Message]) -> Vec<&str> {
    messages.iter().map(|m| m.content.as_str()).collect()
}

fn ids(messages: &[Message]) -> Vec<i32> {
    messages.iter().map(|m| m.id).collect()
}

/// Eli's first five messages in the notebook: ids 2, 5, …, 14 with 98, 95, … 86 bottles.
fn assert_elis_first_five(messages: &[Message]) {
    assert_eq!(ids(messages), [2, 5, 8, 11, 14]);
    assert_eq!(contents(messages), bottles_of([98, 95, 92, 89, 86]));
}

fn bottles_of<const N: usize>(counts: [u32; N]) -> [String; N] {
    counts.map(|i| format!("{i} bottles of beer on the wall..."))
}

#[tokio::test]
async fn seed_gives_three_users_and_a_hundred_messages() {
    let test = TestDb::seeded().await;
    let client = test.client().await;
    assert_eq!(bottles::user_count(&**client).await.unwrap(), 3);
    assert_eq!(bottles::message_count(&**client).await.unwrap(), 100);
}

#[tokio::test]
async fn joined_load_gives_each_user_their_messages_in_order() {
    let test = TestDb::seeded().await;
    let users = bottles::users_with_messages_joined(&**test.client().await)
        .await
        .unwrap();

    let counts: Vec<(i32, &str, usize)> = users
        .iter()
        .map(|u| (u.id, u.name.as_str(), u.messages.len()))
        .collect();
    assert_eq!(counts, [(1, "Nick", 34), (2, "Eli", 33), (3, "Paul", 33)]);

    let nick = &users[0];
    assert_eq!(ids(&nick.messages[..5]), [1, 4, 7, 10, 13]);
    assert_eq!(
        contents(&nick.messages[..5]),
        bottles_of([99, 96, 93, 90, 87])
    );
    assert!(nick.messages.iter().all(|m| m.user_id == 1));
    assert_elis_first_five(&users[1].messages[..5]);
    assert_eq!(contents(&users[0].messages[33..]), bottles_of([0]));
}

#[tokio::test]
async fn chained_filter_with_selectin_load_finds_eli() {
    let test = TestDb::seeded().await;
    let found = bottles::users_by_name_selectin(&**test.client().await, "Eli")
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    let eli = &found[0];
    assert_eq!(
        (eli.id, eli.name.as_str(), eli.messages.len()),
        (2, "Eli", 33)
    );
    assert_elis_first_five(&eli.messages[..5]);
}

#[tokio::test]
async fn messages_from_user_eli_returns_his_33() {
    let test = TestDb::seeded().await;
    let messages = bottles::messages_from(&**test.client().await, "Eli")
        .await
        .unwrap();
    assert_eq!(messages.len(), 33);
    assert!(messages.iter().all(|m| m.user_id == 2));
    assert_elis_first_five(&messages[..5]);
}

#[tokio::test]
async fn joined_and_selectin_loads_agree_user_by_user() {
    let test = TestDb::seeded().await;
    let client = test.client().await;
    let joined = bottles::users_with_messages_joined(&**client)
        .await
        .unwrap();
    assert_eq!(joined.len(), 3);
    for user in &joined {
        let selected = bottles::users_by_name_selectin(&**client, &user.name)
            .await
            .unwrap();
        assert_eq!(
            selected,
            std::slice::from_ref(user),
            "select-in load of {}",
            user.name
        );
        let from_user = bottles::messages_from(&**client, &user.name).await.unwrap();
        assert_eq!(from_user, user.messages, "afrom_user of {}", user.name);
    }
    let total: usize = joined.iter().map(|u| u.messages.len()).sum();
    assert_eq!(total, 100);
}

#[tokio::test]
async fn a_user_without_messages_comes_back_with_an_empty_list() {
    let test = TestDb::seeded().await;
    let client = test.client().await;
    let new_ids = insert_users()
        .bind(&**client, &vec!["Zoe"])
        .all()
        .await
        .unwrap();
    assert_eq!(new_ids, [4]);

    let joined = bottles::users_with_messages_joined(&**client)
        .await
        .unwrap();
    assert_eq!(joined.len(), 4);
    assert_eq!((joined[3].id, joined[3].name.as_str()), (4, "Zoe"));
    assert!(joined[3].messages.is_empty());
    assert_eq!(
        joined[..3].iter().map(|u| u.messages.len()).sum::<usize>(),
        100
    );

    let selected = bottles::users_by_name_selectin(&**client, "Zoe")
        .await
        .unwrap();
    assert_eq!(selected, [joined[3].clone()]);
    assert!(
        bottles::messages_from(&**client, "Zoe")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn an_unknown_name_is_an_empty_answer_not_an_error() {
    let test = TestDb::seeded().await;
    let client = test.client().await;
    for name in ["Nobody", "eli", "", "Robert'); DROP TABLE \"user\";--"] {
        assert!(
            bottles::users_by_name_selectin(&**client, name)
                .await
                .unwrap()
                .is_empty(),
            "{name:?}"
        );
        assert!(
            bottles::messages_from(&**client, name)
                .await
                .unwrap()
                .is_empty(),
            "{name:?}"
        );
        let report = bottles::run_query_cells(&**client, name).await.unwrap();
        assert!(report.users_named.is_empty());
        assert_eq!(report.messages_from_user.count, 0);
    }
    assert_eq!(
        bottles::user_count(&**client).await.unwrap(),
        3,
        "the injection text was only data"
    );
}

#[tokio::test]
async fn the_query_report_holds_every_notebook_cell() {
    let test = TestDb::seeded().await;
    let report = bottles::run_query_cells(&**test.client().await, "Eli")
        .await
        .unwrap();
    assert_eq!((report.user_count, report.message_count), (3, 100));
    let summary: Vec<(&str, usize)> = report
        .users_with_messages
        .iter()
        .map(|u| (u.name.as_str(), u.message_count))
        .collect();
    assert_eq!(summary, [("Nick", 34), ("Eli", 33), ("Paul", 33)]);
    assert_eq!(
        contents(&report.users_with_messages[0].first_messages),
        bottles_of([99, 96, 93, 90, 87])
    );
    assert_eq!(report.users_named.len(), 1);
    assert_eq!(report.users_named[0].message_count, 33);
    assert_elis_first_five(&report.users_named[0].first_messages);
    assert_eq!(report.messages_from_user.count, 33);
    assert_elis_first_five(&report.messages_from_user.first_messages);
}

#[tokio::test]
async fn a_second_seed_is_refused_and_changes_nothing() {
    let test = TestDb::seeded().await;
    let mut client = test.client().await;
    let refused = bottles::seed(&mut client, &SeedPlan::notebook()).await;
    assert!(
        matches!(
            refused,
            Err(Error::AlreadySeeded {
                users: 3,
                messages: 100
            })
        ),
        "{refused:?}"
    );
    assert_eq!(bottles::user_count(&**client).await.unwrap(), 3);
    assert_eq!(bottles::message_count(&**client).await.unwrap(), 100);
    let message = refused.unwrap_err().to_string();
    assert!(
        message.contains("bottles reset"),
        "the refusal says what to do: {message}"
    );
}

#[tokio::test]
async fn two_seeds_at_once_insert_the_data_exactly_once() {
    let test = TestDb::empty().await;
    bottles::reset(&mut test.client().await).await.unwrap();
    let (mut first, mut second) = (test.client().await, test.client().await);
    let plan = SeedPlan::notebook();
    let (a, b) = tokio::join!(
        bottles::seed(&mut first, &plan),
        bottles::seed(&mut second, &plan)
    );
    let refused = [&a, &b]
        .iter()
        .filter(|r| matches!(r, Err(Error::AlreadySeeded { .. })))
        .count();
    assert_eq!(
        (a.is_ok() as usize + b.is_ok() as usize, refused),
        (1, 1),
        "{a:?} / {b:?}"
    );
    assert_eq!(bottles::user_count(&**first).await.unwrap(), 3);
    assert_eq!(bottles::message_count(&**first).await.unwrap(), 100);
}

#[tokio::test]
async fn reset_twice_works_and_empties_the_tables() {
    let test = TestDb::seeded().await;
    let mut client = test.client().await;
    for _ in 0..2 {
        let report = bottles::reset(&mut client).await.unwrap();
        assert_eq!(report.tables, ["user", "message"]);
        assert_eq!(bottles::user_count(&**client).await.unwrap(), 0);
        assert_eq!(bottles::message_count(&**client).await.unwrap(), 0);
    }
    // Fresh tables restart their ids, so a new seed matches the notebook again.
    bottles::seed(&mut client, &SeedPlan::notebook())
        .await
        .unwrap();
    let users = bottles::users_with_messages_joined(&**client)
        .await
        .unwrap();
    assert_eq!(ids(&users[0].messages[..5]), [1, 4, 7, 10, 13]);
}

#[tokio::test]
async fn before_any_reset_the_missing_tables_are_named() {
    let test = TestDb::empty().await;
    let mut client = test.client().await;
    let seeded = bottles::seed(&mut client, &SeedPlan::notebook()).await;
    assert!(matches!(seeded, Err(Error::MissingTables)), "{seeded:?}");
    let queried = bottles::run_query_cells(&**client, "Eli").await;
    assert!(matches!(queried, Err(Error::MissingTables)), "{queried:?}");
}

#[tokio::test]
async fn bad_urls_and_unreachable_servers_are_clear_errors_without_the_password() {
    let invalid =
        bottles::Database::open(Some("postgres://bob:hunter2@127.0.0.1:notaport/db")).await;
    let message = invalid.expect_err("an invalid URL fails").to_string();
    assert!(message.starts_with("invalid DATABASE_URL"), "{message}");
    assert!(!message.contains("hunter2"), "{message}");

    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    let unreachable = bottles::Database::open(Some("postgres://bob:hunter2@127.0.0.1:1/db")).await;
    let message = unreachable
        .expect_err("an unreachable server fails")
        .to_string();
    assert!(
        message.starts_with("could not connect to postgres://bob@127.0.0.1:1/db"),
        "{message}"
    );
    assert!(
        !message.contains("hunter2") && !message.contains('\n'),
        "{message}"
    );
}

#[tokio::test]
async fn debug_output_and_the_target_never_show_the_password() {
    let test = TestDb::empty().await;
    // Keep a password the URL already has; else add one (trust auth, as here, ignores it).
    let config: tokio_postgres::Config = test.url.parse().unwrap();
    let (url, password) = match config.get_password() {
        Some(password) => (
            test.url.clone(),
            String::from_utf8(password.to_vec()).unwrap(),
        ),
        None => (
            test.url.replacen('@', ":hunter2@", 1),
            "hunter2".to_string(),
        ),
    };
    let db = bottles::Database::open(Some(&url)).await.unwrap();
    let shown = format!("{db:?} {}", db.target());
    assert!(
        shown.contains("postgres://") && !shown.contains(&password),
        "{shown}"
    );
    assert_eq!(
        bottles::user_count(&**db.client().await.unwrap())
            .await
            .err()
            .map(|e| e.to_string()),
        Some(bottles::Error::MissingTables.to_string())
    );
}
