//! The notebook's query cells: counts, the joined load, the chained filter with its select-in
//! load, and `Message.afrom_user`. Every result is ordered: users by id, messages by id.

use std::collections::BTreeMap;

use bottles_codegen::client::GenericClient;
use bottles_codegen::queries::messages::{
    Message, count_messages, messages_for_users, messages_from_user,
};
use bottles_codegen::queries::users::{
    UsersWithMessages, count_users, user_by_name, users_with_messages,
};
use std::time::Instant;

use futures::{Stream, TryStreamExt};
use serde::Serialize;

use crate::echo;
use crate::error::{Error, Result};

/// A user with all of their messages, like the notebook's `User` with `messages` loaded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserWithMessages {
    pub id: i32,
    pub name: String,
    pub messages: Vec<Message>,
}

// Every query is prepared through `client`, which for a pooled connection (or a transaction on
// one) reuses the statement it prepared before: one round trip per query instead of two.

pub async fn user_count(client: &impl GenericClient) -> Result<i64> {
    let count = async {
        let statement = count_users().prepare(client).await?;
        statement.bind(client).one().await
    };
    echo::timed("count_users", &[], count)
        .await
        .map_err(Error::statement("count_users"))
}

pub async fn message_count(client: &impl GenericClient) -> Result<i64> {
    let count = async {
        let statement = count_messages().prepare(client).await?;
        statement.bind(client).one().await
    };
    echo::timed("count_messages", &[], count)
        .await
        .map_err(Error::statement("count_messages"))
}

/// `select(User).options(joinedload(User.messages))`, as a stream: one LEFT JOIN whose rows are
/// grouped into users as they arrive (they come ordered by user id), so memory holds one user's
/// messages at a time, however large the table. A user without messages has an empty list.
pub fn users_with_messages_stream<C: GenericClient>(
    client: &C,
) -> impl Stream<Item = Result<UserWithMessages>> + '_ {
    async_stream::try_stream! {
        let started = Instant::now();
        let statement = users_with_messages().prepare(client).await;
        let statement = statement.map_err(Error::statement("users_with_messages"))?;
        let rows = statement.bind(client).iter().await;
        let rows = rows.map_err(Error::statement("users_with_messages"))?;
        let mut rows = std::pin::pin!(rows);
        let (mut pending, mut users, mut messages) = (None, 0u64, 0u64);
        loop {
            let row = rows.try_next().await;
            let Some(row) = row.map_err(Error::statement("users_with_messages"))? else { break };
            messages += u64::from(row.message_id.is_some());
            if let Some(user) = push_joined_row(&mut pending, row) {
                users += 1;
                yield user;
            }
        }
        if let Some(user) = pending {
            users += 1;
            yield user;
        }
        let outcome = format!("{users} users, {messages} messages");
        echo::finished("users_with_messages", &[], &outcome, started);
    }
}

/// The joined load, collected: every user with every message. Prefer
/// [`users_with_messages_stream`] when the table may be large.
pub async fn users_with_messages_joined(
    client: &impl GenericClient,
) -> Result<Vec<UserWithMessages>> {
    users_with_messages_stream(client).try_collect().await
}

/// Adds one joined row to `pending`, the user being assembled. When the row belongs to a new
/// user, `pending` is replaced and the finished user returned.
fn push_joined_row(
    pending: &mut Option<UserWithMessages>,
    row: UsersWithMessages,
) -> Option<UserWithMessages> {
    let finished = match pending {
        Some(user) if user.id == row.user_id => None,
        _ => pending.replace(UserWithMessages {
            id: row.user_id,
            name: row.user_name,
            messages: Vec::new(),
        }),
    };
    if let (Some(id), Some(content), Some(user)) = (row.message_id, row.content, pending) {
        user.messages.push(Message {
            id,
            content,
            user_id: row.user_id,
        });
    }
    finished
}

/// `select(User).where(User.name == name).options(selectinload(User.messages))`: the users
/// first, then all their messages in one `user_id = ANY(ids)` query. Unknown name: empty list.
pub async fn users_by_name_selectin(
    client: &impl GenericClient,
    name: &str,
) -> Result<Vec<UserWithMessages>> {
    let find = async {
        let statement = user_by_name().prepare(client).await?;
        statement.bind(client, &name).all().await
    };
    let users = echo::timed("user_by_name", &[("name", &name)], find)
        .await
        .map_err(Error::statement("user_by_name"))?;
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i32> = users.iter().map(|user| user.id).collect();
    let load = async {
        let statement = messages_for_users().prepare(client).await?;
        statement.bind(client, &ids).all().await
    };
    let messages = echo::timed(
        "messages_for_users",
        &[("user_ids", &echo::Preview(&ids))],
        load,
    )
    .await
    .map_err(Error::statement("messages_for_users"))?;
    let mut by_user: BTreeMap<i32, Vec<Message>> = BTreeMap::new();
    for message in messages {
        by_user.entry(message.user_id).or_default().push(message);
    }
    Ok(users
        .into_iter()
        .map(|user| UserWithMessages {
            messages: by_user.remove(&user.id).unwrap_or_default(),
            id: user.id,
            name: user.name,
        })
        .collect())
}

