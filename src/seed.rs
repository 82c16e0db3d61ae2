//! `seed`: the notebook's users and messages, inserted in bulk in one transaction, and only into
//! empty tables, so running it twice can never double the data.

use bottles_codegen::queries::messages::insert_messages;
use bottles_codegen::queries::tables::lock_tables;
use bottles_codegen::queries::users::insert_users;
use serde::Serialize;

use crate::db::in_transaction;
use crate::echo::{self, Preview};
use crate::error::{Error, Result};
use crate::query::{message_count, user_count};

/// The data to insert: named users, and messages dealt to them in turn like the notebook's
/// `itertools.cycle(users)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedPlan {
    names: Vec<String>,
    messages: usize,
}

impl SeedPlan {
    /// Nick, Eli and Paul, and "{i} bottles of beer on the wall..." for i = 99 down to 0.
    pub fn notebook() -> Self {
        Self {
            names: ["Nick", "Eli", "Paul"].map(String::from).to_vec(),
            messages: 100,
        }
    }

    pub fn users(&self) -> &[String] {
        &self.names
    }

    pub fn message_count(&self) -> usize {
        self.messages
    }

    /// The messages' contents and the index of each one's author in [`SeedPlan::users`],
    /// as two columns ready for a bulk insert.
    pub fn messages(&self) -> (Vec<String>, Vec<usize>) {
        (0..self.messages)
            .map(|k| {
                let bottles = self.messages - 1 - k;
                (
                    format!("{bottles} bottles of beer on the wall..."),
                    k % self.names.len(),
                )
            })
            .unzip()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeedReport {
    pub users: usize,
    pub messages: usize,
}

/// Inserts `plan` into empty tables, all or nothing.
///
/// The tables are locked against concurrent writers first, so of two seeds started together
/// one inserts and the other then finds the rows and is refused with
/// [`Error::AlreadySeeded`]; that refusal changes nothing.
pub async fn seed(client: &mut tokio_postgres::Client, plan: &SeedPlan) -> Result<SeedReport> {
    let step = Error::statement;
    in_transaction(client, "seed", async |tx| {
        echo::timed("lock_tables", &[], lock_tables().bind(tx))
            .await
            .map_err(step("seed"))?;
        let (users, messages) = (user_count(tx).await?, message_count(tx).await?);
        if users > 0 || messages > 0 {
            return Err(Error::AlreadySeeded { users, messages });
        }

        let names = plan.users();
        let insert = insert_users();
        let mut ids = echo::timed(
            "insert_users",
            &[("names", &Preview(names))],
            insert.bind(tx, &names).all(),
        )
        .await
        .map_err(step("seed"))?;
        // Identity values follow insertion order, which follows `names`.
        ids.sort_unstable();

        let (contents, authors) = plan.messages();
        let user_ids: Vec<i32> = authors.into_iter().map(|author| ids[author]).collect();
        let params: [(&str, &dyn std::fmt::Debug); 2] = [
            ("contents", &Preview(&contents)),
            ("user_ids", &Preview(&user_ids)),
        ];
        let inserted = echo::timed(
            "insert_messages",
            &params,
            insert_messages().bind(tx, &contents, &user_ids),
        )
        .await
        .map_err(step("seed"))?;
        Ok(SeedReport {
            users: ids.len(),
            messages: inserted as usize,
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notebook_plan_deals_messages_like_itertools_cycle() {
        let plan = SeedPlan::notebook();
        assert_eq!(plan.users(), ["Nick", "Eli", "Paul"]);
        let (contents, authors) = plan.messages();
        assert_eq!(contents.len(), 100);
        assert_eq!(contents[0], "99 bottles of beer on the wall...");
        assert_eq!(contents[99], "0 bottles of beer on the wall...");
        assert_eq!(authors[..4], [0, 1, 2, 0]);
        let per_user: Vec<usize> = (0..3)
            .map(|u| authors.iter().filter(|&&a| a == u).count())
            .collect();
        assert_eq!(per_user, [34, 33, 33]);
    }
}
