-- The migration history: one row per file applied, by `bottles migrate` and by `reset`.
-- Read by apply.rs, section by section; parameters are written `$n` as sent.

--! create_table
-- state is 'running' only while a no-transaction file runs; a row left so means it stopped.
CREATE TABLE IF NOT EXISTS bottles_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    state text NOT NULL CHECK (state IN ('running', 'done')),
    applied_at timestamptz,
    duration_ms bigint
);

--! exists
SELECT to_regclass('bottles_migrations') IS NOT NULL;

--! history
SELECT version, name, checksum, state = 'done' AS done,
    to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC' AS applied_at,
    duration_ms
FROM bottles_migrations
ORDER BY version;

--! insert_done
INSERT INTO bottles_migrations (version, name, checksum, state, applied_at, duration_ms)
VALUES ($1, $2, $3, 'done', clock_timestamp(), $4);

--! insert_running
INSERT INTO bottles_migrations (version, name, checksum, state, applied_at)
VALUES ($1, $2, $3, 'running', clock_timestamp());

--! mark_done
UPDATE bottles_migrations
SET state = 'done', applied_at = clock_timestamp(), duration_ms = $2
WHERE version = $1;

--! forget_all
DELETE FROM bottles_migrations;

--! drop_table
-- For a schema that is not what the files produce: no history is better than a wrong one.
DROP TABLE IF EXISTS bottles_migrations;

--! set_lock_timeout
-- For this transaction only: a migration waiting on a lock queues every query behind it.
SELECT set_config('lock_timeout', $1, true);

--! keep_lock_open
-- The deploy lock's transaction sits idle for the whole run: a server timeout must not end it.
SET LOCAL idle_in_transaction_session_timeout = 0;

--! try_deploy_lock
-- 27707093677794675 is "bottles" in ASCII: one key per database, for deploys only.
SELECT pg_try_advisory_xact_lock(27707093677794675);
