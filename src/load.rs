//! Users with their messages, loaded the two ways the notebook does: one joined query read as a
//! stream, or the users first and then all their messages in one more query (select-in). Users
//! come back by id, each user's messages by id.

use std::collections::BTreeMap;

use bottles_codegen::client::GenericClient;
use bottles_codegen::queries::messages::{Message, messages_for_users};
use bottles_codegen::queries::users::{
    User, UsersWithMessages, user_by_id, user_by_name, users_with_messages as joined,
};
use futures::{Stream, TryStreamExt};
use serde::Serialize;

use crate::error::{Error, Result};

/// A user with all of their messages, like the notebook's `User` with `messages` loaded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserWithMessages {
    /// The user's id.
    pub id: i32,
    /// The user's name.
    pub name: String,
    /// Every message of the user, by id.
    pub messages: Vec<Message>,
}

/// `select(User).options(joinedload(User.messages))`: the `users_with_messages` query, its
/// rows grouped into users as they arrive (they come ordered by user id). Memory holds one
/// user's messages at a time, however large the table. A user without messages has an empty
/// list.
pub fn users_with_messages<C: GenericClient>(
    client: &C,
) -> impl Stream<Item = Result<UserWithMessages>> + Send + '_ {
    const STEP: &str = "users_with_messages";
    async_stream::try_stream! {
        let statement = joined();
        let rows = statement.bind(client).iter().await.map_err(Error::statement(STEP))?;
        let mut rows = std::pin::pin!(rows);
        let mut pending = None;
        while let Some(row) = rows.try_next().await.map_err(Error::statement(STEP))? {
            if let Some(user) = push_joined_row(&mut pending, row) {
                yield user;
            }
        }
        if let Some(user) = pending {
            yield user;
        }
    }
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

/// `select(User).where(User.name == name).options(selectinload(User.messages))`: the
/// `user_by_name` query, then every message of the users found in one `messages_for_users`
/// query. An unknown name is an empty list.
pub async fn user_by_name_with_messages(
    client: &impl GenericClient,
    name: &str,
) -> Result<Vec<UserWithMessages>> {
    const STEP: &str = "user_by_name_with_messages";
    let users = user_by_name().bind(client, &name).all().await;
    with_messages(client, users.map_err(Error::statement(STEP))?, STEP).await
}

/// `session.get(User, id)` with its messages loaded: the `user_by_id` query and the user's
/// messages (`messages_for_users`). The id is known before the user is found, so both go out
/// together, pipelined in one round trip. `None` when there is no such user.
pub async fn user_by_id_with_messages(
    client: &impl GenericClient,
    id: i32,
) -> Result<Option<UserWithMessages>> {
    const STEP: &str = "user_by_id_with_messages";
    let (user, messages) = (user_by_id(), messages_for_users());
    let ids: &[i32] = &[id];
    let both = tokio::try_join!(
        user.bind(client, &id).opt(),
        messages.bind(client, &ids).all()
    );
    let (user, messages) = both.map_err(Error::statement(STEP))?;
    Ok(user.map(|user| UserWithMessages {
        id: user.id,
        name: user.name,
        messages,
    }))
}

/// The select-in half: every message of `users` in one query, handed to each user in order.
async fn with_messages(
    client: &impl GenericClient,
    users: Vec<User>,
    step: &'static str,
) -> Result<Vec<UserWithMessages>> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i32> = users.iter().map(|user| user.id).collect();
    let messages = messages_for_users().bind(client, &ids).all().await;
    let mut by_user: BTreeMap<i32, Vec<Message>> = BTreeMap::new();
    for message in messages.map_err(Error::statement(step))? {
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
