//! The notebook's query cells, run together, and what `bottles query` shows of them: counts,
//! every user with a preview of their messages, the user looked up by name, and
//! `Message.afrom_user`.

use bottles::codegen::client::GenericClient;
use bottles::codegen::queries::messages::{Message, count_messages, messages_from_user};
use bottles::codegen::queries::users::count_users;
use futures::TryStreamExt;
use serde::Serialize;
use tokio_postgres::error::SqlState;

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

impl From<bottles::UserWithMessages> for UserPreview {
    fn from(user: bottles::UserWithMessages) -> Self {
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
/// together and pipelined on the one connection; results arrive in order. Behind a
/// transaction pooler that needs a transaction (see [`read_only`]).
pub async fn run_query_cells(
    client: &impl GenericClient,
    name: &str,
) -> bottles::Result<QueryReport> {
    // Each user is cut to a preview as it arrives, so no more than one user's messages are held.
    let previews = bottles::users_with_messages(client)
        .map_ok(UserPreview::from)
        .try_collect::<Vec<_>>();
    let from_user = async {
        let messages = messages_from_user().bind(client, &name).all().await;
        messages.map_err(bottles::Error::from)
    };
    let counts = async {
        let (count_users, count_messages) = (count_users(), count_messages());
        let users = count_users.bind(client).one();
        let messages = count_messages.bind(client).one();
        match tokio::join!(users, messages) {
            (Ok(users), Ok(messages)) => Ok((users, messages)),
            (Err(err), Ok(_)) | (Ok(_), Err(err)) => Err(err.into()),
            (Err(one), Err(other)) if aborted(one.code()) => Err(other.into()),
            (Err(one), Err(_)) => Err(one.into()),
        }
    };
    let named = bottles::user_by_name_with_messages(client, name);
    let (counts, users, named, from_user) = tokio::join!(counts, previews, named, from_user);
    // Pipelined in one transaction, a failure makes every statement after it fail with "current
    // transaction is aborted": report the failure itself, whichever cell it was in.
    let failed = [
        counts.as_ref().err(),
        users.as_ref().err(),
        named.as_ref().err(),
        from_user.as_ref().err(),
    ];
    let cause = failed
        .iter()
        .position(|err| err.is_some_and(|err| !aborted(err.code())));
    let first = |err: Option<bottles::Error>| Err(err.expect("that cell failed"));
    match cause.or_else(|| failed.iter().position(Option::is_some)) {
        Some(0) => return first(counts.err()),
        Some(1) => return first(users.err()),
        Some(2) => return first(named.err()),
        Some(_) => return first(from_user.err()),
        None => {}
    }
    let ((user_count, message_count), users, named, from_user) =
        (counts?, users?, named?, from_user?);
    Ok(QueryReport {
        user_count,
        message_count,
        users_with_messages: users,
        users_named: named.into_iter().map(UserPreview::from).collect(),
        messages_from_user: from_user.into(),
        name: name.to_string(),
    })
}

/// Runs the cells on `client`: directly, or behind a transaction pooler inside one read-only
/// transaction, which keeps the server connection so that the statements can go together
/// (and read one snapshot).
pub async fn read_only(client: &mut bottles::Client, name: &str) -> bottles::Result<QueryReport> {
    if !client.behind_a_pooler() {
        return run_query_cells(client, name).await;
    }
    let transaction = client.read_only_transaction().await?;
    let report = run_query_cells(&transaction, name).await?;
    transaction.commit().await?;
    Ok(report)
}

/// Whether an error's SQLSTATE only says an earlier statement of the transaction failed.
fn aborted(code: Option<&SqlState>) -> bool {
    code == Some(&SqlState::IN_FAILED_SQL_TRANSACTION)
}
