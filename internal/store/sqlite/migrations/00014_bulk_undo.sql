-- +goose Up
-- Undo of bulk actions (issue 12).
-- bulk_actions: one row per bulk action (its id is its job's), who ran it,
-- when, how far it went, and the undo's unique marker (undo_requested_at,
-- set once: a second undo is refused) and job.
CREATE TABLE bulk_actions (
    id                BIGINT PRIMARY KEY,
    user_id           BIGINT NOT NULL,
    action            TEXT NOT NULL,
    detail            TEXT NOT NULL DEFAULT '',
    done              INTEGER NOT NULL DEFAULT 0,
    created_at        DATETIME NOT NULL,
    finished_at       DATETIME,
    undo_requested_at DATETIME,
    undo_job_id       BIGINT
);
CREATE INDEX bulk_actions_user ON bulk_actions (user_id, created_at);
CREATE INDEX bulk_actions_created ON bulk_actions (created_at);

-- bulk_changes: the before-state of exactly what each bulk action changed,
-- one row per customer and field ('owner', 'archived', 'tag:<id>',
-- 'segment:<id>'), written in the transaction of the chunk that changed it.
CREATE TABLE bulk_changes (
    action_id   BIGINT NOT NULL,
    customer_id BIGINT NOT NULL,
    field       TEXT NOT NULL,
    old_value   TEXT,
    new_value   TEXT,
    PRIMARY KEY (action_id, customer_id, field)
) WITHOUT ROWID;

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
