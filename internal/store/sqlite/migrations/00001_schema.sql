-- +goose Up
-- The whole data model of SPEC section 1. Times are written by the application
-- in UTC (text in SQLite's own format, which sorts chronologically).

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    password_hash TEXT NOT NULL DEFAULT '',
    active        BOOLEAN NOT NULL DEFAULT 1,
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (email); -- stored folded by the application

CREATE TABLE user_prefs (
    user_id INTEGER NOT NULL REFERENCES users (id),
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    name         TEXT NOT NULL,
    token_hash   BLOB NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_at   DATETIME NOT NULL,
    last_used_at DATETIME,
    revoked_at   DATETIME
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE sessions (
    token  TEXT PRIMARY KEY,
    data   BLOB NOT NULL,
    expiry DATETIME NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expiry);

CREATE TABLE login_failures (
    id    INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    ip    TEXT NOT NULL,
    at    DATETIME NOT NULL
);
CREATE INDEX login_failures_email ON login_failures (email, at);
CREATE INDEX login_failures_ip ON login_failures (ip, at);

-- name_key columns hold names folded in Go (crm.NameKey): SQLite's lower()
-- folds ASCII only, so case-insensitive uniqueness is decided in Go, the same
-- for both engines.
CREATE TABLE companies (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    domain     TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE UNIQUE INDEX companies_name ON companies (name_key);

CREATE TABLE customers (
    id            INTEGER PRIMARY KEY,
    full_name     TEXT NOT NULL,
    first_name    TEXT NOT NULL DEFAULT '',
    last_name     TEXT NOT NULL DEFAULT '',
    -- lower-cased full name: the sort key of the name column in both engines
    name_key      TEXT NOT NULL,
    company_id    INTEGER REFERENCES companies (id),
    owner_id      INTEGER REFERENCES users (id),
    language      TEXT NOT NULL DEFAULT '',
    country       TEXT NOT NULL DEFAULT '',
    timezone      TEXT NOT NULL DEFAULT '',
    -- kept equal to the primary e-mail and phone contacts by the store
    primary_email TEXT NOT NULL DEFAULT '',
    primary_phone TEXT NOT NULL DEFAULT '',
    has_inbound   BOOLEAN NOT NULL DEFAULT 0,
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL,
    archived_at   DATETIME,
    merged_into   INTEGER REFERENCES customers (id)
);
-- keyset pagination: one index per sort, (sort key, id); filters that narrow a lot get their own
CREATE INDEX customers_created ON customers (created_at, id);
CREATE INDEX customers_updated ON customers (updated_at, id);
CREATE INDEX customers_name ON customers (name_key, id);
CREATE INDEX customers_email ON customers (primary_email, id);
CREATE INDEX customers_owner ON customers (owner_id, created_at, id);
CREATE INDEX customers_company ON customers (company_id, id);
CREATE INDEX customers_country ON customers (country, created_at, id);
CREATE INDEX customers_language ON customers (language, created_at, id);
CREATE INDEX customers_archived ON customers (archived_at) WHERE archived_at IS NOT NULL;
CREATE INDEX customers_inbound ON customers (has_inbound, created_at, id);
CREATE INDEX customers_merged ON customers (merged_into) WHERE merged_into IS NOT NULL;

CREATE TABLE contacts (
    id               INTEGER PRIMARY KEY,
    customer_id      INTEGER NOT NULL REFERENCES customers (id),
    channel          TEXT NOT NULL CHECK (channel IN ('email', 'phone', 'linkedin', 'whatsapp', 'telegram', 'website', 'other')),
    value            TEXT NOT NULL,
    is_primary       BOOLEAN NOT NULL DEFAULT 0,
    suppressed_reason TEXT CHECK (suppressed_reason IN ('unsubscribe', 'bounce', 'complaint', 'manual', 'do_not_contact')),
    suppressed_note  TEXT NOT NULL DEFAULT '',
    suppressed_by    INTEGER REFERENCES users (id),
    suppressed_at    DATETIME,
    created_at       DATETIME NOT NULL,
    removed_at       DATETIME
);
CREATE INDEX contacts_customer ON contacts (customer_id);
CREATE INDEX contacts_value ON contacts (channel, value);
CREATE UNIQUE INDEX contacts_unique_value ON contacts (customer_id, channel, value) WHERE removed_at IS NULL;
CREATE UNIQUE INDEX contacts_one_primary ON contacts (customer_id, channel) WHERE is_primary = 1 AND removed_at IS NULL;

CREATE TABLE suppression_events (
    id         INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts (id),
    action     TEXT NOT NULL CHECK (action IN ('suppress', 'unsuppress')),
    reason     TEXT NOT NULL DEFAULT '',
    note       TEXT NOT NULL DEFAULT '',
    user_id    INTEGER REFERENCES users (id),
    at         DATETIME NOT NULL
);
CREATE INDEX suppression_events_contact ON suppression_events (contact_id, id);

CREATE TABLE tags (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    created_at DATETIME NOT NULL
);
CREATE UNIQUE INDEX tags_name ON tags (name_key);

CREATE TABLE customer_tags (
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    tag_id      INTEGER NOT NULL REFERENCES tags (id),
    added_at    DATETIME NOT NULL,
    PRIMARY KEY (customer_id, tag_id)
) WITHOUT ROWID;
CREATE INDEX customer_tags_tag ON customer_tags (tag_id, customer_id);

CREATE TABLE segments (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE UNIQUE INDEX segments_name ON segments (name_key);

CREATE TABLE segment_members (
    segment_id  INTEGER NOT NULL REFERENCES segments (id),
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    added_at    DATETIME NOT NULL,
    PRIMARY KEY (segment_id, customer_id)
) WITHOUT ROWID;
CREATE INDEX segment_members_customer ON segment_members (customer_id, segment_id);

CREATE TABLE products (
    id       INTEGER PRIMARY KEY,
    key      TEXT NOT NULL UNIQUE,
    name     TEXT NOT NULL,
    position INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE customer_scores (
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    product_id  INTEGER NOT NULL REFERENCES products (id),
    score       INTEGER NOT NULL CHECK (score BETWEEN 0 AND 100),
    PRIMARY KEY (customer_id, product_id)
) WITHOUT ROWID;
CREATE INDEX customer_scores_product ON customer_scores (product_id, score, customer_id);

CREATE TABLE custom_fields (
    id         INTEGER PRIMARY KEY,
    key        TEXT NOT NULL UNIQUE,
    label      TEXT NOT NULL,
    type       TEXT NOT NULL CHECK (type IN ('text', 'number', 'date', 'boolean', 'select', 'multiselect', 'url')),
    options    TEXT NOT NULL DEFAULT '[]',
    position   INTEGER NOT NULL DEFAULT 0,
    retired_at DATETIME,
    created_at DATETIME NOT NULL
);

CREATE TABLE custom_values (
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    field_id    INTEGER NOT NULL REFERENCES custom_fields (id),
    value       TEXT NOT NULL, -- JSON
    PRIMARY KEY (customer_id, field_id)
) WITHOUT ROWID;

CREATE TABLE messages (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    contact_id  INTEGER REFERENCES contacts (id),
    direction   TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    channel     TEXT NOT NULL,
    address     TEXT NOT NULL DEFAULT '',
    subject     TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL DEFAULT '',
    automated   BOOLEAN NOT NULL DEFAULT 0,
    status      TEXT NOT NULL,
    user_id     INTEGER REFERENCES users (id),
    at          DATETIME NOT NULL
);
CREATE INDEX messages_customer ON messages (customer_id, at);

CREATE TABLE deals (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    title       TEXT NOT NULL,
    amount      INTEGER NOT NULL DEFAULT 0,
    currency    TEXT NOT NULL DEFAULT 'EUR',
    stage       TEXT NOT NULL,
    author_id   INTEGER REFERENCES users (id),
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);
CREATE INDEX deals_customer ON deals (customer_id);

CREATE TABLE notes (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    body        TEXT NOT NULL,
    author_id   INTEGER REFERENCES users (id),
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);
CREATE INDEX notes_customer ON notes (customer_id);

CREATE TABLE tasks (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    title       TEXT NOT NULL,
    due         DATETIME,
    done_at     DATETIME,
    author_id   INTEGER REFERENCES users (id),
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);
CREATE INDEX tasks_customer ON tasks (customer_id);

CREATE TABLE activity (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    user_id     INTEGER REFERENCES users (id),
    kind        TEXT NOT NULL,
    data        TEXT NOT NULL DEFAULT '{}',
    at          DATETIME NOT NULL
);
CREATE INDEX activity_customer ON activity (customer_id, id);

CREATE TABLE imports (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    filename   TEXT NOT NULL,
    path       TEXT NOT NULL,
    size       INTEGER NOT NULL DEFAULT 0,
    status     TEXT NOT NULL,
    mode       TEXT NOT NULL DEFAULT 'create',
    mapping    TEXT NOT NULL DEFAULT '{}',
    total      INTEGER NOT NULL DEFAULT 0,
    processed  INTEGER NOT NULL DEFAULT 0,
    created    INTEGER NOT NULL DEFAULT 0,
    updated    INTEGER NOT NULL DEFAULT 0,
    skipped    INTEGER NOT NULL DEFAULT 0,
    failed     INTEGER NOT NULL DEFAULT 0,
    byte_offset INTEGER NOT NULL DEFAULT 0,
    error      TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    ended_at   DATETIME
);

CREATE TABLE import_errors (
    import_id  INTEGER NOT NULL REFERENCES imports (id),
    row_number INTEGER NOT NULL,
    error      TEXT NOT NULL,
    row_values TEXT NOT NULL, -- JSON array of the original cells
    PRIMARY KEY (import_id, row_number)
) WITHOUT ROWID;

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
