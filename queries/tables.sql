-- reset: runs in one transaction with schema.sql, so a failure leaves the old tables intact.
--! drop_tables
DROP TABLE IF EXISTS message, "user";

-- seed: held until commit, so a concurrent seed waits here and then sees our rows.
--! lock_tables
LOCK TABLE "user", message IN SHARE ROW EXCLUSIVE MODE;
