-- Constraints of the tables of public. NOT NULL is a column's attnotnull (PostgreSQL 18 also
-- lists it here as 'n'); constraint triggers ('t') are named by unsupported.sql.
SELECT c.relname::text AS relation, k.conname::text AS name, k.contype::text AS kind,
    pg_get_constraintdef(k.oid) AS definition, k.convalidated AS validated,
    CASE WHEN k.contype IN ('p', 'u') THEN pg_get_indexdef(k.conindid) END AS index_def
FROM pg_constraint k
JOIN pg_class c ON c.oid = k.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'r' AND k.contype IN ('p', 'u', 'x', 'c', 'f')
ORDER BY 1, 2;
