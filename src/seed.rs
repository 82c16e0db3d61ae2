//! `seed`: users and messages, inserted in bulk in one transaction, and only into empty tables,
//! so running it twice can never double the data.
//!
//! Users go in through the typed `insert_users` query in batches (it returns their ids);
//! messages are streamed through `COPY ... FROM STDIN (FORMAT binary)`. From
//! [`SeedPlan::BULK_LOAD_FROM`] messages on, message's keys and indexes are dropped first and built again
//! after the load, inside the same transaction: one sort per index instead of an index and
//! foreign-key update per row, about five times faster at a million messages (`cargo xtask bench`).

use bottles_codegen::client::GenericClient;
use bottles_codegen::queries::messages::count_messages;
use bottles_codegen::queries::tables::{
    MessageKeysAndIndexes, lock_tables, message_keys_and_indexes,
};
use bottles_codegen::queries::users::{count_users, insert_users};
use postgres_types::Type;
use serde::Serialize;
use tokio_postgres::binary_copy::BinaryCopyInWriter;

use crate::error::{Error, Result};
use crate::{Client, Transaction};

/// The notebook's users, in the order it adds them.
const NOTEBOOK_NAMES: [&str; 3] = ["Nick", "Eli", "Paul"];
/// The notebook's message count: "99 bottles of beer on the wall..." down to "0 ...".
const NOTEBOOK_MESSAGES: u32 = 100;
const MAX_ROWS: u32 = SeedPlan::MAX_ROWS;
const BULK_LOAD_FROM: u32 = SeedPlan::BULK_LOAD_FROM;

/// Users per `insert_users` statement.
const USER_BATCH: u32 = 10_000;
/// Messages between two progress reports.
const PROGRESS_EVERY: u32 = 16_384;

/// What to insert: `users` users, the notebook's three names first and then generated ones,
/// and `messages` messages counting down to 0 bottles, dealt to the users in turn like the
/// notebook's `itertools.cycle(users)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedPlan {
    users: u32,
    messages: u32,
}

impl SeedPlan {
    /// Ids are PostgreSQL `integer`s, so neither table can take more rows than this.
    pub const MAX_ROWS: u32 = i32::MAX as u32;

    /// From this many messages on, seed drops message's keys and indexes for the load and
    /// builds them again afterwards; below it, keeping them costs less than rebuilding them.
    pub const BULK_LOAD_FROM: u32 = 20_000;

    /// Exactly the notebook's data: Nick, Eli and Paul, and 100 messages.
    pub fn notebook() -> Self {
        Self {
            users: NOTEBOOK_NAMES.len() as u32,
            messages: NOTEBOOK_MESSAGES,
        }
    }

    /// A plan at any scale, from 1 user and 0 messages up to [`SeedPlan::MAX_ROWS`] of each.
    pub fn new(users: u32, messages: u32) -> Result<Self> {
        if users == 0 {
            return Err(Error::InvalidPlan(
                "there must be at least one user to deal the messages to".into(),
            ));
        }
        if users > MAX_ROWS || messages > MAX_ROWS {
            return Err(Error::InvalidPlan(format!(
                "at most {MAX_ROWS} users and {MAX_ROWS} messages fit integer ids"
            )));
        }
        Ok(Self { users, messages })
    }

    /// Users to insert.
    pub fn user_count(&self) -> u32 {
        self.users
    }

    /// Messages to insert.
    pub fn message_count(&self) -> u32 {
        self.messages
    }

    /// The name of user `index` (0-based): the notebook's names, then "User 4", "User 5", ...
    pub fn user_name(&self, index: u32) -> String {
        match NOTEBOOK_NAMES.get(index as usize) {
            Some(name) => (*name).to_string(),
            None => format!("User {}", index + 1),
        }
    }

    /// Message `index` (0-based): its content and the index of its author.
    pub fn message(&self, index: u32) -> (String, u32) {
        let bottles = self.messages - 1 - index;
        (
            format!("{bottles} bottles of beer on the wall..."),
            index % self.users,
        )
    }

    fn total_rows(&self) -> u64 {
        u64::from(self.users) + u64::from(self.messages)
    }
}

impl Default for SeedPlan {
    fn default() -> Self {
        Self::notebook()
    }
}

/// What [`seed`] inserted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeedReport {
    /// Users inserted.
    pub users: u64,
    /// Messages inserted.
    pub messages: u64,
}

/// How far a seed has come, for a progress bar: rows inserted so far out of all rows planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedProgress {
    /// Rows inserted so far.
    pub rows_done: u64,
    /// Rows the plan inserts in all.
    pub rows_total: u64,
}

/// Inserts `plan` into empty tables, all or nothing. See [`seed_with_progress`].
pub async fn seed(client: &mut Client, plan: &SeedPlan) -> Result<SeedReport> {
    seed_with_progress(client, plan, |_| {}).await
}

