//! `GET /users`: every user with their messages as one JSON array, streamed. Users are encoded
//! as the joined query's rows arrive and sent in chunks, so the service holds one user and one
//! chunk at a time however large the tables, and the first bytes leave before the query ends.

use std::pin::pin;

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use bottles::{Client, Database};
use futures::{StreamExt, TryStreamExt, stream};

use crate::errors::ApiError;

/// Bytes gathered before a chunk is sent (the first user goes out at once).
const CHUNK: usize = 32 * 1024;

pub async fn stream_all(db: &Database) -> Result<Response, ApiError> {
    // A failure before the first user (no tables, a lost connection) is still an error
    // response, and on a replica a reason to try the next one; after it the status is sent,
    // and a failure can only cut the body short.
    let (first, chunks) = db
        .read(async |db| -> bottles::Result<_> {
            let mut chunks = Box::pin(chunks(db.client().await?));
            let first = chunks.next().await.transpose()?;
            Ok((first, chunks))
        })
        .await?;
    let rest = chunks.map_err(|err| {
        tracing::warn!(target: crate::access::ACCESS_LOG_TARGET, "GET /users cut short: {err}");
        std::io::Error::other(err.to_string())
    });
    let body = Body::from_stream(stream::iter(first.map(Ok)).chain(rest));
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `[`, the users separated by commas, `]`, in chunks of about [`CHUNK`] bytes.
fn chunks(client: Client) -> impl futures::Stream<Item = Result<Bytes, bottles::Error>> + Send {
    async_stream::try_stream! {
        let mut users = pin!(bottles::users_with_messages(&client));
        let mut chunk = Vec::with_capacity(CHUNK + 1024);
        chunk.push(b'[');
        let mut first = true;
        while let Some(user) = users.try_next().await? {
            if !first {
                chunk.push(b',');
            }
            serde_json::to_writer(&mut chunk, &user).expect("a user is plain JSON");
            if first || chunk.len() >= CHUNK {
                yield Bytes::from(std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK + 1024)));
            }
            first = false;
        }
        chunk.push(b']');
        yield Bytes::from(chunk);
    }
}
