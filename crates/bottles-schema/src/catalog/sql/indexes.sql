-- Indexes of the tables of public that back no primary key, unique or exclusion constraint
-- (a foreign key's conindid is the referenced table's index, so it is not one of them).
SELECT c.relname::text AS relation, i.relname::text AS name,
    pg_get_indexdef(i.oid) AS definition, x.indisvalid AS valid,
    obj_description(i.oid, 'pg_class') AS comment
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class c ON c.oid = x.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'r'
    AND NOT EXISTS (
        SELECT FROM pg_constraint k
        WHERE k.conindid = x.indexrelid AND k.conrelid = x.indrelid
            AND k.contype IN ('p', 'u', 'x')
    )
ORDER BY 1, 2;
