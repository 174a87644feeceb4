-- Several portal instances on one database (issue 20).
--
-- A running job names the instance that claimed it: with `attempts`, the owner fences every
-- later write of the claim (heartbeat, finish), so an instance that lost its claim (its
-- heartbeat went stale and another instance took the job over) changes nothing.
ALTER TABLE ingest_jobs ADD COLUMN owner TEXT NOT NULL DEFAULT '';

-- Rate-limit windows shared by every instance: one row per key (purpose and client address
-- or account), counted under a row lock. Rows of windows long past are swept.
CREATE TABLE rate_limits (
    key          TEXT PRIMARY KEY,
    window_start BIGINT NOT NULL,
    hits         BIGINT NOT NULL
);
CREATE INDEX rate_limits_window ON rate_limits (window_start);