/// Inserts `plan` into empty tables, all or nothing, calling `progress` as rows go in.
///
/// The tables are locked against concurrent writers first, so of two seeds started together
/// one inserts and the other then finds the rows and is refused with
/// [`Error::AlreadySeeded`]; that refusal changes nothing.
pub async fn seed_with_progress(
    client: &mut Client,
    plan: &SeedPlan,
    mut progress: impl FnMut(SeedProgress),
) -> Result<SeedReport> {
    let transaction = client.transaction().await.map_err(failed)?;
    let tx = &transaction;
    lock_tables().bind(tx).await.map_err(failed)?;
    let (count_users, count_messages) = (count_users(), count_messages());
    let users = count_users.bind(tx).one();
    let messages = count_messages.bind(tx).one();
    let (users, messages) = tokio::try_join!(users, messages).map_err(failed)?;
    if users > 0 || messages > 0 {
        return Err(Error::AlreadySeeded { users, messages });
    }
    let mut report = |rows_done| {
        progress(SeedProgress {
            rows_done,
            rows_total: plan.total_rows(),
        })
    };
    report(0);
    let ids = insert_all_users(tx, plan, &mut report).await?;
    let done = ids.len() as u64;
    let dropped = if plan.messages >= BULK_LOAD_FROM {
        drop_message_keys(tx).await?
    } else {
        Vec::new()
    };
    let messages = copy_messages(tx, plan, &ids, |rows| report(done + rows)).await?;
    // Built in reverse order of dropping: indexes, then keys, then the foreign key.
    for key in dropped.iter().rev() {
        tx.batch_execute(&key.create).await.map_err(failed)?;
    }
    transaction.commit().await.map_err(failed)?;
    Ok(SeedReport {
        users: done,
        messages,
    })
}

/// Names the step in a failure: a missing table, or a statement that failed during `seed`.
fn failed(err: tokio_postgres::Error) -> Error {
    Error::statement("seed")(err)
}

/// Inserts the plan's users in batches; returns their ids, index `i` for user `i`.
async fn insert_all_users(
    tx: &Transaction<'_>,
    plan: &SeedPlan,
    report: &mut impl FnMut(u64),
) -> Result<Vec<i32>> {
    let mut ids = Vec::with_capacity(plan.users as usize);
    let insert = insert_users();
    let mut start = 0;
    while start < plan.users {
        let end = plan.users.min(start + USER_BATCH);
        let names: Vec<String> = (start..end).map(|i| plan.user_name(i)).collect();
        let mut batch = insert.bind(tx, &names).all().await.map_err(failed)?;
        // Identity values follow insertion order, which follows `names`.
        batch.sort_unstable();
        ids.extend(batch);
        report(u64::from(end));
        start = end;
    }
    Ok(ids)
}

/// Drops message's keys and indexes (this locks the table until commit); returns how to
/// create them again.
async fn drop_message_keys(tx: &Transaction<'_>) -> Result<Vec<MessageKeysAndIndexes>> {
    let keys = message_keys_and_indexes()
        .bind(tx)
        .all()
        .await
        .map_err(failed)?;
    for key in &keys {
        tx.batch_execute(&key.drop).await.map_err(failed)?;
    }
    Ok(keys)
}

/// Streams the plan's messages into `COPY message FROM STDIN` in binary format.
async fn copy_messages(
    tx: &Transaction<'_>,
    plan: &SeedPlan,
    user_ids: &[i32],
    mut report: impl FnMut(u64),
) -> Result<u64> {
    let sql = crate::statements::statement_text("copy_messages")
        .expect("copy/messages.sql names copy_messages");
    let statement = tx.prepare(sql).await.map_err(failed)?;
    let sink = tx.copy_in(&statement).await.map_err(failed)?;
    let writer = BinaryCopyInWriter::new(sink, &[Type::TEXT, Type::INT4]);
    let mut writer = std::pin::pin!(writer);
    for index in 0..plan.messages {
        let (content, author) = plan.message(index);
        let row: [&(dyn postgres_types::ToSql + Sync); 2] = [&content, &user_ids[author as usize]];
        writer.as_mut().write(&row).await.map_err(failed)?;
        if (index + 1) % PROGRESS_EVERY == 0 {
            report(u64::from(index + 1));
        }
    }
    let copied = writer.finish().await.map_err(failed)?;
    report(copied);
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notebook_plan_deals_messages_like_itertools_cycle() {
        let plan = SeedPlan::notebook();
        let names: Vec<String> = (0..plan.user_count()).map(|i| plan.user_name(i)).collect();
        assert_eq!(names, ["Nick", "Eli", "Paul"]);
        assert_eq!(plan.message_count(), 100);
        assert_eq!(plan.message(0).0, "99 bottles of beer on the wall...");
        assert_eq!(plan.message(99).0, "0 bottles of beer on the wall...");
        let authors: Vec<u32> = (0..100).map(|i| plan.message(i).1).collect();
        assert_eq!(authors[..4], [0, 1, 2, 0]);
        let per_user: Vec<usize> = (0..3)
            .map(|u| authors.iter().filter(|&&a| a == u).count())
            .collect();
        assert_eq!(per_user, [34, 33, 33]);
    }

    #[test]
    fn larger_plans_keep_the_notebook_names_and_generate_the_rest() {
        let plan = SeedPlan::new(5, 7).unwrap();
        assert_eq!(plan.user_name(2), "Paul");
        assert_eq!(plan.user_name(3), "User 4");
        assert_eq!(
            plan.message(0),
            ("6 bottles of beer on the wall...".into(), 0)
        );
        assert_eq!(
            plan.message(6),
            ("0 bottles of beer on the wall...".into(), 1)
        );
    }

    #[test]
    fn plans_without_users_or_beyond_integer_ids_are_refused() {
        assert!(matches!(SeedPlan::new(0, 1), Err(Error::InvalidPlan(_))));
        assert!(matches!(SeedPlan::new(0, 0), Err(Error::InvalidPlan(_))));
        assert!(matches!(
            SeedPlan::new(1, MAX_ROWS + 1),
            Err(Error::InvalidPlan(_))
        ));
        assert!(SeedPlan::new(1, 0).is_ok());
    }
}
