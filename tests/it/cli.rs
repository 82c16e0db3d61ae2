//! The real `bottles` binary, end to end: human and JSON output, refusals, errors and secrets.

use std::process::Command;

use serde_json::Value;

use crate::helpers::{
    TestDb, assert_one_line_error, bottles, declared_tables, latest_migration, stderr, stdout,
};

/// Checks the notebook's human output, the lines a reader looks for.
fn assert_notebook_text(text: &str) {
    for line in [
        "users: 3",
        "messages: 100",
        "  User(id=1, name='Nick'): 34 messages",
        "  User(id=2, name='Eli'): 33 messages",
        "  User(id=3, name='Paul'): 33 messages",
        "first user: Nick",
        "    99 bottles of beer on the wall...",
        "user 'Eli' (chained filter, select-in load):",
        "    86 bottles of beer on the wall...",
        "messages from user 'Eli' (Message.afrom_user): 33",
        "  Message(user_id=2, id=14, content='86 bottles of beer on the wall...')",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in:\n{text}"
        );
    }
}

#[tokio::test]
async fn plain_bottles_resets_seeds_and_queries() {
    let test = TestDb::empty().await;
    let output = bottles(Some(&test.url), &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    // What schema.sql declares and the latest migration, whatever they are today; the tables
    // listed are the ones that are there.
    let tables: Vec<String> = declared_tables().iter().map(|t| format!("{t:?}")).collect();
    let reset = format!(
        "reset: dropped and created tables {} from schema.sql, recorded at migration {}\n",
        tables.join(", "),
        latest_migration()
    );
    assert!(text.starts_with(&reset), "{reset}\n{text}");
    assert_eq!(test.tables().await, declared_tables());
    assert!(
        text.contains("seed: inserted 3 users and 100 messages"),
        "{text}"
    );
    assert_notebook_text(&text);
    assert_eq!(
        stderr(&output),
        "",
        "nothing on stderr when DATABASE_URL is set"
    );

    // `run` is the same pipeline, and resetting first makes it repeatable.
    let again = bottles(Some(&test.url), &["run"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(stdout(&again), text);
}

#[tokio::test]
async fn json_output_carries_the_same_results() {
    let test = TestDb::empty().await;
    let output = bottles(Some(&test.url), &["--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let json: Value = serde_json::from_str(&stdout(&output)).expect("stdout is one JSON document");
    assert_eq!(
        json["reset"],
        serde_json::json!({ "tables": declared_tables(), "version": latest_migration() })
    );
    assert_eq!(
        json["seed"],
        serde_json::json!({ "users": 3, "messages": 100 })
    );
    let query = &json["query"];
    assert_eq!(
        (
            query["user_count"].as_i64(),
            query["message_count"].as_i64()
        ),
        (Some(3), Some(100))
    );
    let counts: Vec<i64> = query["users_with_messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["message_count"].as_i64().unwrap())
        .collect();
    assert_eq!(counts, [34, 33, 33]);
    assert_eq!(
        query["users_with_messages"][0]["first_messages"][4]["id"],
        13
    );
    assert_eq!(query["users_named"][0]["name"], "Eli");
    assert_eq!(query["users_named"][0]["message_count"], 33);
    let first_ids = |messages: &Value| -> Vec<i64> {
        let messages = messages.as_array().unwrap();
        messages.iter().map(|m| m["id"].as_i64().unwrap()).collect()
    };
    assert_eq!(
        first_ids(&query["users_named"][0]["first_messages"]),
        [2, 5, 8, 11, 14]
    );
    assert_eq!(
        first_ids(&query["messages_from_user"]["first_messages"]),
        [2, 5, 8, 11, 14]
    );
    assert_eq!(
        query["users_with_messages"][0]["first_messages"][4]["content"],
        "87 bottles of beer on the wall..."
    );
    assert_eq!(query["messages_from_user"]["count"], 33);
    assert_eq!(
        query["messages_from_user"]["first_messages"][0],
        serde_json::json!({ "id": 2, "content": "98 bottles of beer on the wall...", "user_id": 2 })
    );

    let queried = bottles(Some(&test.url), &["query", "--json", "--user", "Nick"]);
    let json: Value = serde_json::from_str(&stdout(&queried)).unwrap();
    assert_eq!(json["name"], "Nick");
    assert_eq!(json["messages_from_user"]["count"], 34);
}

#[tokio::test]
async fn the_steps_run_one_by_one_and_a_second_seed_is_refused() {
    let test = TestDb::empty().await;
    let reset = bottles(Some(&test.url), &["reset"]);
    assert!(reset.status.success(), "{}", stderr(&reset));
    let seed = bottles(Some(&test.url), &["seed"]);
    assert_eq!(
        stdout(&seed).trim(),
        "seed: inserted 3 users and 100 messages"
    );

    let refused = bottles(Some(&test.url), &["seed"]);
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(stdout(&refused), "");
    let error = stderr(&refused);
    assert_eq!(error.lines().count(), 1, "one line: {error}");
    assert!(
        error.starts_with(
            "error: seed refused: the database already holds 3 users and 100 messages"
        ),
        "{error}"
    );

    let query = bottles(Some(&test.url), &["query"]);
    assert!(query.status.success());
    assert_notebook_text(&stdout(&query));
}

#[tokio::test]
async fn query_for_an_unknown_user_is_an_empty_answer() {
    let test = TestDb::seeded().await;
    let output = bottles(Some(&test.url), &["query", "--user", "O'Brien"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains("user \"O'Brien\" (chained filter, select-in load):\n  no such user"),
        "{text}"
    );
    assert!(
        text.contains("messages from user \"O'Brien\" (Message.afrom_user): 0"),
        "{text}"
    );
}

#[tokio::test]
async fn echo_logs_each_statement_with_parameters_and_timing() {
    let test = TestDb::empty().await;
    let output = bottles(Some(&test.url), &["--echo"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let log = stderr(&output);
    // reset's two batches, as the log shows them: the teardown of what schema.sql declares,
    // then schema.sql itself under its name.
    let teardown = bottles::migrate::teardown(bottles::expected_schema());
    let teardown = teardown.split_whitespace().collect::<Vec<_>>().join(" ");
    let teardown = teardown.trim_end_matches(';');
    assert!(teardown.contains("DROP TABLE IF EXISTS ") && teardown.contains("message"));
    let schema = bottles::statement_text("schema.sql").expect("schema.sql in the catalog");
    let teardown_line = format!("bottles::sql: {teardown}  -- ok in ");
    let schema_line = format!("bottles::sql: {schema}  -- schema.sql: ok in ");
    for expected in [
        "bottles::sql: START TRANSACTION  -- ok in ",
        teardown_line.as_str(),
        schema_line.as_str(),
        "INSERT INTO \"user\" (name) SELECT name FROM unnest(:names::text[])",
        "-- insert_users {names: [\"Nick\", \"Eli\", \"Paul\"]}: 3 rows in ",
        "COPY message (content, user_id) FROM STDIN (FORMAT binary)  -- copy_messages: 100 rows affected in ",
        "ORDER BY u.id, m.id  -- users_with_messages: 100 rows in ",
        "bottles::sql: COMMIT  -- ok in ",
        "WHERE u.name = :name ORDER BY m.id  -- messages_from_user {name: \"Eli\"}: 33 rows in ",
        "WHERE user_id = ANY(:user_ids) ORDER BY user_id, id  -- messages_for_users {user_ids: [2]}: 33 rows in ",
    ] {
        assert!(log.contains(expected), "missing {expected:?} in:\n{log}");
    }
    assert_notebook_text(&stdout(&output));
}

#[tokio::test]
async fn without_database_url_bottles_runs_its_own_server_and_removes_it() {
    let output = bottles(None, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_notebook_text(&stdout(&output));
    let note = stderr(&output);
    let url = note
        .split_whitespace()
        .find(|w| w.starts_with("postgres://"))
        .expect("the server's URL");
    let config: tokio_postgres::Config = url.parse().unwrap();
    let port = config.get_ports()[0];
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the throwaway server on port {port} is gone once bottles exits"
    );
}

#[tokio::test]
async fn echo_with_stderr_closed_still_does_the_work_and_exits_cleanly() {
    let test = TestDb::empty().await;
    let cwd = tempfile::tempdir().unwrap();
    let output = crate::helpers::bottles_command(Some(&test.url), ["--echo"], cwd.path())
        .stderr(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let mut child = crate::helpers::bottles_command(Some(&test.url), ["--echo", "run"], cwd.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take()); // like `bottles --echo 2>&1 | head -1`
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "no panic on a closed stderr");
    assert!(stdout(&output).contains("seed: inserted 3 users and 100 messages"));
}

#[tokio::test]
async fn without_database_url_the_advice_fits_the_throwaway_server() {
    for args in [&["query"][..], &["seed"]] {
        let output = bottles(None, args);
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        let err = stderr(&output);
        let last = err.lines().last().unwrap_or_default();
        assert_one_line_error(last, "the error line");
        assert!(
            last.contains("the tables \"user\" and message do not exist yet")
                && last.contains("run plain `bottles`")
                && !last.contains("bottles reset"),
            "{err}"
        );
    }
}

#[test]
fn errors_are_one_line_and_never_show_the_password() {
    for (url, expected) in [
        (
            "postgres://bob:s3cret-pw@127.0.0.1:1/db",
            "error: could not connect to postgres://bob@127.0.0.1:1/db: ",
        ),
        (
            "postgres://bob:s3cret-pw@127.0.0.1:port/db",
            "error: invalid DATABASE_URL: ",
        ),
        ("not a url s3cret-pw", "error: invalid DATABASE_URL: "),
    ] {
        for args in [&["--echo"][..], &["seed"], &["query", "--json"]] {
            let output = bottles(Some(url), args);
            assert_eq!(output.status.code(), Some(1), "{url} {args:?}");
            let error = stderr(&output);
            assert!(
                error.starts_with(expected) && error.lines().count() == 1,
                "{url} {args:?}: {error}"
            );
            assert!(
                !error.contains("s3cret-pw") && !stdout(&output).contains("s3cret-pw"),
                "{error}"
            );
        }
    }
}

#[test]
fn help_lists_every_subcommand_and_hides_the_url() {
    let output = bottles(Some("postgres://bob:s3cret-pw@db.example/x"), &["--help"]);
    assert!(output.status.success());
    let help = stdout(&output);
    for word in [
        "run",
        "reset",
        "seed",
        "query",
        "--database-url",
        "--echo",
        "--json",
        "DATABASE_URL",
    ] {
        assert!(help.contains(word), "{word} in:\n{help}");
    }
    assert!(!help.contains("s3cret-pw"), "{help}");
    let query_help = stdout(&bottles(None, &["query", "--help"]));
    assert!(
        query_help.contains("--user <NAME>") && query_help.contains("[default: Eli]"),
        "{query_help}"
    );
}

#[test]
fn usage_errors_exit_with_2() {
    for args in [&["frobnicate"][..], &["query", "--user"], &["--jsno"]] {
        let output = bottles(None, args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(stderr(&output).starts_with("error: "), "{args:?}");
    }
}

#[tokio::test]
async fn database_url_comes_from_a_dot_env_file() {
    let test = TestDb::seeded().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        format!("# local settings\nDATABASE_URL={}\n", test.url),
    )
    .unwrap();
    let run = |dir: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_bottles"))
            .args(["query", "--user", "Paul"])
            .current_dir(dir)
            .env_remove("DATABASE_URL")
            .output()
            .unwrap()
    };
    let output = run(dir.path());
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("messages from user 'Paul' (Message.afrom_user): 33"));
    assert_eq!(stderr(&output), "", "no throwaway server was started");

    std::fs::write(
        dir.path().join(".env"),
        "DATABASE_URL='postgres://bob:s3cret-pw@db/x\n",
    )
    .unwrap();
    let broken = run(dir.path());
    assert_eq!(broken.status.code(), Some(1));
    let error = stderr(&broken);
    assert!(
        error.starts_with("error: could not parse .env") && !error.contains("s3cret-pw"),
        "{error}"
    );
}

#[tokio::test]
async fn a_reader_that_stops_early_is_not_an_error() {
    let test = TestDb::seeded().await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_bottles"))
        .args(["query"])
        .env("DATABASE_URL", &test.url)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // like `bottles query | head -0`
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
}
