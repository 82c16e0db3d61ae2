-- Columns of every table and view of public, in table order; read.rs keeps those of the
-- relations tables.sql and views.sql returned.
SELECT c.relname::text AS relation, a.attname::text AS name,
    format_type(a.atttypid, a.atttypmod) AS data_type,
    CASE WHEN a.attcollation <> t.typcollation THEN co.collname::text END AS collation,
    a.attnotnull AS not_null,
    CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END AS default_expr,
    a.attidentity::text AS identity,
    CASE WHEN a.attgenerated = 's' THEN pg_get_expr(d.adbin, d.adrelid) END AS generated,
    col_description(c.oid, a.attnum) AS comment
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v') AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY 1, a.attnum;
