-- +goose Up
-- Background jobs that resume after a crash (issue 16).
-- job_checkpoints: where a bulk job stands, written in the same transaction
-- as the chunk it describes, so a resumed job continues after after_id and
-- never does a chunk twice.
CREATE TABLE job_checkpoints (
    job_id     BIGINT PRIMARY KEY,
    after_id   BIGINT NOT NULL DEFAULT 0,
    state      TEXT NOT NULL DEFAULT '{}',
    updated_at DATETIME NOT NULL
);

-- segment_deliveries: one row per customer (and contact) a segment send has
-- handled, written 'sending' before the message leaves; a resumed send skips
-- every customer and contact with a row, so nobody gets it twice.
CREATE TABLE segment_deliveries (
    job_id      BIGINT NOT NULL,
    customer_id BIGINT NOT NULL,
    contact_id  BIGINT,
    status      TEXT NOT NULL,
    at          DATETIME NOT NULL,
    PRIMARY KEY (job_id, customer_id)
);
CREATE UNIQUE INDEX segment_deliveries_contact ON segment_deliveries (job_id, contact_id);

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
