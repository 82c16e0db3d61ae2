//! `docs/scale-out.sql`, the layout Citus needs (`message` hash-partitioned by `user_id`, keys
//! that include it), on plain PostgreSQL: the notebook pipeline and the service's queries give
//! the same answers as on `schema.sql`, and seed's key rebuild keeps every partition's keys.

use bottles::codegen::queries::messages::{insert_message, messages_from_user_after};
use bottles::{Client, SeedPlan};

use crate::helpers::{TestDb, bottles, counts, joined, stderr, stdout};

const LAYOUT: &str = include_str!("../../docs/scale-out.sql");

async fn reset_to_layout() -> TestDb {
    let test = TestDb::empty().await;
    let mut client = test.client().await;
    bottles::reset_with_schema(&mut client, LAYOUT)
        .await
        .unwrap();
    test
}

/// Keys and indexes of message and of each partition, marking any index left invalid.
async fn keys_everywhere(client: &Client) -> Vec<String> {
    let sql = "SELECT c.relname || ': ' || pg_get_indexdef(i.indexrelid) \
                      || CASE WHEN i.indisvalid THEN '' ELSE ' INVALID' END \
               FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indrelid \
               WHERE c.relname LIKE 'message%' \
               UNION ALL \
               SELECT conrelid::regclass || ': ' || conname || ' ' || pg_get_constraintdef(oid) \
               FROM pg_constraint WHERE conrelid::regclass::text LIKE 'message%' \
               ORDER BY 1";
    let rows = client.query(sql, &[]).await.unwrap();
    rows.iter().map(|row| row.get(0)).collect()
}

/// `bottles query --json` on `url`: every notebook cell's answer.
fn query_cells(url: &str) -> serde_json::Value {
    let output = bottles(Some(url), &["query", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_str(&stdout(&output)).unwrap()
}

#[tokio::test]
async fn the_notebook_gives_the_same_answers_on_the_sharded_layout() {
    let test = reset_to_layout().await;
    let mut client = test.client().await;
    bottles::seed(&mut client, &SeedPlan::notebook())
        .await
        .unwrap();
    let partitions = client
        .query_one(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'message'::regclass",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(partitions.get::<_, i64>(0), 4);
    // Each user's messages sit in one partition, as they would in one shard.
    let spread = "SELECT max(n) FROM (SELECT count(DISTINCT tableoid) AS n FROM message GROUP BY user_id) AS per_user";
    let spread = client.query_one(spread, &[]).await.unwrap();
    assert_eq!(spread.get::<_, i64>(0), 1);

    let reference = TestDb::seeded().await;
    assert_eq!(query_cells(&test.url), query_cells(&reference.url));

    // The service's queries: a keyset page, and a new message in its user's partition.
    let page = messages_from_user_after()
        .bind(&client, &"Eli", &14, &3)
        .all()
        .await
        .unwrap();
    assert_eq!(page.iter().map(|m| m.id).collect::<Vec<_>>(), [17, 20, 23]);
    let new = insert_message()
        .bind(&client, &"one more", &2)
        .one()
        .await
        .unwrap();
    assert_eq!((new.id, new.user_id), (101, 2));
    let user = bottles::user_by_id_with_messages(&client, 2).await.unwrap();
    assert_eq!(user.unwrap().messages.len(), 34);
}

#[tokio::test]
async fn seeding_at_scale_rebuilds_the_keys_of_every_partition() {
    const { assert!(30_000 >= SeedPlan::BULK_LOAD_FROM) };
    let test = reset_to_layout().await;
    let mut client = test.client().await;
    let before = keys_everywhere(&client).await;
    // Two keys and two indexes (the key's and message_id_idx) on the parent and on each partition.
    assert_eq!(before.len(), 4 + 4 * 4, "{before:#?}");
    let plan = SeedPlan::new(1_000, 30_000).unwrap();
    bottles::seed(&mut client, &plan).await.unwrap();
    assert_eq!(keys_everywhere(&client).await, before);
    assert_eq!(counts(&client).await, (1_000, 30_000));
    let users = joined(&client).await;
    assert_eq!(users.len(), 1_000);
    assert!(users.iter().all(|user| user.messages.len() == 30));
}
