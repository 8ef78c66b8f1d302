-- +goose Up
-- The process running an import (a random token): only it may write the
-- import's progress, so a job re-started after a crash and a late original
-- can never both commit batches.
ALTER TABLE imports ADD COLUMN runner TEXT NOT NULL DEFAULT '';

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
