-- +goose Up
-- Sorting the customer table by company and by owner (issue 12, item 7):
-- each needs its sort key on the customer row, with an index (key, id) for
-- keyset pages, as name_key has. The keys are the company's name_key and the
-- owner's name_key ('' when there is none; empty keys sort last, see
-- FindCustomers). The store writes them wherever a company or an owner
-- changes (sqlstore: companyKeySQL, ownerKeySQL).
--
-- users.name_key is the owner's name folded by crm.NameKey; SQLite's lower()
-- folds ASCII only, so the backfill here is corrected in Go when the store
-- opens (BackfillSearch, with the search text: app_settings "search_fold").
ALTER TABLE users ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN company_key TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN owner_key TEXT NOT NULL DEFAULT '';
UPDATE users SET name_key = lower(trim(name));
UPDATE customers SET
    company_key = COALESCE((SELECT co.name_key FROM companies co WHERE co.id = customers.company_id), ''),
    owner_key = COALESCE((SELECT u.name_key FROM users u WHERE u.id = customers.owner_id), '')
WHERE company_id IS NOT NULL OR owner_id IS NOT NULL;
CREATE INDEX customers_company_key ON customers (company_key, id);
CREATE INDEX customers_owner_key ON customers (owner_key, id);
-- country and language sorted by (value, id): the filter indexes of 00003
-- hold created_at between the two, so a page sorted everyone of a country
CREATE INDEX customers_country_sort ON customers (country, id);
CREATE INDEX customers_language_sort ON customers (language, id);
-- the search text is folded anew (crm.FoldVersion): the store rebuilds it
DELETE FROM app_settings WHERE key = 'search_fold';

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
