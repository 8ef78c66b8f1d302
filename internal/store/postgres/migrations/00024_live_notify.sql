-- +goose Up
-- Issue 15, live updates: every commit that wrote activity entries (and so
-- changed a customer and the change feed) wakes the live-update poller of
-- every `crm serve` process on this database at once: NOTIFY is delivered
-- at commit, to each process's one LISTEN connection (internal/live).
-- The payload is empty: the processes read the feed itself, which checks
-- permissions per user; identical notifications of one transaction are
-- sent once, and a statement-level trigger costs one call per INSERT (a
-- bulk chunk of 5,000 entries, COPY included), not one per row.
-- +goose StatementBegin
CREATE FUNCTION crm_notify_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('crm_changes', '');
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER activity_notify_changes AFTER INSERT ON activity
    FOR EACH STATEMENT EXECUTE FUNCTION crm_notify_changes();

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
