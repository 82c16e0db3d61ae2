-- Planned by bottles from the difference between migrations/ and schema.sql.
-- Review it like code: it runs as written.
-- Hazards: none.
SET LOCAL lock_timeout = '5s';

-- a new table: created plainly, it has no rows to lock or scan
CREATE TABLE idempotency_key (
    key text NOT NULL,
    request_hash text NOT NULL,
    status smallint NOT NULL,
    body text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT idempotency_key_pkey PRIMARY KEY (key)
);