/// `Message.afrom_user(session, name)`: every message of the users called `name`.
pub async fn messages_from(client: &impl GenericClient, name: &str) -> Result<Vec<Message>> {
    let load = async {
        let statement = messages_from_user().prepare(client).await?;
        statement.bind(client, &name).all().await
    };
    echo::timed("messages_from_user", &[("name", &name)], load)
        .await
        .map_err(Error::statement("messages_from_user"))
}

/// How many of a user's messages the report shows, like the notebook's `messages[:5]`.
pub const PREVIEW_LEN: usize = 5;

/// Everything the notebook's query cells print.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryReport {
    pub user_count: i64,
    pub message_count: i64,
    /// The joined load, one entry per user.
    pub users_with_messages: Vec<UserPreview>,
    /// The chained filter with select-in load, for [`QueryReport::name`].
    pub users_named: Vec<UserPreview>,
    /// `Message.afrom_user` for [`QueryReport::name`]: how many, and the first few.
    pub messages_from_user: MessagesPreview,
    /// The user name the last two cells looked up.
    pub name: String,
}

/// A user, their message count and their first [`PREVIEW_LEN`] messages.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserPreview {
    pub id: i32,
    pub name: String,
    pub message_count: usize,
    pub first_messages: Vec<Message>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessagesPreview {
    pub count: usize,
    pub first_messages: Vec<Message>,
}

impl From<UserWithMessages> for UserPreview {
    fn from(user: UserWithMessages) -> Self {
        let MessagesPreview {
            count,
            first_messages,
        } = user.messages.into();
        Self {
            id: user.id,
            name: user.name,
            message_count: count,
            first_messages,
        }
    }
}

impl From<Vec<Message>> for MessagesPreview {
    fn from(mut messages: Vec<Message>) -> Self {
        let count = messages.len();
        messages.truncate(PREVIEW_LEN);
        // Give back the rest: a report of many users must not keep each one's full list alive.
        messages.shrink_to_fit();
        Self {
            count,
            first_messages: messages,
        }
    }
}

/// Runs every query cell for user `name`. The statements are independent, so they are sent
/// together and pipelined on the one connection; results arrive in order.
pub async fn run_query_cells(client: &impl GenericClient, name: &str) -> Result<QueryReport> {
    // Each user is cut to a preview as it arrives, so no more than one user's messages are held.
    let previews = users_with_messages_stream(client)
        .map_ok(UserPreview::from)
        .try_collect::<Vec<_>>();
    let (user_count, message_count, users, named, from_user) = tokio::try_join!(
        user_count(client),
        message_count(client),
        previews,
        users_by_name_selectin(client, name),
        messages_from(client, name),
    )?;
    Ok(QueryReport {
        user_count,
        message_count,
        users_with_messages: users,
        users_named: named.into_iter().map(UserPreview::from).collect(),
        messages_from_user: from_user.into(),
        name: name.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(user_id: i32, message: Option<(i32, &str)>) -> UsersWithMessages {
        UsersWithMessages {
            user_id,
            user_name: format!("u{user_id}"),
            message_id: message.map(|m| m.0),
            content: message.map(|m| m.1.to_string()),
        }
    }

    #[test]
    fn joined_rows_fold_into_users_including_users_without_messages() {
        let (mut users, mut pending) = (Vec::new(), None);
        for r in [
            row(1, Some((1, "a"))),
            row(1, Some((3, "c"))),
            row(2, None),
            row(3, Some((2, "b"))),
        ] {
            users.extend(push_joined_row(&mut pending, r));
        }
        assert_eq!(users.len(), 2, "the last user is still being assembled");
        users.extend(pending);
        let shape: Vec<(i32, Vec<i32>)> = users
            .iter()
            .map(|u| (u.id, u.messages.iter().map(|m| m.id).collect()))
            .collect();
        assert_eq!(shape, [(1, vec![1, 3]), (2, vec![]), (3, vec![2])]);
        assert_eq!(
            users[0].messages[1],
            Message {
                id: 3,
                content: "c".into(),
                user_id: 1
            }
        );
    }
}
