//! The todo app on real servers: its own queries answer exactly, the statement log names them
//! as written in `queries/`, and the core's pooler handling and replicas work for it as they do
//! for the notebook.

use std::io::Write;
use std::sync::{Arc, Mutex, Once, OnceLock};
use std::time::Duration;

use bottles_core::Database;
use throwaway_pg::{LocalBouncer, LocalServer, ScratchDatabase};
use todo::Priority;
use tracing::span;
use tracing::subscriber::Interest;

/// A new database with the app's tables, on `DATABASE_URL` or this binary's throwaway server.
async fn fresh() -> (ScratchDatabase, Database) {
    global_subscriber();
    let admin = throwaway_pg::env_or_shared_server("DATABASE_URL");
    let scratch = ScratchDatabase::create(admin, "todo_test").expect("a scratch database");
    let db = todo::open(scratch.url(), &[]).await.expect("open");
    todo::create_schema(&db).await.expect("the schema");
    (scratch, db)
}

fn titles(items: &[todo::Item]) -> Vec<&str> {
    items.iter().map(|item| item.title.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_apps_queries_answer_exactly() {
    let (_scratch, db) = fresh().await;
    let items = [
        ("milk", Priority::normal),
        ("rent", Priority::high),
        ("plants", Priority::low),
        ("taxes", Priority::high),
    ];
    let (list, ids) = todo::create_list(&db, "home", &items).await.unwrap();
    assert_eq!((list, ids.as_slice()), (1, &[1, 2, 3, 4][..]));
    let open = todo::open_items_of(&db, list).await.unwrap();
    assert_eq!(titles(&open), ["rent", "taxes", "milk", "plants"]);
    assert_eq!(open[0].priority, Priority::high);
    assert!(todo::finish(&db, 2).await.unwrap());
    assert!(!todo::finish(&db, 2).await.unwrap(), "already done");
    let open = todo::open_items_of(&db, list).await.unwrap();
    assert_eq!(titles(&open), ["taxes", "milk", "plants"]);
    let counts = todo::counts(&db, list).await.unwrap();
    assert_eq!((counts.open, counts.done), (3, 1));
    let same_name = todo::create_list(&db, "home", &[("again", Priority::low)]).await;
    let err = same_name.expect_err("list names are unique");
    assert_eq!(err.code().map(|code| code.code()), Some("23505"), "{err}");
    assert_eq!(
        todo::counts(&db, 2).await.unwrap().open,
        0,
        "nothing half-written"
    );
}

/// The log lines written while it is held (connections opened meanwhile carry the log).
struct Captured {
    lines: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

#[derive(Clone)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The binary's global subscriber: listens to nothing, but has every callsite asked each time.
/// tracing otherwise caches, per callsite and process-wide, whether anyone listens, asking only
/// the registering thread's subscriber while at most one is registered: a test with none that
/// reached the log's callsites first would cache "no one" and leave a capture empty. With
/// `TEST_LOG` set, the statement log of every test goes to its output instead.
struct AskEachTime;

impl tracing::Subscriber for AskEachTime {
    fn register_callsite(&self, _: &'static tracing::Metadata<'static>) -> Interest {
        Interest::sometimes()
    }
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        false
    }
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}

fn global_subscriber() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let set = match std::env::var_os("TEST_LOG") {
            None => tracing::subscriber::set_global_default(AskEachTime),
            Some(_) => tracing::subscriber::set_global_default(
                tracing_subscriber::fmt()
                    .with_env_filter(format!("{}=info", bottles_core::LOG_TARGET))
                    .with_test_writer()
                    .finish(),
            ),
        };
        set.expect("the only global subscriber");
    });
}

fn capture() -> Captured {
    global_subscriber();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let writer = Shared(lines.clone());
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(format!("{}=info", bottles_core::LOG_TARGET))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    Captured { lines, _guard }
}

