-- Everything the catalog does not model, one human name each with its definition (so a change
-- to a function's body or a trigger is seen, not only one coming or going) and, for what goes
-- with a table of public, that table. Extension members are named once, as their extension.
-- Schemas other than public are named whole, their objects listed in their definition.
-- Lists are ordered COLLATE "C": equal schemas give equal text whatever the collation.
WITH public_ns AS (SELECT oid FROM pg_namespace WHERE nspname = 'public'),
members AS (SELECT classid, objid FROM pg_depend WHERE deptype = 'e'),
other_ns AS (
    SELECT n.oid, n.nspname FROM pg_namespace n
    WHERE n.nspname NOT IN ('public', 'pg_catalog', 'information_schema', 'pg_toast')
        AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE 'pg\_toast\_temp\_%'
        AND (n.tableoid, n.oid) NOT IN (SELECT * FROM members)
),
-- A relation read whole: its columns, constraints, indexes and triggers, a line each.
shapes AS (
    SELECT c.oid, concat_ws(E'\n',
        (SELECT string_agg(quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
                || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
                || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), ''),
                E'\n' ORDER BY a.attnum)
            FROM pg_attribute a
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
        (SELECT string_agg('CONSTRAINT ' || quote_ident(k.conname) || ' '
                || pg_get_constraintdef(k.oid), E'\n' ORDER BY k.conname COLLATE "C")
            FROM pg_constraint k WHERE k.conrelid = c.oid),
        (SELECT string_agg(pg_get_indexdef(x.indexrelid), E'\n'
                ORDER BY pg_get_indexdef(x.indexrelid) COLLATE "C")
            FROM pg_index x WHERE x.indrelid = c.oid),
        (SELECT string_agg(pg_get_triggerdef(t.oid), E'\n' ORDER BY t.tgname COLLATE "C")
            FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal)
    ) AS shape
    FROM pg_class c
    WHERE c.relkind IN ('r', 'p', 'f', 'm', 'c', 'v')
        AND (c.relnamespace IN (SELECT oid FROM public_ns)
            OR c.relnamespace IN (SELECT oid FROM other_ns))
),
functions AS (
    SELECT p.oid, p.pronamespace, CASE p.prokind WHEN 'a' THEN
            (SELECT format('AGGREGATE %s (SFUNC = %s, STYPE = %s, FINALFUNC = %s, INITCOND = %s)',
                    p.oid::regprocedure, a.aggtransfn::regproc, format_type(a.aggtranstype, NULL),
                    a.aggfinalfn::regproc, a.agginitval)
                FROM pg_aggregate a WHERE a.aggfnoid = p.oid)
        ELSE pg_get_functiondef(p.oid) END AS definition
    FROM pg_proc p
    WHERE (p.pronamespace IN (SELECT oid FROM public_ns)
            OR p.pronamespace IN (SELECT oid FROM other_ns))
        AND (p.tableoid, p.oid) NOT IN (SELECT * FROM members)
)
SELECT 'trigger ' || quote_ident(t.tgname) || ' on ' || quote_ident(c.relname) AS name,
    c.relname::text AS on_table,
    pg_get_triggerdef(t.oid) || CASE t.tgenabled WHEN 'D' THEN ' (disabled)'
        WHEN 'R' THEN ' (enabled on replicas only)' WHEN 'A' THEN ' (enabled always)'
        ELSE '' END AS definition
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE c.relnamespace IN (SELECT oid FROM public_ns) AND NOT t.tgisinternal
UNION ALL
SELECT CASE p.prokind WHEN 'p' THEN 'procedure ' WHEN 'a' THEN 'aggregate ' ELSE 'function ' END
    || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')',
    NULL, f.definition
