-- +goose Up
-- Issue 13, part 1: saved views of the customer table. A view is a name and
-- the table's state: the list's query string (filters, search, sort; never
-- the page position), the visible columns in order (JSON array) and the
-- product the Score column shows. Personal views are seen by their owner
-- only; shared ones by everybody. Names are unique per owner, and among
-- shared views, case-insensitively (name_key).
CREATE TABLE saved_views (
    id            INTEGER PRIMARY KEY,
    owner_id      INTEGER NOT NULL REFERENCES users (id),
    name          TEXT NOT NULL,
    name_key      TEXT NOT NULL,
    shared        BOOLEAN NOT NULL DEFAULT 0,
    query         TEXT NOT NULL DEFAULT '',
    columns       TEXT NOT NULL DEFAULT '[]',
    score_product TEXT NOT NULL DEFAULT '',
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL
);
CREATE UNIQUE INDEX saved_views_owner_name ON saved_views (owner_id, name_key);
CREATE UNIQUE INDEX saved_views_shared_name ON saved_views (name_key) WHERE shared;

-- Pins are each user's own (a user may pin a teammate's shared view).
CREATE TABLE saved_view_pins (
    user_id    INTEGER NOT NULL REFERENCES users (id),
    view_id    INTEGER NOT NULL REFERENCES saved_views (id) ON DELETE CASCADE,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (user_id, view_id)
);
CREATE INDEX saved_view_pins_view ON saved_view_pins (view_id);

-- The view /crm/customers opens without parameters, one per user.
CREATE TABLE saved_view_defaults (
    user_id INTEGER PRIMARY KEY REFERENCES users (id),
    view_id INTEGER NOT NULL REFERENCES saved_views (id) ON DELETE CASCADE
);
CREATE INDEX saved_view_defaults_view ON saved_view_defaults (view_id);

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
