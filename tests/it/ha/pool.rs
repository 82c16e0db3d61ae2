//! What the pool does when the primary stops answering or stops taking writes, on plain
//! servers: reads go to a replica that answers, however far behind; connections to a server
//! fenced read-only are dropped, and the next ones reach the server that takes writes.

use std::time::{Duration, Instant};

use bottles::codegen::queries::users::{count_users, insert_user};
use bottles::{Database, Error, PoolOptions};
use throwaway_pg::LocalServer;
use tokio::task::block_in_place;

use crate::helpers::reset_and_seed;

/// While no primary answers, a replica that answers serves reads, even one that has not
/// replayed this process's last write; with the primary back, reads that need that write go
/// there again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_replica_serves_reads_while_no_primary_answers() {
    let servers = tokio::task::spawn_blocking(LocalServer::primary_and_standby);
    let (mut primary, standby) = servers.await.unwrap().expect("a primary and its standby");
    let (url, replicas) = (primary.url(), [standby.url()]);
    let options = PoolOptions {
        connect_timeout: Duration::from_secs(2),
        ..bottles::pool_options()
    };
    let db = Database::open_with_replicas(Some(&url), &replicas, options);
    let db = db.await.expect("open the primary");
    reset_and_seed(&db).await;
    block_in_place(|| {
        standby.wait_for_replay_of(&primary, Duration::from_secs(20))?;
        standby.pause_replay()
    })
    .unwrap();
    let client = db.client().await.unwrap();
    insert_user().bind(&client, &"Zoe").one().await.unwrap();
    drop(client);
    db.wrote().await.unwrap();
    assert_eq!(
        count_users_anywhere(&db).await.unwrap(),
        4,
        "on the primary"
    );

    block_in_place(|| primary.stop_for_now()).unwrap();
    assert_eq!(
        count_users_anywhere(&db).await.unwrap(),
        3,
        "on the replica, which has not replayed Zoe"
    );
    block_in_place(|| primary.start_again()).unwrap();
    assert_eq!(
        count_users_anywhere(&db).await.unwrap(),
        4,
        "on the primary"
    );
}

/// `count_users`, wherever [`Database::read`] sends it.
async fn count_users_anywhere(db: &Database) -> bottles::Result<i64> {
    let read = db.read(async |node| -> bottles::Result<i64> {
        Ok(count_users().bind(&node.client().await?).one().await?)
    });
    read.await
}

/// A server fenced read-only while it runs (`default_transaction_read_only` turned on and
/// reloaded, as an HA manager or an operator fences an old primary) keeps its connections open;
/// a pool that wants the primary drops them within about a second, and its next connections
/// reach the server listed next that takes writes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_fenced_read_only_loses_the_pools_connections_to_one_that_takes_writes() {
    let servers = block_in_place(|| {
        Ok::<_, throwaway_pg::Error>((LocalServer::start()?, LocalServer::start()?))
    });
    let (fenced, other) = servers.expect("two servers");
    for server in [&fenced, &other] {
        let db = Database::open_with(Some(&server.url()), bottles::pool_options()).await;
        reset_and_seed(&db.unwrap()).await;
    }
    let url = format!(
        "postgres://postgres@127.0.0.1:{},127.0.0.1:{}/postgres?target_session_attrs=read-write",
        fenced.port(),
        other.port()
    );
    let options = PoolOptions {
        size: 4,
        ..bottles::pool_options()
    };
    let db = Database::open_with(Some(&url), options).await.unwrap();
    let clients = futures::future::try_join_all((0..4).map(|_| db.client()));
    for client in clients.await.unwrap() {
        assert_eq!(
            insert_on(&client).await.unwrap(),
            fenced.port(),
            "the first host"
        );
    }

    block_in_place(|| {
        fenced.sql("ALTER SYSTEM SET default_transaction_read_only = on")?;
        fenced.sql("SELECT pg_reload_conf()")
    })
    .unwrap();
    let fenced_at = Instant::now();
    // A session takes the reloaded setting at its next statement, or a moment later.
    let mut refused = 0;
    loop {
        let client = db.client().await.unwrap();
        match insert_on(&client).await {
            Ok(port) if port == other.port() => break,
            Ok(_) => {}
            Err(Error::Database(bottles_core::Error::ReadOnlyServer(_))) => refused += 1,
            Err(err) => panic!("{err}"),
        }
        assert!(
            fenced_at.elapsed() < Duration::from_secs(10),
            "still on the fenced server"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "a fenced server's connections dropped after {:.2?} ({refused} writes refused)",
        fenced_at.elapsed()
    );
    // Every connection the pool hands out now is on the other server.
    let clients = futures::future::try_join_all((0..4).map(|_| db.client()));
    for client in clients.await.unwrap() {
        assert_eq!(insert_on(&client).await.unwrap(), other.port());
    }
}

/// Adds a user on `client`: the port of the server it landed on.
async fn insert_on(client: &bottles::Client) -> Result<u16, Error> {
    insert_user().bind(client, &"Fenced?").one().await?;
    let row = client.query_one("SELECT inet_server_port()", &[]).await?;
    Ok(u16::try_from(row.get::<_, i32>(0)).expect("a port"))
}