FROM pg_proc p JOIN functions f ON f.oid = p.oid
WHERE p.pronamespace IN (SELECT oid FROM public_ns)
UNION ALL
SELECT CASE c.relkind WHEN 'm' THEN 'materialized view ' WHEN 'p' THEN 'partitioned table '
        WHEN 'f' THEN 'foreign table ' ELSE 'composite type ' END || quote_ident(c.relname),
    NULL,
    concat_ws(E'\n', CASE c.relkind WHEN 'm' THEN pg_get_viewdef(c.oid)
            WHEN 'p' THEN 'PARTITION BY ' || pg_get_partkeydef(c.oid)
            WHEN 'f' THEN (SELECT 'SERVER ' || quote_ident(s.srvname)
                    || coalesce(' OPTIONS ' || array_to_string(ft.ftoptions, ', '), '')
                FROM pg_foreign_table ft JOIN pg_foreign_server s ON s.oid = ft.ftserver
                WHERE ft.ftrelid = c.oid) END,
        s.shape)
FROM pg_class c JOIN shapes s ON s.oid = c.oid
WHERE c.relnamespace IN (SELECT oid FROM public_ns) AND c.relkind IN ('m', 'p', 'f', 'c')
    AND (c.tableoid, c.oid) NOT IN (SELECT * FROM members)
UNION ALL
SELECT CASE WHEN c.relispartition THEN 'partition ' WHEN c.relpersistence = 'u'
        THEN 'unlogged table ' ELSE 'inheriting table ' END || quote_ident(c.relname),
    NULL,
    concat_ws(E'\n', CASE WHEN c.relispartition THEN 'PARTITION OF '
            || (SELECT string_agg(i.inhparent::regclass::text, ', ') FROM pg_inherits i
                WHERE i.inhrelid = c.oid) || ' ' || pg_get_expr(c.relpartbound, c.oid)
        ELSE (SELECT 'INHERITS (' || string_agg(i.inhparent::regclass::text, ', '
                ORDER BY i.inhseqno) || ')' FROM pg_inherits i WHERE i.inhrelid = c.oid) END,
        s.shape)
FROM pg_class c JOIN shapes s ON s.oid = c.oid
WHERE c.relnamespace IN (SELECT oid FROM public_ns) AND c.relkind = 'r'
    AND (c.relispartition OR c.relpersistence = 'u'
        OR EXISTS (SELECT FROM pg_inherits i WHERE i.inhrelid = c.oid))
    AND (c.tableoid, c.oid) NOT IN (SELECT * FROM members)
UNION ALL
SELECT CASE t.typtype WHEN 'd' THEN 'domain ' WHEN 'r' THEN 'range type ' ELSE 'base type ' END
    || quote_ident(t.typname),
    NULL,
    CASE t.typtype
        WHEN 'd' THEN concat_ws(' ', format_type(t.typbasetype, t.typtypmod),
            CASE WHEN t.typnotnull THEN 'NOT NULL' END, 'DEFAULT ' || t.typdefault,
            (SELECT string_agg('CONSTRAINT ' || quote_ident(k.conname) || ' '
                    || pg_get_constraintdef(k.oid), ' ' ORDER BY k.conname COLLATE "C")
                FROM pg_constraint k WHERE k.contypid = t.oid))
        WHEN 'r' THEN (SELECT 'SUBTYPE ' || format_type(r.rngsubtype, NULL) FROM pg_range r
            WHERE r.rngtypid = t.oid)
        ELSE format('INPUT %s, OUTPUT %s', t.typinput, t.typoutput) END
FROM pg_type t
WHERE t.typnamespace IN (SELECT oid FROM public_ns)
    AND (t.typtype IN ('d', 'r') OR (t.typtype = 'b' AND t.typcategory <> 'A'))
    AND (t.tableoid, t.oid) NOT IN (SELECT * FROM members)
UNION ALL
SELECT 'policy ' || quote_ident(p.polname) || ' on ' || quote_ident(c.relname),
    c.relname::text,
    concat('AS ', CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
        ' FOR ', CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT'
            WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
        ' TO ', (SELECT string_agg(role, ', ' ORDER BY role COLLATE "C")
            FROM (SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r)) END
                FROM unnest(p.polroles) AS r) AS roles (role)),
        ' USING (' || pg_get_expr(p.polqual, p.polrelid) || ')',
        ' WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')')
FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
WHERE c.relnamespace IN (SELECT oid FROM public_ns)
UNION ALL
SELECT 'row level security on ' || quote_ident(c.relname), c.relname::text,
    CASE WHEN c.relforcerowsecurity THEN 'ENABLE, FORCE' ELSE 'ENABLE' END
FROM pg_class c
WHERE c.relnamespace IN (SELECT oid FROM public_ns) AND c.relrowsecurity
UNION ALL
SELECT 'rule ' || quote_ident(r.rulename) || ' on ' || quote_ident(c.relname), c.relname::text,
    pg_get_ruledef(r.oid)
FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
WHERE c.relnamespace IN (SELECT oid FROM public_ns) AND r.rulename <> '_RETURN'
UNION ALL
SELECT 'extension ' || quote_ident(e.extname), NULL,
    'VERSION ' || e.extversion || ' SCHEMA ' || quote_ident(n.nspname)
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
WHERE n.nspname <> 'pg_catalog'
UNION ALL
SELECT 'statistics ' || quote_ident(s.stxname), NULL, pg_get_statisticsobjdef(s.oid)
FROM pg_statistic_ext s
WHERE s.stxnamespace IN (SELECT oid FROM public_ns)
UNION ALL
SELECT 'collation ' || quote_ident(c.collname), NULL,
    format('PROVIDER %s, LC_COLLATE %s, LC_CTYPE %s, DETERMINISTIC %s', c.collprovider,
        c.collcollate, c.collctype, c.collisdeterministic)
FROM pg_collation c
WHERE c.collnamespace IN (SELECT oid FROM public_ns)
    AND (c.tableoid, c.oid) NOT IN (SELECT * FROM members)
UNION ALL
SELECT 'operator ' || o.oprname || '(' || format_type(o.oprleft, NULL) || ', '
    || format_type(o.oprright, NULL) || ')', NULL, 'FUNCTION ' || o.oprcode::regproc::text
FROM pg_operator o
WHERE o.oprnamespace IN (SELECT oid FROM public_ns)
    AND (o.tableoid, o.oid) NOT IN (SELECT * FROM members)
UNION ALL
-- Its relations (with their shapes), functions and types, a line or more each.
SELECT 'schema ' || quote_ident(n.nspname), NULL, concat_ws(E'\n',
    (SELECT string_agg(CASE c.relkind WHEN 'r' THEN 'TABLE ' WHEN 'p' THEN 'PARTITIONED TABLE '
                WHEN 'v' THEN 'VIEW ' WHEN 'm' THEN 'MATERIALIZED VIEW ' WHEN 'S' THEN 'SEQUENCE '
                WHEN 'f' THEN 'FOREIGN TABLE ' ELSE 'TYPE ' END || quote_ident(c.relname)
            || CASE WHEN c.relkind IN ('v', 'm') THEN E'\n' || pg_get_viewdef(c.oid) ELSE '' END
            || coalesce(E'\n' || s.shape, ''), E'\n' ORDER BY c.relname COLLATE "C")
        FROM pg_class c LEFT JOIN shapes s ON s.oid = c.oid
        WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')
            AND (c.tableoid, c.oid) NOT IN (SELECT * FROM members)),
    (SELECT string_agg(f.definition, E'\n' ORDER BY f.oid::regprocedure::text COLLATE "C")
        FROM functions f WHERE f.pronamespace = n.oid),
    (SELECT string_agg('TYPE ' || quote_ident(t.typname) || CASE t.typtype
                WHEN 'e' THEN ' AS ENUM (' || (SELECT string_agg(quote_literal(e.enumlabel), ', '
                    ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) || ')'
                WHEN 'd' THEN ' DOMAIN ' || format_type(t.typbasetype, t.typtypmod)
                ELSE ' ' || t.typtype::text END, E'\n' ORDER BY t.typname COLLATE "C")
        FROM pg_type t
        WHERE t.typnamespace = n.oid AND t.typtype IN ('e', 'd', 'r', 'b')
            AND t.typcategory <> 'A' AND (t.tableoid, t.oid) NOT IN (SELECT * FROM members)))
FROM other_ns n
ORDER BY 1;
