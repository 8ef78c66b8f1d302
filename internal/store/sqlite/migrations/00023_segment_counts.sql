-- +goose Up
-- The table page lists every segment with its member counts on each view;
-- counting them live read every membership and its customer (about 200,000
-- lookups at a million customers). The counts are now kept as signed deltas,
-- written by triggers in the same transaction as the change (so every write
-- path, bulk, merge, import or undo, is counted) and summed when read; the
-- server folds them together now and then (CompactSegmentCounts).
CREATE TABLE segment_counts (
    id         INTEGER PRIMARY KEY,
    segment_id INTEGER NOT NULL,
    members    INTEGER NOT NULL,
    active     INTEGER NOT NULL
);
CREATE INDEX segment_counts_segment ON segment_counts (segment_id);

INSERT INTO segment_counts (segment_id, members, active)
SELECT m.segment_id, count(*), sum(CASE WHEN c.archived_at IS NULL THEN 1 ELSE 0 END)
FROM segment_members m JOIN customers c ON c.id = m.customer_id
GROUP BY m.segment_id;

-- +goose StatementBegin
CREATE TRIGGER segment_members_added AFTER INSERT ON segment_members BEGIN
    INSERT INTO segment_counts (segment_id, members, active)
    SELECT NEW.segment_id, 1, CASE WHEN c.archived_at IS NULL THEN 1 ELSE 0 END FROM customers c WHERE c.id = NEW.customer_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER segment_members_removed AFTER DELETE ON segment_members BEGIN
    INSERT INTO segment_counts (segment_id, members, active)
    SELECT OLD.segment_id, -1, CASE WHEN c.archived_at IS NULL THEN -1 ELSE 0 END FROM customers c WHERE c.id = OLD.customer_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER segment_members_moved AFTER UPDATE OF segment_id, customer_id ON segment_members BEGIN
    INSERT INTO segment_counts (segment_id, members, active)
    SELECT OLD.segment_id, -1, CASE WHEN c.archived_at IS NULL THEN -1 ELSE 0 END FROM customers c WHERE c.id = OLD.customer_id;
    INSERT INTO segment_counts (segment_id, members, active)
    SELECT NEW.segment_id, 1, CASE WHEN c.archived_at IS NULL THEN 1 ELSE 0 END FROM customers c WHERE c.id = NEW.customer_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER customer_archive_counted AFTER UPDATE OF archived_at ON customers
WHEN (OLD.archived_at IS NULL) <> (NEW.archived_at IS NULL) BEGIN
    INSERT INTO segment_counts (segment_id, members, active)
    SELECT m.segment_id, 0, CASE WHEN NEW.archived_at IS NULL THEN 1 ELSE -1 END
    FROM segment_members m WHERE m.customer_id = NEW.id;
END;
-- +goose StatementEnd

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
