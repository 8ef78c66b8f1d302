-- +goose Up
-- Why each customer was skipped by a bulk job (downloadable from the job).
CREATE TABLE bulk_skips (
    job_id      BIGINT NOT NULL,
    customer_id BIGINT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL,
    PRIMARY KEY (job_id, customer_id)
);

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
