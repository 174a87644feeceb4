-- Withdrawal (issue 14): a dataset goes when its owner's post goes, while remixes of that post
-- by other members stay. Such a remix keeps its `post_data` row with no dataset ("data
-- withdrawn by its author"), so `dataset_id` may be empty and deleting a dataset empties it in
-- every post that used it.
ALTER TABLE post_data ALTER COLUMN dataset_id DROP NOT NULL;
ALTER TABLE post_data DROP CONSTRAINT post_data_dataset_id_fkey;
ALTER TABLE post_data ADD CONSTRAINT post_data_dataset_id_fkey
    FOREIGN KEY (dataset_id) REFERENCES datasets (id) ON DELETE SET NULL;
