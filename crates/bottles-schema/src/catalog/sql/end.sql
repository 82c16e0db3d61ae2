-- The snapshot only read: nothing to commit.
ROLLBACK;
