-- +goose Up
-- A suppression belongs to the normalised address (channel + value), not to
-- one contact row: every contact that holds the value, now or later, shows it,
-- until an unsuppress lifts it for the address. The history is the address's;
-- contact_id keeps the contact that was acted on, for context (none for a
-- bounce of an address no contact holds).
CREATE TABLE suppressions (
    channel TEXT NOT NULL CHECK (channel IN ('email', 'phone', 'linkedin', 'whatsapp', 'telegram', 'website', 'other')),
    value   TEXT NOT NULL,
    reason  TEXT NOT NULL CHECK (reason IN ('unsubscribe', 'bounce', 'complaint', 'manual', 'do_not_contact')),
    note    TEXT NOT NULL DEFAULT '',
    user_id INTEGER REFERENCES users (id),
    at      DATETIME NOT NULL,
    PRIMARY KEY (channel, value)
) WITHOUT ROWID;

-- Each suppressed address keeps its latest contact-level suppression.
INSERT INTO suppressions (channel, value, reason, note, user_id, at)
SELECT channel, value, suppressed_reason, suppressed_note, suppressed_by, at FROM (
    SELECT channel, value, suppressed_reason, suppressed_note, suppressed_by, coalesce(suppressed_at, created_at) AS at,
           row_number() OVER (PARTITION BY channel, value ORDER BY coalesce(suppressed_at, created_at) DESC, id DESC) AS rn
    FROM contacts WHERE suppressed_reason IS NOT NULL) s
WHERE rn = 1;

-- The history moves to the address its contact holds now.
CREATE TABLE suppression_events_new (
    id         INTEGER PRIMARY KEY,
    channel    TEXT NOT NULL,
    value      TEXT NOT NULL,
    contact_id INTEGER REFERENCES contacts (id),
    action     TEXT NOT NULL CHECK (action IN ('suppress', 'unsuppress')),
    reason     TEXT NOT NULL DEFAULT '',
    note       TEXT NOT NULL DEFAULT '',
    user_id    INTEGER REFERENCES users (id),
    at         DATETIME NOT NULL
);
INSERT INTO suppression_events_new (id, channel, value, contact_id, action, reason, note, user_id, at)
SELECT e.id, k.channel, k.value, e.contact_id, e.action, e.reason, e.note, e.user_id, e.at
FROM suppression_events e JOIN contacts k ON k.id = e.contact_id;
DROP TABLE suppression_events;
ALTER TABLE suppression_events_new RENAME TO suppression_events;
CREATE INDEX suppression_events_address ON suppression_events (channel, value, id);

ALTER TABLE contacts DROP COLUMN suppressed_reason;
ALTER TABLE contacts DROP COLUMN suppressed_note;
ALTER TABLE contacts DROP COLUMN suppressed_at;
ALTER TABLE contacts DROP COLUMN suppressed_by;

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
