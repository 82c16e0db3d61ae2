//! Hostile input through the command line and the library, against a seeded database: every
//! case ends in a clear one-line error (or, for odd but valid names, a plain answer), never a
//! panic, and the data is exactly the notebook's afterwards.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::process::Output;

use bottles::Error;
use bottles::codegen::queries::messages::messages_from_user;
use bottles::codegen::queries::users::insert_users;

use crate::helpers::{TestDb, assert_one_line_error, bottles_command, counts, messages_from};

/// Where a case points `DATABASE_URL`.
enum Target {
    /// The seeded test database.
    Seeded,
    /// A URL of its own; `{port}` stands for the test server's port, `{db}` for the database.
    Url(&'static str),
}

struct Case {
    args: Vec<OsString>,
    target: Target,
    exit: i32,
    /// Expected in stderr for failures, in stdout for successes.
    says: &'static str,
}

fn case(args: &[&str], target: Target, exit: i32, says: &'static str) -> Case {
    Case {
        args: args.iter().map(OsString::from).collect(),
        target,
        exit,
        says,
    }
}

const INJECTION: &str = r#"Robert'); DROP TABLE "user"; --"#;

fn cli_cases() -> Vec<Case> {
    use Target::*;
    let long_name = "x".repeat(100_000);
    let mut cases = vec![
        case(&["query", "--user", INJECTION], Seeded, 0, "no such user"),
        case(
            &["query", "--user", "' OR '1'='1"],
            Seeded,
            0,
            "no such user",
        ),
        case(&["query", "--user", "Eli' --"], Seeded, 0, "no such user"),
        case(
            &["query", "--user", "Eli\"; SELECT 1; --"],
            Seeded,
            0,
            "no such user",
        ),
        case(
            &["query", "--user", "Zoë 🍺 名前"],
            Seeded,
            0,
            "no such user",
        ),
        case(
            &["query", "--user", "\u{202e}ilE"],
            Seeded,
            0,
            "no such user",
        ),
        case(
            &["query", "--user", "tab\there\nnewline"],
            Seeded,
            0,
            r"tab\there\nnewline",
        ),
        case(&["query", "--user", &long_name], Seeded, 0, "no such user"),
        case(
            &["query", "--user", ""],
            Seeded,
            2,
            "a value is required for '--user",
        ),
        case(
            &["query", "--user"],
            Seeded,
            2,
            "a value is required for '--user",
        ),
        case(&["seed"], Seeded, 1, "seed refused"),
        case(
            &["seed", "--users", "0"],
            Seeded,
            2,
            "invalid value '0' for '--users",
        ),
        case(
            &["seed", "--users", "-1"],
            Seeded,
            2,
            "unexpected argument '-1'",
        ),
        case(
            &["seed", "--messages", "-1"],
            Seeded,
            2,
            "unexpected argument '-1'",
        ),
        case(
            &["seed", "--messages", "99999999999"],
            Seeded,
            2,
            "invalid value",
        ),
        case(
            &["seed", "--users", "abc"],
            Seeded,
            2,
            "invalid value 'abc'",
        ),
        case(
            &["seed", "--messages", "1e3"],
            Seeded,
            2,
            "invalid value '1e3'",
        ),
        case(
            &["run", "--users", "4294967296"],
            Seeded,
            2,
            "invalid value",
        ),
        case(
            &["--connect-timeout=-5", "query"],
            Seeded,
            2,
            "not a duration",
        ),
        case(
            &["--statement-timeout", "forever", "query"],
            Seeded,
            2,
            "--statement-timeout",
        ),
        case(
            &["--statement-timeout", "30d", "query"],
            Seeded,
            2,
            "at most 2147483647ms",
        ),
        case(&["drop-everything"], Seeded, 2, "unrecognized subcommand"),
        case(
            &["--frobnicate"],
            Seeded,
            2,
            "unexpected argument '--frobnicate'",
        ),
    ];
    let bad_urls: [(&str, &str); 8] = [
        (
            "postgres://bob:hunter2@127.0.0.1:notaport/db",
            "invalid DATABASE_URL",
        ),
        ("not a url at all", "invalid DATABASE_URL"),
        ("postgres://bob:hunter2@[::1/db", "invalid DATABASE_URL"),
        (
            "postgres://bob:hunter2@127.0.0.1/db?sslmode=sometimes",
            "invalid DATABASE_URL",
        ),
        ("   ", "invalid DATABASE_URL: it is empty"),
        (
            "postgres://bob:hunter2@127.0.0.1:1/db",
            "could not connect to postgres://bob@127.0.0.1:1/db",
        ),
        (
            "postgres://postgres:hunter2@127.0.0.1:{port}/no_such_db",
            "database \"no_such_db\" does not exist",
        ),
        (
            "postgres://postgres:hunter2@127.0.0.1:{port}/{db}?connect_timeout=soon",
            "invalid DATABASE_URL",
        ),
    ];
    for (url, says) in bad_urls {
        cases.push(case(&["query"], Url(url), 1, says));
    }
    let mut invalid_utf8 = case(&["query", "--user"], Seeded, 2, "invalid UTF-8");
    invalid_utf8
        .args
        .push(OsStr::from_bytes(b"\xff\xfeEli").to_os_string());
    cases.push(invalid_utf8);
    cases
}

fn run(case: &Case, url: &str) -> Output {
    let cwd = tempfile::tempdir().unwrap();
    bottles_command(Some(url), &case.args, cwd.path())
        .env("BOTTLES_CONNECT_TIMEOUT", "5s")
        .output()
        .expect("run bottles")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_command_lines_fail_clearly_and_change_nothing() {
    let test = TestDb::seeded().await;
    let server: tokio_postgres::Config = test.url.parse().unwrap();
    let port = server.get_ports()[0].to_string();
    let cases = cli_cases();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    for case in &cases {
        let url = match case.target {
            Target::Seeded => test.url.clone(),
            Target::Url(url) => url.replace("{port}", &port).replace("{db}", &test.name),
        };
        let output = tokio::task::block_in_place(|| run(case, &url));
        let (out, err) = (
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
        let what = format!("{:?} → {:?}\n{err}", case.args, output.status);
        assert_eq!(output.status.code(), Some(case.exit), "{what}");
        assert!(
            !err.contains("panicked") && !err.contains("hunter2"),
            "{what}"
        );
        if case.exit == 0 {
            assert!(out.contains(case.says), "{what}\n{out}");
        } else {
            assert_one_line_error(&err, &what);
            assert!(err.contains(case.says), "{what}");
            assert!(out.is_empty(), "{what}");
        }
    }
    assert_untouched(&test).await;
}

async fn assert_untouched(test: &TestDb) {
    let client = test.client().await;
    assert_eq!(counts(&client).await, (3, 100));
    assert_eq!(messages_from(&client, "Eli").await.len(), 33);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_names_are_stored_and_read_back_verbatim() {
    let test = TestDb::seeded().await;
    let client = test.client().await;
    let names: Vec<String> = [
        INJECTION,
        "'; DELETE FROM message; --",
        r"\x00 \\ \' $1 :name %s {}",
        "Zoë 🍺 名前 \u{202e}",
        "",
        " leading and trailing ",
    ]
    .into_iter()
    .map(String::from)
    .chain(["m".repeat(1 << 20)])
    .collect();
    let inserted = insert_users().bind(&client, &names).all().await.unwrap();
    assert_eq!(inserted.len(), names.len());
    for name in &names {
        let found = bottles::user_by_name_with_messages(&client, name)
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "{:.40}", name);
        assert_eq!(&found[0].name, name);
        assert!(found[0].messages.is_empty());
        assert!(messages_from(&client, name).await.is_empty());
    }
    assert_eq!(counts(&client).await, (3 + names.len() as i64, 100));
}

#[tokio::test]
async fn a_nul_byte_in_a_name_is_a_clear_error_not_a_panic() {
    let test = TestDb::seeded().await;
    let client = test.client().await;
    let direct = messages_from_user().bind(&client, &"\0").all().await;
    for result in [
        bottles::user_by_name_with_messages(&client, "Eli\0")
            .await
            .map(|_| ()),
        direct.map(|_| ()).map_err(Error::from),
    ] {
        let err = result.expect_err("PostgreSQL text cannot hold NUL");
        assert!(
            matches!(err, Error::Database(bottles_core::Error::Statement { .. })),
            "{err:?}"
        );
        assert!(err.to_string().contains("0x00"), "{err}");
    }
    assert_untouched(&test).await;
}
