-- +goose Up
-- Indexes for the customer table at a million rows (docs/benchmarks.md).
-- Mirrors the SQLite 00003.
--
-- Every list shows active customers unless asked otherwise, and counts its
-- matches up to 10,000. The per-filter indexes of 00001 held neither
-- archived_at nor the other filter columns, so a capped count visited up to
-- 10,000 heap pages just to skip archived customers (owner=me: 110-134 ms,
-- has_inbound=true: 43-58 ms, owner=none&country=DE&has_inbound=false:
-- 61-67 ms). They are replaced by partial indexes over active customers, in
-- the default order (created_at, id), that INCLUDE the other low-cardinality
-- filter columns: a count is an index-only scan, even for combined filters
-- (2-5 ms).
--
--   customers_active_created  the default list, a created_at range, and
--                             "has_inbound=false" (most customers)
--   customers_active_inbound  only the ~5 % with has_inbound
--   customers_active_id       ids of active customers: the count of a tag,
--                             segment or score filter joins the link table's
--                             index to this one, index-only
--
-- Archived-only lists keep customers_archived; "archived=all" lists filtered
-- by owner, country, language or has_inbound walk customers_created and check
-- the filter per row.
DROP INDEX customers_owner;
DROP INDEX customers_country;
DROP INDEX customers_language;
DROP INDEX customers_inbound;
CREATE INDEX customers_active_created ON customers (created_at, id)
    INCLUDE (owner_id, country, language, has_inbound) WHERE archived_at IS NULL;
CREATE INDEX customers_active_owner ON customers (owner_id, created_at, id)
    INCLUDE (country, language, has_inbound) WHERE archived_at IS NULL;
CREATE INDEX customers_active_country ON customers (country, created_at, id)
    INCLUDE (owner_id, language, has_inbound) WHERE archived_at IS NULL;
CREATE INDEX customers_active_language ON customers (language, created_at, id)
    INCLUDE (owner_id, country, has_inbound) WHERE archived_at IS NULL;
CREATE INDEX customers_active_inbound ON customers (has_inbound, created_at, id)
    INCLUDE (owner_id, country, language) WHERE archived_at IS NULL AND has_inbound;
CREATE INDEX customers_active_id ON customers (id) WHERE archived_at IS NULL;

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
