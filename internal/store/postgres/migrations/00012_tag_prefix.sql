-- +goose Up
-- The tag picker searches tags by the start of their name (SearchTags): a
-- range of name_key, which must order by bytes for a prefix to be one range
-- of the index, as SQLite's BINARY does. The "C" collation compares bytes;
-- equality, and so uniqueness, does not change (PostgreSQL's deterministic
-- collations are equal only on equal bytes), and the unique index is rebuilt
-- with it. Tag lists are now in the same order on both engines.
ALTER TABLE tags ALTER COLUMN name_key TYPE text COLLATE "C";

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
