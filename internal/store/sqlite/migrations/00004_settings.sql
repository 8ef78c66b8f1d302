-- +goose Up
-- Values the application generates once and every process shares (the key
-- that signs unsubscribe links).
CREATE TABLE app_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
