-- Live ingest over HTTP (issue 18): API tokens a member creates on the account page. Each is
-- scoped to one of the member's datasets, expires, and can be revoked. Only the SHA-256 of
-- its secret is stored; the id is the public half of the token (`svz_<id>_<secret>`).
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    owner_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    dataset_id   TEXT NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    label        TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    revoked_at   BIGINT,
    last_used_at BIGINT
);
CREATE INDEX api_tokens_owner ON api_tokens (owner_id);
