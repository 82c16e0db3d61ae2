-- seed: held until commit, so a concurrent seed waits here and then sees our rows.
--! lock_tables
LOCK TABLE "user", message IN SHARE ROW EXCLUSIVE MODE;

-- seed at scale: message's keys and indexes, with the statements that drop them before a bulk
-- load and create them again after it (one sort each instead of an index and foreign-key update
-- per row). Read from the catalog, so they always match what schema.sql created.
--! message_keys_and_indexes : (drop, create)
SELECT drop, "create" FROM (
    SELECT CASE contype WHEN 'f' THEN 1 ELSE 2 END AS position,
           format('ALTER TABLE message DROP CONSTRAINT %I', conname) AS drop,
           format('ALTER TABLE message ADD CONSTRAINT %I %s', conname, pg_get_constraintdef(oid)) AS "create"
    FROM pg_constraint
    WHERE conrelid = 'message'::regclass AND contype IN ('p', 'u', 'f')
    UNION ALL
    -- A partitioned table's index reads "ON ONLY message", which would build it on no partition.
    SELECT 3, format('DROP INDEX %s', indexrelid::regclass),
           replace(pg_get_indexdef(indexrelid), ' ON ONLY ', ' ON ')
    FROM pg_index
    WHERE indrelid = 'message'::regclass
      AND NOT EXISTS (SELECT FROM pg_constraint WHERE conindid = indexrelid)
) AS definitions
ORDER BY position, drop;

-- Whether the server answers at all (a health check).
--! ping
SELECT 1 AS ok;

-- Read replicas: how far the primary has written, and how far a standby has replayed (as text:
-- pg_lsn has no Rust type here). A standby that has replayed the primary's position after a
-- write shows that write. The insert position, not pg_current_wal_lsn(): with
-- synchronous_commit off a commit is not yet written out when the client hears of it.
--! wal_written
SELECT pg_current_wal_insert_lsn()::text AS lsn;

--! wal_replayed : (lsn?)
SELECT pg_last_wal_replay_lsn()::text AS lsn;
