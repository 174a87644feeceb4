-- Data-backed posts (issue 7): datasets uploaded by members, the ingest jobs that fill them,
-- drafts that carry a dataset and a view recipe, and the recipe of each published data post.

-- A dataset of the lake (`id` is its lake name), owned by the member who uploaded it. It is
-- private to its owner until a visible post references it (see db/datasets.rs).
CREATE TABLE datasets (
    id          TEXT PRIMARY KEY,
    owner_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label       TEXT NOT NULL,
    format      TEXT NOT NULL DEFAULT '',
    anonymized  BIGINT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'ready', 'failed')),
    error       TEXT NOT NULL DEFAULT '',
    upload_bytes BIGINT NOT NULL DEFAULT 0,
    row_count   BIGINT NOT NULL DEFAULT 0,
    summary     TEXT NOT NULL DEFAULT '',
    parse       TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX datasets_owner ON datasets (owner_id, created_at DESC);

-- The background ingest queue. A job is claimed by one worker (state running, heartbeat
-- kept fresh); a running job whose heartbeat went stale belongs to a dead process and is
-- queued again (or failed after too many attempts).
CREATE TABLE ingest_jobs (
    id           INTEGER PRIMARY KEY,
    dataset_id   TEXT NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    staging      TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts     BIGINT NOT NULL DEFAULT 0,
    bytes_total  BIGINT NOT NULL DEFAULT 0,
    bytes_read   BIGINT NOT NULL DEFAULT 0,
    records      BIGINT NOT NULL DEFAULT 0,
    events       BIGINT NOT NULL DEFAULT 0,
    rejected     BIGINT NOT NULL DEFAULT 0,
    phase        TEXT NOT NULL DEFAULT '',
    heartbeat_at BIGINT,
    started_at   BIGINT,
    finished_at  BIGINT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX ingest_jobs_state ON ingest_jobs (state, id);
CREATE INDEX ingest_jobs_dataset ON ingest_jobs (dataset_id);

-- A member's unpublished data post: text, the dataset and the view recipe.
CREATE TABLE drafts (
    id           INTEGER PRIMARY KEY,
    owner_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title        TEXT NOT NULL DEFAULT '',
    body         TEXT NOT NULL DEFAULT '',
    tags         TEXT NOT NULL DEFAULT '',
    dataset_id   TEXT REFERENCES datasets (id) ON DELETE SET NULL,
    recipe       TEXT NOT NULL DEFAULT '',
    remixed_from BIGINT REFERENCES posts (id) ON DELETE SET NULL,
    notice       TEXT NOT NULL DEFAULT '',
    images       TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX drafts_owner ON drafts (owner_id, updated_at DESC);
CREATE INDEX drafts_dataset ON drafts (dataset_id);

-- What makes a post a data post: its dataset, its recipe and its server-drawn picture.
CREATE TABLE post_data (
    post_id      BIGINT PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    dataset_id   TEXT NOT NULL REFERENCES datasets (id),
    recipe       TEXT NOT NULL,
    analysis     TEXT NOT NULL DEFAULT '',
    thumb_image  TEXT,
    remixed_from BIGINT REFERENCES posts (id) ON DELETE SET NULL
);
CREATE INDEX post_data_dataset ON post_data (dataset_id);
