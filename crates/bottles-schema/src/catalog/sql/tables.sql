-- Ordinary tables of public. Left out, and named by unsupported.sql instead: partitions,
-- inheritance children, unlogged tables, extension members. bottles_migrations is the tool's own.
SELECT c.relname::text AS name, obj_description(c.oid, 'pg_class') AS comment
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'bottles_migrations'
    AND c.relpersistence = 'p' AND NOT c.relispartition
    AND NOT EXISTS (SELECT FROM pg_inherits i WHERE i.inhrelid = c.oid)
    AND NOT EXISTS (
        SELECT FROM pg_depend d
        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
    )
ORDER BY 1;
