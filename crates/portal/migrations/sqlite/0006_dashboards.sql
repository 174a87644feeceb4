-- Dashboards (issue 18): a member's grid of panels over one of the datasets they may read.
-- The spec is the export JSON (secviz-dashboard/1); the title is kept beside it for lists.
-- A public dashboard shows to others only while they may read its dataset (the one rule of
-- datasets.may_read); a share link shows it to anyone holding the link until revoked.
CREATE TABLE dashboards (
    id           INTEGER PRIMARY KEY,
    owner_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    dataset_id   TEXT NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    title        TEXT NOT NULL,
    spec         TEXT NOT NULL,
    public       INTEGER NOT NULL DEFAULT 0,
    remixed_from BIGINT REFERENCES dashboards (id) ON DELETE SET NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX dashboards_owner ON dashboards (owner_id);
CREATE INDEX dashboards_dataset ON dashboards (dataset_id);

-- Read-only share links of a dashboard: /s/<id>_<secret>. Only the SHA-256 of the secret
-- is stored; a link works until it is revoked (or its dashboard is deleted).
CREATE TABLE dashboard_shares (
    id           TEXT PRIMARY KEY,
    dashboard_id BIGINT NOT NULL REFERENCES dashboards (id) ON DELETE CASCADE,
    label        TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);
CREATE INDEX dashboard_shares_dashboard ON dashboard_shares (dashboard_id);
