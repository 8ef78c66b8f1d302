-- +goose Up
-- An uploaded import file is kept in the database, in chunks, so that every
-- `crm serve` on one database can map, preview and run an import uploaded
-- through another (issue 14). imports.path then reads "upload:<id>"; each
-- instance keeps a local copy in its data folder as a cache only.
CREATE TABLE upload_chunks (
    upload_id  text NOT NULL,
    seq        integer NOT NULL,
    data       bytea NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (upload_id, seq)
);
-- the chunks are read whole and never searched: keep them out of line, uncompressed (CSV in bytea compresses poorly per chunk and costs CPU)
ALTER TABLE upload_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
