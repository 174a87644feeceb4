-- Several portal instances on one database (issue 20). SQLite is the one-box default; these
-- keep the schema the same as PostgreSQL's and let two processes share one database file.
--
-- A running job names the instance that claimed it: with `attempts`, the owner fences every
-- later write of the claim (heartbeat, finish).
ALTER TABLE ingest_jobs ADD COLUMN owner TEXT NOT NULL DEFAULT '';

-- Shared rate-limit windows (used on PostgreSQL; kept for an identical schema).
CREATE TABLE rate_limits (
    key          TEXT PRIMARY KEY,
    window_start INTEGER NOT NULL,
    hits         INTEGER NOT NULL
);
CREATE INDEX rate_limits_window ON rate_limits (window_start);

-- SQLite has no advisory locks: a singleton task holds a lease row instead, which expires
-- when its holder dies.
CREATE TABLE singleton_leases (
    name  TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    until INTEGER NOT NULL
);
