-- +goose Up
-- Issue 17, items 6 and 7.
-- must_change_password: an admin's reset gives a temporary password that
-- must be replaced at the next sign-in.
-- session_version: each session remembers the version it began with; a
-- password change (or reset) raises it, which ends every other session.
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN session_version INTEGER NOT NULL DEFAULT 0;

-- Gravatar pictures fetched by the server (GET /avatars/{hash}), so the
-- browser never asks a third party; bytes NULL records that there is none.
CREATE TABLE avatar_cache (
    hash         TEXT PRIMARY KEY,
    fetched_at   DATETIME NOT NULL,
    content_type TEXT NOT NULL DEFAULT '',
    bytes        BLOB
);

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
