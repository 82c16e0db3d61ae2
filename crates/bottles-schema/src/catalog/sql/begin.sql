-- One snapshot for every catalog query; names of public objects printed unqualified, the same
-- whatever the caller's search_path (pg_catalog is still searched first).
BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;
SET LOCAL search_path = public;
