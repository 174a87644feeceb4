-- Withdrawal (issue 14): a dataset goes when its owner's post goes, while remixes of that post
-- by other members stay. Such a remix keeps its `post_data` row with no dataset ("data
-- withdrawn by its author"), so `dataset_id` may be empty and deleting a dataset empties it in
-- every post that used it. SQLite cannot change a column's constraints: the table is rebuilt
-- (nothing references it, so dropping it checks no foreign key).
CREATE TABLE post_data_new (
    post_id      BIGINT PRIMARY KEY REFERENCES posts (id) ON DELETE CASCADE,
    dataset_id   TEXT REFERENCES datasets (id) ON DELETE SET NULL,
    recipe       TEXT NOT NULL,
    analysis     TEXT NOT NULL DEFAULT '',
    thumb_image  TEXT,
    remixed_from BIGINT REFERENCES posts (id) ON DELETE SET NULL
);
INSERT INTO post_data_new (post_id, dataset_id, recipe, analysis, thumb_image, remixed_from)
    SELECT post_id, dataset_id, recipe, analysis, thumb_image, remixed_from FROM post_data;
DROP TABLE post_data;
ALTER TABLE post_data_new RENAME TO post_data;
CREATE INDEX post_data_dataset ON post_data (dataset_id);
