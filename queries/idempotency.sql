-- Idempotency keys (schema.sql's idempotency_key), read and stored inside the write's own
-- transaction by bottles::idempotency. A key is kept 24 hours.

--: StoredAnswer()

-- The answer stored under a key that has not expired, if any.
--! stored_answer : StoredAnswer
SELECT request_hash, status, body FROM idempotency_key
WHERE key = :key AND created_at > now() - interval '24 hours';

-- Stores the answer, or takes over an expired key. No row back: a concurrent request with the
-- same key committed first (this statement waited for it), so this write must be undone.
--! store_answer
INSERT INTO idempotency_key (key, request_hash, status, body)
VALUES (:key, :request_hash, :status, :body)
ON CONFLICT (key) DO UPDATE
    SET request_hash = excluded.request_hash, status = excluded.status, body = excluded.body,
        created_at = now()
    WHERE idempotency_key.created_at <= now() - interval '24 hours'
RETURNING key;

-- Expired keys, a few at a time (called with each new key, so the table stays small).
--! forget_expired_keys
DELETE FROM idempotency_key
WHERE key IN (SELECT key FROM idempotency_key
              WHERE created_at <= now() - interval '24 hours' LIMIT 16);
