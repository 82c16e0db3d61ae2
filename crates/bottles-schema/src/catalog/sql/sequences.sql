-- Sequences of public with the column that owns them: 'a' for OWNED BY (serial), 'i' for an
-- identity column's, which the column stands for and so is left out. So are the history's.
SELECT c.relname::text AS name, format_type(s.seqtypid, NULL) AS data_type,
    s.seqstart AS start, s.seqincrement AS increment, s.seqmin AS min, s.seqmax AS max,
    s.seqcache AS cache, s.seqcycle AS cycle,
    owner.relname::text AS owner_table, a.attname::text AS owner_column,
    obj_description(c.oid, 'pg_class') AS comment
FROM pg_sequence s
JOIN pg_class c ON c.oid = s.seqrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
    AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
LEFT JOIN pg_class owner ON owner.oid = d.refobjid
LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE n.nspname = 'public' AND d.deptype IS DISTINCT FROM 'i'
    AND owner.relname IS DISTINCT FROM 'bottles_migrations'
    AND NOT EXISTS (
        SELECT FROM pg_depend e
        WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e'
    )
ORDER BY 1;
