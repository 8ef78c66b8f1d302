-- +goose Up
-- Sorting the customer table by company and by owner (issue 12, item 7);
-- mirrors the SQLite 00015. The keys compare bytes (COLLATE "C") so that
-- both engines order alike, as tags.name_key does since 00012.
ALTER TABLE users ADD COLUMN name_key text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN company_key text COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN owner_key text COLLATE "C" NOT NULL DEFAULT '';
UPDATE users SET name_key = lower(trim(name));
UPDATE customers c SET
    company_key = COALESCE((SELECT co.name_key FROM companies co WHERE co.id = c.company_id), ''),
    owner_key = COALESCE((SELECT u.name_key FROM users u WHERE u.id = c.owner_id), '')
WHERE c.company_id IS NOT NULL OR c.owner_id IS NOT NULL;
CREATE INDEX customers_company_key ON customers (company_key, id);
CREATE INDEX customers_owner_key ON customers (owner_key, id);
-- country and language sorted by (value, id): the filter indexes of 00003
-- hold created_at between the two, so a page sorted everyone of a country
CREATE INDEX customers_country_sort ON customers (country, id);
CREATE INDEX customers_language_sort ON customers (language, id);
DELETE FROM app_settings WHERE key = 'search_fold';

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
