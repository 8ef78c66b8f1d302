-- +goose Up
-- Issue 15: the change feed reads the activity table in id order, which on
-- SQLite is commit order (one write transaction at a time); the primary key
-- is its index. Nothing to add for the feed itself.
SELECT 1;

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
