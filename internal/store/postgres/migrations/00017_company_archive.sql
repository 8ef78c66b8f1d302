-- +goose Up
-- Companies can be archived, and a merged company points at the one it was
-- merged into (issue 13: company merge). Both the Companies table and the
-- merge read these; they land first so that neither waits for the other.
ALTER TABLE companies ADD COLUMN archived_at timestamptz;
ALTER TABLE companies ADD COLUMN merged_into_id bigint REFERENCES companies (id);

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
