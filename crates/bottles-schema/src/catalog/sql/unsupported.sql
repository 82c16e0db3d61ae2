-- Everything in public the catalog does not model, one human name each, so a plan refuses it
-- by name. Extension members are named once, as their extension.
WITH public_ns AS (SELECT oid FROM pg_namespace WHERE nspname = 'public'),
members AS (SELECT classid, objid FROM pg_depend WHERE deptype = 'e')
SELECT 'trigger ' || quote_ident(t.tgname) || ' on ' || quote_ident(c.relname) AS name
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE c.relnamespace IN (SELECT oid FROM public_ns) AND NOT t.tgisinternal
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'procedure ' WHEN 'a' THEN 'aggregate ' ELSE 'function ' END
    || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')'
FROM pg_proc p
WHERE p.pronamespace IN (SELECT oid FROM public_ns)
    AND (p.tableoid, p.oid) NOT IN (SELECT * FROM members)
UNION ALL
SELECT CASE c.relkind WHEN 'm' THEN 'materialized view ' WHEN 'p' THEN 'partitioned table '
        WHEN 'f' THEN 'foreign table ' ELSE 'composite type ' END || quote_ident(c.relname)
FROM pg_class c
WHERE c.relnamespace IN (SELECT oid FROM public_ns) AND c.relkind IN ('m', 'p', 'f', 'c')
    AND (c.tableoid, c.oid) NOT IN (SELECT * FROM members)
UNION ALL
SELECT CASE WHEN c.relispartition THEN 'partition ' WHEN c.relpersistence = 'u'
        THEN 'unlogged table ' ELSE 'inheriting table ' END || quote_ident(c.relname)
FROM pg_class c
WHERE c.relnamespace IN (SELECT oid FROM public_ns) AND c.relkind = 'r'
    AND (c.relispartition OR c.relpersistence = 'u'
        OR EXISTS (SELECT FROM pg_inherits i WHERE i.inhrelid = c.oid))
    AND (c.tableoid, c.oid) NOT IN (SELECT * FROM members)
UNION ALL
SELECT CASE t.typtype WHEN 'd' THEN 'domain ' WHEN 'r' THEN 'range type ' ELSE 'base type ' END
    || quote_ident(t.typname)
FROM pg_type t
WHERE t.typnamespace IN (SELECT oid FROM public_ns)
    AND (t.typtype IN ('d', 'r') OR (t.typtype = 'b' AND t.typcategory <> 'A'))
    AND (t.tableoid, t.oid) NOT IN (SELECT * FROM members)
UNION ALL
SELECT 'policy ' || quote_ident(p.polname) || ' on ' || quote_ident(c.relname)
FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
WHERE c.relnamespace IN (SELECT oid FROM public_ns)
UNION ALL
SELECT 'row level security on ' || quote_ident(c.relname)
FROM pg_class c
WHERE c.relnamespace IN (SELECT oid FROM public_ns) AND c.relrowsecurity
UNION ALL
SELECT 'rule ' || quote_ident(r.rulename) || ' on ' || quote_ident(c.relname)
FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
WHERE c.relnamespace IN (SELECT oid FROM public_ns) AND r.rulename <> '_RETURN'
UNION ALL
SELECT 'extension ' || quote_ident(e.extname)
FROM pg_extension e
WHERE e.extnamespace IN (SELECT oid FROM public_ns)
UNION ALL
SELECT 'statistics ' || quote_ident(s.stxname)
FROM pg_statistic_ext s
WHERE s.stxnamespace IN (SELECT oid FROM public_ns)
UNION ALL
SELECT 'collation ' || quote_ident(c.collname)
FROM pg_collation c
WHERE c.collnamespace IN (SELECT oid FROM public_ns)
    AND (c.tableoid, c.oid) NOT IN (SELECT * FROM members)
UNION ALL
SELECT 'operator ' || o.oprname || '(' || format_type(o.oprleft, NULL) || ', '
    || format_type(o.oprright, NULL) || ')'
FROM pg_operator o
WHERE o.oprnamespace IN (SELECT oid FROM public_ns)
    AND (o.tableoid, o.oid) NOT IN (SELECT * FROM members)
ORDER BY 1;
