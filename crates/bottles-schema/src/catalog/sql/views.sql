-- Views of public: definition, options, and the relations their query reads (through its
-- _RETURN rule's dependencies), to rebuild them in order.
SELECT c.relname::text AS name, pg_get_viewdef(c.oid) AS definition,
    coalesce(c.reloptions, '{}')::text[] AS options,
    ARRAY(
        SELECT DISTINCT u.relname::text
        FROM pg_rewrite r
        JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
            AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> c.oid
        JOIN pg_class u ON u.oid = d.refobjid
        WHERE r.ev_class = c.oid
        ORDER BY 1
    ) AS uses,
    obj_description(c.oid, 'pg_class') AS comment
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'v'
    AND NOT EXISTS (
        SELECT FROM pg_depend d
        WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
    )
ORDER BY 1;
