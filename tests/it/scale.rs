//! Seeding beyond the notebook's size, and the streaming joined load, against a real PostgreSQL.

use bottles::{SeedPlan, SeedProgress, UserWithMessages};

use crate::helpers::{
    TestDb, bottles, counts, declared_message_keys, joined, messages_from, stderr, stdout,
};

async fn seeded_with(plan: SeedPlan) -> (TestDb, Vec<SeedProgress>) {
    let test = TestDb::empty().await;
    let mut client = test.client().await;
    bottles::reset(&mut client).await.unwrap();
    assert_eq!(test.message_keys().await, declared_message_keys());
    let mut progress = Vec::new();
    let report = bottles::seed_with_progress(&mut client, &plan, |p| progress.push(p))
        .await
        .unwrap();
    assert_eq!(
        (report.users, report.messages),
        (plan.user_count().into(), plan.message_count().into())
    );
    drop(client);
    (test, progress)
}

async fn streamed(test: &TestDb) -> Vec<UserWithMessages> {
    joined(&test.client().await).await
}

#[tokio::test]
async fn seeding_25k_users_and_60k_messages_deals_them_in_turn() {
    // 60 000 messages take the bulk path: keys and indexes dropped, loaded, built again.
    const { assert!(60_000 >= SeedPlan::BULK_LOAD_FROM) };
    let (test, progress) = seeded_with(SeedPlan::new(25_000, 60_000).unwrap()).await;
    assert_eq!(
        test.message_keys().await,
        declared_message_keys(),
        "rebuilt as they were"
    );

    let done: Vec<u64> = progress.iter().map(|p| p.rows_done).collect();
    assert!(done.is_sorted(), "progress only moves forward: {done:?}");
    assert_eq!(done.first(), Some(&0));
    assert_eq!(done.last(), Some(&85_000));
    assert!(progress.iter().all(|p| p.rows_total == 85_000));
    assert!(done.contains(&10_000), "users go in batches: {done:?}");

    let users = streamed(&test).await;
    assert_eq!(users.len(), 25_000);
    let names: Vec<&str> = users[..5].iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["Nick", "Eli", "Paul", "User 4", "User 5"]);
    assert_eq!(users[24_999].name, "User 25000");
    assert!(users.windows(2).all(|w| w[0].id < w[1].id));
    // Message k goes to user k % 25 000: three each for the first 10 000 users, two after.
    assert!(users[..10_000].iter().all(|u| u.messages.len() == 3));
    assert!(users[10_000..].iter().all(|u| u.messages.len() == 2));
    let user4: Vec<&str> = users[3]
        .messages
        .iter()
        .map(|m| m.content.as_str())
        .collect();
    assert_eq!(
        user4,
        [
            "59996 bottles of beer on the wall...",
            "34996 bottles of beer on the wall...",
            "9996 bottles of beer on the wall...",
        ]
    );
    assert!(
        users
            .iter()
            .all(|u| u.messages.iter().all(|m| m.user_id == u.id))
    );

    let eli = messages_from(&test.client().await, "Eli").await;
    assert_eq!(eli, users[1].messages);
}

#[tokio::test]
async fn the_stream_ends_with_users_who_have_no_messages() {
    let (test, _) = seeded_with(SeedPlan::new(5, 3).unwrap()).await;
    let users = streamed(&test).await;
    let shape: Vec<(&str, usize)> = users
        .iter()
        .map(|u| (u.name.as_str(), u.messages.len()))
        .collect();
    assert_eq!(
        shape,
        [
            ("Nick", 1),
            ("Eli", 1),
            ("Paul", 1),
            ("User 4", 0),
            ("User 5", 0)
        ]
    );
    let client = test.client().await;
    for user in &users {
        let selected = bottles::user_by_name_with_messages(&client, &user.name).await;
        assert_eq!(selected.unwrap(), std::slice::from_ref(user));
    }
}

