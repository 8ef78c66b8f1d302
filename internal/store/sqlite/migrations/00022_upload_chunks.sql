-- +goose Up
-- An uploaded import file is kept in the database, in chunks, so that every
-- `crm serve` on one database can map, preview and run an import uploaded
-- through another (issue 14). imports.path then reads "upload:<id>"; each
-- instance keeps a local copy in its data folder as a cache only.
CREATE TABLE upload_chunks (
    upload_id  TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    data       BLOB NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (upload_id, seq)
);

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
