-- +goose Up
-- The header of an import's file (a JSON array), kept so that the error
-- report keeps its columns once the file is deleted: a finished import's
-- file is removed, and path is then ''.
ALTER TABLE imports ADD COLUMN header TEXT NOT NULL DEFAULT '';
-- the sweep looks for imports still holding a file
CREATE INDEX imports_holding_files ON imports (status, updated_at) WHERE path <> '';

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
