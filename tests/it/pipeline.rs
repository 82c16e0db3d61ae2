//! The notebook's results through the library, against a real PostgreSQL: the generated
//! queries run directly on a pooled client, and the library's loaders and steps.

use bottles::codegen::queries::users::insert_users;
use bottles::{Error, SeedPlan};

use crate::helpers::{
    TestDb, assert_elis_first_five, bottles_of, contents, counts, declared_tables, ids, joined,
    latest_migration, messages_from,
};

#[tokio::test]
async fn seed_gives_three_users_and_a_hundred_messages() {
    let test = TestDb::seeded().await;
    assert_eq!(test.counts().await, (3, 100));
}

#[tokio::test]
async fn joined_load_gives_each_user_their_messages_in_order() {
    let test = TestDb::seeded().await;
    let users = joined(&test.client().await).await;

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
    let found = bottles::user_by_name_with_messages(&test.client().await, "Eli")
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
    let messages = messages_from(&test.client().await, "Eli").await;
    assert_eq!(messages.len(), 33);
    assert!(messages.iter().all(|m| m.user_id == 2));
    assert_elis_first_five(&messages[..5]);
}

#[tokio::test]
async fn joined_and_selectin_loads_agree_user_by_user() {
    let test = TestDb::seeded().await;
    let client = test.client().await;
    let joined = joined(&client).await;
    assert_eq!(joined.len(), 3);
    for user in &joined {
        let selected = bottles::user_by_name_with_messages(&client, &user.name)
            .await
            .unwrap();
        assert_eq!(
            selected,
            std::slice::from_ref(user),
            "select-in load of {}",
            user.name
        );
        let from_user = messages_from(&client, &user.name).await;
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
        .bind(&client, &vec!["Zoe"])
        .all()
        .await
        .unwrap();
    assert_eq!(new_ids, [4]);

    let joined = joined(&client).await;
    assert_eq!(joined.len(), 4);
    assert_eq!((joined[3].id, joined[3].name.as_str()), (4, "Zoe"));
    assert!(joined[3].messages.is_empty());
    assert_eq!(
        joined[..3].iter().map(|u| u.messages.len()).sum::<usize>(),
        100
    );

    let selected = bottles::user_by_name_with_messages(&client, "Zoe")
        .await
        .unwrap();
    assert_eq!(selected, [joined[3].clone()]);
    assert!(messages_from(&client, "Zoe").await.is_empty());
}

#[tokio::test]
async fn an_unknown_name_is_an_empty_answer_not_an_error() {
    let test = TestDb::seeded().await;
    let client = test.client().await;
    for name in ["Nobody", "eli", "", "Robert'); DROP TABLE \"user\";--"] {
        assert!(
            bottles::user_by_name_with_messages(&client, name)
                .await
                .unwrap()
                .is_empty(),
            "{name:?}"
        );
        assert!(messages_from(&client, name).await.is_empty(), "{name:?}");
    }
    assert_eq!(
        counts(&client).await,
        (3, 100),
        "the injection text was only data"
    );
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
    assert_eq!(counts(&client).await, (3, 100));
    let message = refused.unwrap_err().to_string();
    assert_eq!(
        message,
        "seed refused: the database already holds 3 users and 100 messages"
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
    assert_eq!(counts(&first).await, (3, 100));
}

#[tokio::test]
async fn reset_twice_works_and_empties_the_tables() {
    let test = TestDb::seeded().await;
    let mut client = test.client().await;
    for _ in 0..2 {
        let report = bottles::reset(&mut client).await.unwrap();
        // schema.sql's tables, there now, at the latest migration, whatever those are today.
        assert_eq!(report.tables, declared_tables());
        assert_eq!(test.tables().await, report.tables);
        assert_eq!(report.version, Some(latest_migration()));
        let recorded = "SELECT max(version)::text, count(*) FROM bottles_migrations";
        let row = client.query_one(recorded, &[]).await.unwrap();
        let set = bottles::migrations().unwrap();
        let latest = set.latest().unwrap().version.to_string();
        assert_eq!(
            (row.get::<_, String>(0), row.get::<_, i64>(1)),
            (latest, set.len() as i64),
            "every file recorded as applied"
        );
        assert_eq!(counts(&client).await, (0, 0));
    }
    // Fresh tables restart their ids, so a new seed matches the notebook again.
    bottles::seed(&mut client, &SeedPlan::notebook())
        .await
        .unwrap();
    let users = joined(&client).await;
    assert_eq!(ids(&users[0].messages[..5]), [1, 4, 7, 10, 13]);
}

#[tokio::test]
async fn before_any_reset_the_missing_tables_are_named() {
    let test = TestDb::empty().await;
    let mut client = test.client().await;
    let seeded = bottles::seed(&mut client, &SeedPlan::notebook()).await;
    assert!(matches!(seeded, Err(Error::MissingTables(_))), "{seeded:?}");
    let loaded = bottles::user_by_name_with_messages(&client, "Eli").await;
    assert!(matches!(loaded, Err(Error::MissingTables(_))), "{loaded:?}");
    let err = loaded.unwrap_err();
    assert_eq!(
        err.code(),
        Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE)
    );
    let source = std::error::Error::source(&err).expect("the driver's error");
    assert!(
        source.downcast_ref::<tokio_postgres::Error>().is_some(),
        "{source:?}"
    );
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
    let client = db.client().await.unwrap();
    let missing = bottles::user_by_name_with_messages(&client, "Eli").await;
    assert_eq!(
        missing.err().map(|e| e.to_string()),
        Some("the tables \"user\" and message do not exist yet".to_string())
    );
}

#[tokio::test]
async fn a_user_by_id_comes_with_their_messages_and_an_unknown_id_is_none() {
    let test = TestDb::seeded().await;
    let client = test.client().await;
    let eli = bottles::user_by_id_with_messages(&client, 2).await.unwrap();
    let eli = eli.expect("user 2");
    assert_eq!(
        (eli.id, eli.name.as_str(), eli.messages.len()),
        (2, "Eli", 33)
    );
    assert_elis_first_five(&eli.messages[..5]);
    for missing in [0, 4, -1, i32::MAX] {
        let found = bottles::user_by_id_with_messages(&client, missing)
            .await
            .unwrap();
        assert_eq!(found, None, "{missing}");
    }
}
