-- +goose Up
-- Nothing to change on SQLite: the tag picker's prefix search (SearchTags) is
-- a range of the unique index tags_name, whose BINARY order is byte order.
-- PostgreSQL's 00012 gives name_key the same order.
SELECT 1;

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
