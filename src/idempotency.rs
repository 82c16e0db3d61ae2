//! Idempotent writes (`Idempotency-Key`, as payment APIs have them): a write and the answer it
//! gave are committed together, so a client that got no answer can send the same request
//! again with the same key and get the first answer, never a second write.

use std::time::Duration;

use bottles_codegen::queries::idempotency::{forget_expired_keys, store_answer, stored_answer};
use ring::digest::{SHA256, digest};

use crate::error::Error;
use crate::{Client, Transaction};

/// How long a key is remembered (`queries/idempotency.sql` says the same in SQL): a retry
/// after that writes again.
pub const KEY_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// What became of a request with a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The write ran now, and its answer is stored under the key.
    Done {
        /// The answer's status (such as 201).
        status: u16,
        /// The answer's body.
        body: String,
    },
    /// The key was used before for the same request: the answer it got then, nothing written.
    Replayed {
        /// The first answer's status.
        status: u16,
        /// The first answer's body.
        body: String,
    },
    /// The key was used before for a different request: nothing written (an HTTP service
    /// answers 422).
    KeyReused,
}

/// Runs `write` once for `key`: in one transaction, unless the key already holds an answer,
/// `write` runs and its `(status, body)` is stored under the key with what was asked
/// (`request`: method, path and body, compared by SHA-256). Of two requests with one key at
/// once, one commits and the other's write is rolled back and it gets the first one's answer.
/// A failed `write` stores nothing, so the same key can be tried again.
pub async fn write_once<E: From<Error>>(
    client: &mut Client,
    key: &str,
    request: &[u8],
    write: impl AsyncFnOnce(&Transaction<'_>) -> Result<(u16, String), E>,
) -> Result<Answer, E> {
    let request_hash = hex(digest(&SHA256, request).as_ref());
    let step = Error::statement;
    let tx = client.transaction().await.map_err(step("idempotency"))?;
    let earlier = stored_answer().bind(&tx, &key).opt().await;
    if let Some(earlier) = earlier.map_err(step("stored_answer"))? {
        tx.commit().await.map_err(step("idempotency"))?;
        return Ok(replay(earlier, &request_hash));
    }
    let (status, body) = match write(&tx).await {
        Ok(answer) => answer,
        Err(err) => {
            let _ = tx.rollback().await;
            return Err(err);
        }
    };
    forget_expired_keys()
        .bind(&tx)
        .await
        .map_err(step("forget_expired_keys"))?;
    let code = i16::try_from(status).unwrap_or(i16::MAX);
    let stored = store_answer()
        .bind(&tx, &key, &request_hash, &code, &body)
        .opt()
        .await
        .map_err(step("store_answer"))?;
    if stored.is_some() {
        tx.commit().await.map_err(step("idempotency"))?;
        return Ok(Answer::Done { status, body });
    }
    // A request with the same key committed while this one wrote: undo, and answer as it did.
    tx.rollback().await.map_err(step("idempotency"))?;
    let tx = client.transaction().await.map_err(step("idempotency"))?;
    let first = stored_answer().bind(&tx, &key).opt().await;
    let first = first.map_err(step("stored_answer"))?;
    tx.commit().await.map_err(step("idempotency"))?;
    Ok(first.map_or(Answer::KeyReused, |first| replay(first, &request_hash)))
}

fn replay(
    earlier: bottles_codegen::queries::idempotency::StoredAnswer,
    request_hash: &str,
) -> Answer {
    if earlier.request_hash != request_hash {
        return Answer::KeyReused;
    }
    Answer::Replayed {
        status: u16::try_from(earlier.status).unwrap_or(500),
        body: earlier.body,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