#[tokio::test(flavor = "current_thread")]
async fn the_statement_log_names_the_apps_statements() {
    let captured = capture();
    let (_scratch, db) = fresh().await;
    let (list, _) = todo::create_list(
        &db,
        "work",
        &[("mail", Priority::low), ("call", Priority::high)],
    )
    .await
    .unwrap();
    todo::open_items_of(&db, list).await.unwrap();
    let log = String::from_utf8(captured.lines.lock().unwrap().clone()).unwrap();
    for expected in [
        "CREATE INDEX item_open_idx ON item (list_id, priority DESC, id) WHERE NOT done  -- schema.sql: ok in ",
        "INSERT INTO list (name) VALUES (:name) RETURNING id  -- insert_list {name: \"work\"}: 1 row in ",
        "WHERE list_id = :list_id AND NOT done ORDER BY priority DESC, id  -- open_items {list_id: 1}: 2 rows in ",
    ] {
        assert!(
            log.lines().any(|line| line.contains(expected)),
            "missing {expected:?} in:\n{log}"
        );
    }
}

/// One server with PgBouncer in front (transaction mode, 2 server connections).
fn bouncer() -> &'static (LocalServer, LocalBouncer) {
    static BOUNCER: OnceLock<(LocalServer, LocalBouncer)> = OnceLock::new();
    BOUNCER.get_or_init(|| {
        let server = LocalServer::start().expect("a server");
        let bouncer = LocalBouncer::start(&server, "transaction", 2).expect("pgbouncer");
        (server, bouncer)
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn through_a_transaction_pooler_with_no_setting() {
    global_subscriber();
    let (server, bouncer) = bouncer();
    server
        .sql("CREATE DATABASE todo_pooled")
        .expect("a database");
    let db = Arc::new(
        todo::open(&bouncer.url_for("todo_pooled"), &[])
            .await
            .unwrap(),
    );
    todo::create_schema(&db).await.unwrap();
    assert!(db.runs_unprepared(), "the pooler was detected");
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                let name = format!("list {i}");
                let items = [("low one", Priority::low), ("high one", Priority::high)];
                let (list, _) = todo::create_list(&db, &name, &items).await?;
                let open = todo::open_items_of(&db, list).await?;
                Ok::<_, bottles_core::Error>(titles(&open).join(", "))
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), "high one, low one");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_go_to_a_replica_that_has_replayed_the_writes() {
    global_subscriber();
    let (primary, standby) = tokio::task::spawn_blocking(LocalServer::primary_and_standby)
        .await
        .unwrap()
        .expect("a primary and its standby");
    primary.sql("CREATE DATABASE todo_replicated").unwrap();
    // Until the standby has the database, connecting to it fails and the core leaves the
    // replica alone for a second: later reads would then go to the primary.
    standby
        .wait_for_replay_of(&primary, Duration::from_secs(30))
        .unwrap();
    let (url, replica) = (
        primary.url_for("todo_replicated"),
        standby.url_for("todo_replicated"),
    );
    let db = todo::open(&url, &[&replica]).await.unwrap();
    todo::create_schema(&db).await.unwrap();
    let (list, _) = todo::create_list(&db, "shared", &[("read me", Priority::normal)])
        .await
        .unwrap();
    // Read your writes: the list is there whether the standby has replayed it yet or not.
    assert_eq!(
        titles(&todo::open_items_of(&db, list).await.unwrap()),
        ["read me"]
    );
    standby
        .wait_for_replay_of(&primary, Duration::from_secs(30))
        .unwrap();
    // A replica that failed a probe (still starting, say) is left alone for a second: once it
    // has replayed the writes, reads reach it within a few.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let (on_standby, items) = loop {
        let read = db
            .read(async |node| -> bottles_core::Result<_> {
                let client = node.client().await?;
                let rows = client.simple_query("SELECT pg_is_in_recovery()").await?;
                let in_recovery = rows.iter().any(|row| match row {
                    tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0) == Some("t"),
                    _ => false,
                });
                let items = todo_codegen::queries::items::open_items()
                    .bind(&client, &list)
                    .all()
                    .await?;
                Ok((in_recovery, items))
            })
            .await
            .unwrap();
        if read.0 || std::time::Instant::now() > deadline {
            break read;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(on_standby, "the read ran on the standby");
    assert_eq!(titles(&items), ["read me"]);
}
