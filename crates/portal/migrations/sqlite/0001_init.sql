-- secviz portal schema, SQLite flavour. Times are Unix seconds (BIGINT) and flags are
-- integers so the same queries decode identically on SQLite and PostgreSQL.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    email         TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'moderator', 'admin')),
    created_at    BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (email);

CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX password_resets_user ON password_resets (user_id);

CREATE TABLE tags (
    slug        TEXT PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);

CREATE TABLE posts (
    id            INTEGER PRIMARY KEY,
    author_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('discussion', 'gallery')),
    title         TEXT NOT NULL,
    body          TEXT NOT NULL,
    body_html     TEXT NOT NULL,
    teaser        TEXT NOT NULL,
    tool          TEXT NOT NULL DEFAULT '',
    data_source   TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    hidden_reason TEXT
);
CREATE INDEX posts_newest ON posts (created_at DESC, id DESC);
CREATE INDEX posts_author ON posts (author_id, created_at DESC);
CREATE INDEX posts_kind ON posts (kind, created_at DESC);

CREATE TABLE post_tags (
    post_id  BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    tag_slug TEXT NOT NULL REFERENCES tags (slug) ON DELETE CASCADE,
    PRIMARY KEY (post_id, tag_slug)
);
CREATE INDEX post_tags_tag ON post_tags (tag_slug, post_id);

CREATE TABLE images (
    id         TEXT PRIMARY KEY,
    owner_id   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    post_id    BIGINT REFERENCES posts (id) ON DELETE SET NULL,
    position   BIGINT NOT NULL DEFAULT 0,
    alt        TEXT NOT NULL DEFAULT '',
    mime       TEXT NOT NULL,
    width      BIGINT NOT NULL,
    height     BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX images_post ON images (post_id, position);
CREATE INDEX images_owner ON images (owner_id);

CREATE TABLE comments (
    id            INTEGER PRIMARY KEY,
    post_id       BIGINT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    author_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    parent_id     BIGINT REFERENCES comments (id) ON DELETE CASCADE,
    body          TEXT NOT NULL,
    body_html     TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    deleted       BIGINT NOT NULL DEFAULT 0,
    hidden_reason TEXT
);
CREATE INDEX comments_post ON comments (post_id, created_at);
CREATE INDEX comments_author ON comments (author_id, created_at DESC);

CREATE TABLE modlog (
    id           INTEGER PRIMARY KEY,
    moderator_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    action       TEXT NOT NULL,
    target_kind  TEXT NOT NULL,
    target_id    BIGINT NOT NULL,
    reason       TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX modlog_newest ON modlog (created_at DESC);

-- Full-text search: external-content FTS5 tables kept in step by triggers.
CREATE VIRTUAL TABLE posts_fts USING fts5(title, body, content = 'posts', content_rowid = 'id', tokenize = 'porter unicode61');
CREATE TRIGGER posts_fts_ai AFTER INSERT ON posts BEGIN
    INSERT INTO posts_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER posts_fts_ad AFTER DELETE ON posts BEGIN
    INSERT INTO posts_fts (posts_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
END;
CREATE TRIGGER posts_fts_au AFTER UPDATE OF title, body ON posts BEGIN
    INSERT INTO posts_fts (posts_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
    INSERT INTO posts_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;

CREATE VIRTUAL TABLE comments_fts USING fts5(body, content = 'comments', content_rowid = 'id', tokenize = 'porter unicode61');
CREATE TRIGGER comments_fts_ai AFTER INSERT ON comments BEGIN
    INSERT INTO comments_fts (rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER comments_fts_ad AFTER DELETE ON comments BEGIN
    INSERT INTO comments_fts (comments_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;
CREATE TRIGGER comments_fts_au AFTER UPDATE OF body ON comments BEGIN
    INSERT INTO comments_fts (comments_fts, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO comments_fts (rowid, body) VALUES (new.id, new.body);
END;