#[tokio::test]
async fn seeding_after_rows_were_deleted_links_messages_to_the_new_ids() {
    let (test, _) = seeded_with(SeedPlan::notebook()).await;
    let mut client = test.client().await;
    // Emptied tables keep their identity counters, so the next ids start at 4, not 1.
    client.batch_execute(r#"DELETE FROM "user""#).await.unwrap();
    bottles::seed(&mut client, &SeedPlan::notebook())
        .await
        .unwrap();
    let users = streamed(&test).await;
    let shape: Vec<(i32, &str, usize)> = users
        .iter()
        .map(|u| (u.id, u.name.as_str(), u.messages.len()))
        .collect();
    assert_eq!(shape, [(4, "Nick", 34), (5, "Eli", 33), (6, "Paul", 33)]);
    assert_eq!(
        users[1].messages[0].content,
        "98 bottles of beer on the wall..."
    );
}

#[tokio::test]
async fn cli_seed_takes_sizes_and_reports_them() {
    let test = TestDb::empty().await;
    let reset = bottles(Some(&test.url), &["reset"]);
    assert!(reset.status.success(), "{}", stderr(&reset));
    let output = bottles(
        Some(&test.url),
        &["seed", "--users", "7", "--messages", "20000", "--json"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report, serde_json::json!({"users": 7, "messages": 20000}));
    // No terminal here, so no progress bar either.
    assert_eq!(stderr(&output), "");

    let query = bottles(Some(&test.url), &["query", "--user", "User 7"]);
    let text = stdout(&query);
    assert!(text.contains("users: 7\nmessages: 20000\n"), "{text}");
    assert!(
        text.contains("messages from user 'User 7' (Message.afrom_user): 2857"),
        "{text}"
    );
}

#[tokio::test]
async fn cli_refuses_sizes_that_cannot_be_seeded_and_changes_nothing() {
    let test = TestDb::empty().await;
    let reset = bottles(Some(&test.url), &["reset"]);
    assert!(reset.status.success(), "{}", stderr(&reset));
    for (args, complaint) in [
        (["--users", "0"], "invalid value '0' for '--users <N>'"),
        (["--users", "-3"], "unexpected argument '-3'"),
        (["--messages", "-1"], "unexpected argument '-1'"),
        (["--messages", "3000000000"], "invalid value '3000000000'"),
        (["--messages", "lots"], "invalid value 'lots'"),
    ] {
        let output = bottles(Some(&test.url), &[&["seed"], &args[..]].concat());
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(stderr(&output).contains(complaint), "{}", stderr(&output));
    }
    assert_eq!(test.counts().await, (0, 0));
}

#[tokio::test]
async fn one_pooled_connection_runs_the_pipeline_again_after_reset_replaced_the_tables() {
    // Its cached prepared statements name tables that reset drops and creates again, and the
    // bulk path drops and rebuilds message's keys in between.
    let test = TestDb::empty().await;
    let mut client = test.client().await;
    let bulk = SeedPlan::new(3, 30_000).unwrap();
    let mut loads = Vec::new();
    for plan in [SeedPlan::notebook(), bulk, SeedPlan::notebook(), bulk] {
        bottles::reset(&mut client).await.unwrap();
        bottles::seed(&mut client, &plan).await.unwrap();
        let named = bottles::user_by_name_with_messages(&client, "Eli")
            .await
            .unwrap();
        loads.push((
            counts(&client).await,
            joined(&client).await,
            named,
            messages_from(&client, "Eli").await,
        ));
    }
    assert_eq!(loads[0], loads[2]);
    assert_eq!(loads[1], loads[3]);
    assert_eq!(loads[2].3.len(), 33);
    assert_eq!(loads[3].3.len(), 10_000);
    assert_eq!(loads[3].0, (3, 30_000));
    assert_eq!(test.message_keys().await, declared_message_keys());
}

#[tokio::test]
async fn seed_on_a_terminal_shows_a_progress_bar() {
    let test = TestDb::empty().await;
    bottles::reset(&mut test.client().await).await.unwrap();
    // `script` gives bottles a pseudo-terminal for stdout and stderr.
    let command = format!(
        "{} seed --users 30 --messages 300000",
        env!("CARGO_BIN_EXE_bottles")
    );
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("script")
            .args(["--quiet", "--return", "--command", &command, "/dev/null"])
            .env("DATABASE_URL", &test.url)
            .output()
            .expect("run script (util-linux)")
    });
    let output = output.await.unwrap();
    let screen = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{screen}");
    assert!(
        screen.contains("seed [") && screen.contains("/300,030 rows"),
        "{screen}"
    );
    assert!(
        screen.contains("seed: inserted 30 users and 300000 messages"),
        "{screen}"
    );
}
