-- The migration history: one row per file applied, by `bottles migrate` and by `reset`.
-- Read by history.rs, apply.rs and lock.rs, section by section; parameters are written `$n`
-- as sent.

--! create_table
-- state is 'running' only while a no-transaction file runs; a row left so means it stopped,
-- after statements_done of its statements had committed.
CREATE TABLE IF NOT EXISTS bottles_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    state text NOT NULL CHECK (state IN ('running', 'done')),
    applied_at timestamptz,
    duration_ms bigint,
    statements_done integer
);

--! add_progress_column
-- A history table made before statements_done existed. Checked first: ALTER TABLE needs the
-- table's owner even when the column is there, and a deploy role need not be.
DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = 'bottles_migrations'::regclass
    AND attname = 'statements_done' AND NOT attisdropped)
THEN ALTER TABLE bottles_migrations ADD COLUMN statements_done integer; END IF; END $$;

--! exists
SELECT to_regclass('bottles_migrations') IS NOT NULL;

--! history
-- to_jsonb reads statements_done from a table made before it existed too (as null).
SELECT version, name, checksum, state = 'done' AS done,
    to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC' AS applied_at,
    duration_ms, (to_jsonb(m) ->> 'statements_done')::integer AS statements_done
FROM bottles_migrations AS m
ORDER BY version;

--! insert_done
INSERT INTO bottles_migrations (version, name, checksum, state, applied_at, duration_ms)
VALUES ($1, $2, $3, 'done', clock_timestamp(), $4);

--! insert_running
INSERT INTO bottles_migrations (version, name, checksum, state, applied_at, statements_done)
VALUES ($1, $2, $3, 'running', clock_timestamp(), 0);

--! statement_done
UPDATE bottles_migrations SET statements_done = $2 WHERE version = $1;

--! mark_done
UPDATE bottles_migrations
SET state = 'done', applied_at = clock_timestamp(), duration_ms = $2
WHERE version = $1;

--! resolve_applied
-- Finished by hand: done, with no duration of its own.
UPDATE bottles_migrations SET state = 'done', applied_at = clock_timestamp(), duration_ms = NULL
WHERE version = $1 AND state = 'running';

--! resolve_rolled_back
-- Undone by hand: forgotten, so the next run applies the file from its start.
DELETE FROM bottles_migrations WHERE version = $1 AND state = 'running';

--! forget_all
DELETE FROM bottles_migrations;

--! drop_table
-- For a schema that is not what the files produce: no history is better than a wrong one.
DROP TABLE IF EXISTS bottles_migrations;

--! set_timeouts
-- For this transaction only: a migration waiting on a lock queues every query behind it, but
-- once it has the lock it runs as long as it needs (an application's statement_timeout, set
-- for the session or by a pooled client's SET LOCAL, would cut it half-way).
SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', '0', true);

--! show_statement_timeout
SHOW statement_timeout;

--! no_statement_timeout
-- Around a statement that cannot run in a transaction, on a connection of its own (never
-- behind a transaction pooler, where the next statement may get another server connection).
SET statement_timeout = 0;

--! reset_statement_timeout
-- Back to the session's own value, its start-up options included.
RESET statement_timeout;

--! keep_lock_open
-- The deploy lock's transaction sits idle for the whole run: a server timeout must not end it.
SET LOCAL idle_in_transaction_session_timeout = 0;

--! try_deploy_lock
-- 27707093677794675 is "bottles" in ASCII: one key per database, for deploys only.
SELECT pg_try_advisory_xact_lock(27707093677794675);

--! deploy_lock_holder
-- Who holds it: a bigint key is split into classid (high half) and objid (low half).
SELECT pid FROM pg_locks
WHERE locktype = 'advisory' AND granted AND objsubid = 1
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND (classid::bigint << 32 | objid::bigint) = 27707093677794675
LIMIT 1;
