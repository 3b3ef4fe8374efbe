-- The latest holding of each run-once lease that wrote to the database
-- (coordinator/lease Fence): a holder that runs on after losing its lease
-- finds a later holding here and writes nothing.
CREATE TABLE lease_fences (
	name  TEXT PRIMARY KEY,
	epoch BIGINT NOT NULL,
	token BIGINT NOT NULL
);
