-- +goose Up
-- A suppression belongs to the normalised address (channel + value), not to
-- one contact row: every contact that holds the value, now or later, shows it,
-- until an unsuppress lifts it for the address. The history is the address's;
-- contact_id keeps the contact that was acted on, for context (none for a
-- bounce of an address no contact holds).
CREATE TABLE suppressions (
    channel text NOT NULL CHECK (channel IN ('email', 'phone', 'linkedin', 'whatsapp', 'telegram', 'website', 'other')),
    value   text NOT NULL,
    reason  text NOT NULL CHECK (reason IN ('unsubscribe', 'bounce', 'complaint', 'manual', 'do_not_contact')),
    note    text NOT NULL DEFAULT '',
    user_id bigint REFERENCES users (id),
    at      timestamptz NOT NULL,
    PRIMARY KEY (channel, value)
);

-- Each suppressed address keeps its latest contact-level suppression.
INSERT INTO suppressions (channel, value, reason, note, user_id, at)
SELECT channel, value, suppressed_reason, suppressed_note, suppressed_by, at FROM (
    SELECT channel, value, suppressed_reason, suppressed_note, suppressed_by, coalesce(suppressed_at, created_at) AS at,
           row_number() OVER (PARTITION BY channel, value ORDER BY coalesce(suppressed_at, created_at) DESC, id DESC) AS rn
    FROM contacts WHERE suppressed_reason IS NOT NULL) s
WHERE rn = 1;

-- The history moves to the address its contact holds now.
ALTER TABLE suppression_events ADD COLUMN channel text, ADD COLUMN value text, ALTER COLUMN contact_id DROP NOT NULL;
UPDATE suppression_events e SET channel = k.channel, value = k.value FROM contacts k WHERE k.id = e.contact_id;
ALTER TABLE suppression_events ALTER COLUMN channel SET NOT NULL, ALTER COLUMN value SET NOT NULL;
DROP INDEX suppression_events_contact;
CREATE INDEX suppression_events_address ON suppression_events (channel, value, id);

ALTER TABLE contacts DROP COLUMN suppressed_reason, DROP COLUMN suppressed_note, DROP COLUMN suppressed_at, DROP COLUMN suppressed_by;

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
