-- +goose Up
-- The Companies table (issue 13): a country of its own, the number of active
-- customers kept on the row, and unique domains.
--
-- country: an own, editable field (a company's seat is not always where most
-- of its people are). Filled here, and by imports for the companies they
-- create, from the most common country of the company's active customers
-- (ties: the first code); a value once set is never overwritten by a fill.
ALTER TABLE companies ADD COLUMN country TEXT NOT NULL DEFAULT '';
-- customers_active: the count of its customers with archived_at IS NULL,
-- maintained by the triggers below in the same transaction as the write that
-- changes it, whichever code path writes (edit, archive, restore, merge,
-- import, bulk, undo, the company merge): the table sorts and filters on it
-- with an index and never counts per row.
ALTER TABLE companies ADD COLUMN customers_active INTEGER NOT NULL DEFAULT 0;
-- domain_key: the domain for the unique index. Companies written before
-- domains were unique may share one: the first keeps the domain as key, the
-- others get "domain#id", so the index holds and none is changed; a later
-- edit of the domain sets the key to the new domain.
ALTER TABLE companies ADD COLUMN domain_key TEXT NOT NULL DEFAULT '';

UPDATE companies SET customers_active =
    (SELECT count(*) FROM customers c WHERE c.company_id = companies.id AND c.archived_at IS NULL);
UPDATE companies SET country = COALESCE((
    SELECT c.country FROM customers c
    WHERE c.company_id = companies.id AND c.archived_at IS NULL AND c.country <> ''
    GROUP BY c.country ORDER BY count(*) DESC, c.country LIMIT 1), '');
UPDATE companies SET domain_key = CASE
    WHEN domain = '' THEN ''
    WHEN EXISTS (SELECT 1 FROM companies o WHERE o.domain = companies.domain AND o.id < companies.id
                 AND o.archived_at IS NULL) THEN domain || '#' || id
    ELSE domain END;

CREATE UNIQUE INDEX companies_domain_key ON companies (domain_key) WHERE domain_key <> '' AND archived_at IS NULL;
-- keyset pages of the table: (sort key, id) over the listed (not archived) companies
CREATE INDEX companies_list_name ON companies (name_key, id) WHERE archived_at IS NULL;
-- domain and country may be empty: the empty ones come last in both directions
CREATE INDEX companies_list_domain ON companies ((domain = ''), domain, id) WHERE archived_at IS NULL;
CREATE INDEX companies_list_domain_desc ON companies ((domain <> ''), domain, id) WHERE archived_at IS NULL;
CREATE INDEX companies_list_country ON companies ((country = ''), country, id) WHERE archived_at IS NULL;
CREATE INDEX companies_list_country_desc ON companies ((country <> ''), country, id) WHERE archived_at IS NULL;
CREATE INDEX companies_list_active ON companies (customers_active, id) WHERE archived_at IS NULL;
CREATE INDEX companies_list_created ON companies (created_at, id) WHERE archived_at IS NULL;
-- the owners of a page of companies' active customers, from the index alone
CREATE INDEX customers_company_owner ON customers (company_id, owner_id) WHERE archived_at IS NULL AND company_id IS NOT NULL;

-- +goose StatementBegin
CREATE TRIGGER customers_active_insert AFTER INSERT ON customers
WHEN NEW.company_id IS NOT NULL AND NEW.archived_at IS NULL
BEGIN
    UPDATE companies SET customers_active = customers_active + 1 WHERE id = NEW.company_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER customers_active_delete AFTER DELETE ON customers
WHEN OLD.company_id IS NOT NULL AND OLD.archived_at IS NULL
BEGIN
    UPDATE companies SET customers_active = customers_active - 1 WHERE id = OLD.company_id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER customers_active_update AFTER UPDATE OF company_id, archived_at ON customers
WHEN OLD.company_id IS NOT NEW.company_id OR (OLD.archived_at IS NULL) <> (NEW.archived_at IS NULL)
BEGIN
    UPDATE companies SET customers_active = customers_active - 1
    WHERE id = OLD.company_id AND OLD.archived_at IS NULL;
    UPDATE companies SET customers_active = customers_active + 1
    WHERE id = NEW.company_id AND NEW.archived_at IS NULL;
END;
-- +goose StatementEnd

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
