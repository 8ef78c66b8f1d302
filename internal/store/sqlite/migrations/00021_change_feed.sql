-- +goose Up
-- Issue 15: the change feed reads the activity table in id order, which on
-- SQLite is commit order (one write transaction at a time); the primary key
-- is its index: nothing to add for the feed itself.


-- Outbound webhooks (issue 15, part 2): endpoints admins register, one row
-- per delivery (one event or a batch; its body fixed when made, so every
-- retry sends the same event id), a log of attempts, and the dispatcher's
-- position in the change feed (one row, locked while it works).
CREATE TABLE webhook_endpoints (
    id              INTEGER PRIMARY KEY,
    url             TEXT NOT NULL,
    events          TEXT NOT NULL DEFAULT '[]',
    secret          TEXT NOT NULL,
    enabled         BOOLEAN NOT NULL DEFAULT 1,
    disabled_reason TEXT NOT NULL DEFAULT '',
    failing_since   DATETIME,
    created_by      INTEGER REFERENCES users (id),
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);

CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY,
    endpoint_id INTEGER NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id    TEXT NOT NULL,
    type        TEXT NOT NULL,
    events      INTEGER NOT NULL DEFAULT 1,
    body        TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'pending',
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_code   INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    last_ms     INTEGER NOT NULL DEFAULT 0,
    last_at     DATETIME,
    queued      BOOLEAN NOT NULL DEFAULT 0,
    created_at  DATETIME NOT NULL
);
CREATE UNIQUE INDEX webhook_deliveries_event ON webhook_deliveries (endpoint_id, event_id);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_unqueued ON webhook_deliveries (id) WHERE queued = 0;

CREATE TABLE webhook_attempts (
    id          INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    at          DATETIME NOT NULL,
    code        INTEGER NOT NULL DEFAULT 0,
    ms          INTEGER NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);

CREATE TABLE webhook_feed (
    name   TEXT PRIMARY KEY,
    cursor TEXT NOT NULL
);

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
