-- +goose Up
-- The Companies table (issue 13): a country of its own, the number of active
-- customers kept on the row, and unique domains.
--
-- country: an own, editable field (a company's seat is not always where most
-- of its people are). Filled here, and by imports for the companies they
-- create, from the most common country of the company's active customers
-- (ties: the first code); a value once set is never overwritten by a fill.
ALTER TABLE companies ADD COLUMN country text COLLATE "C" NOT NULL DEFAULT '';
-- customers_active: the count of its customers with archived_at IS NULL,
-- maintained by the triggers below in the same transaction as the write that
-- changes it, whichever code path writes (edit, archive, restore, merge,
-- import, bulk, undo, the company merge): the table sorts and filters on it
-- with an index and never counts per row.
ALTER TABLE companies ADD COLUMN customers_active integer NOT NULL DEFAULT 0;
-- domain_key: the domain for the unique index. Companies written before
-- domains were unique may share one: the first keeps the domain as key, the
-- others get "domain#id", so the index holds and none is changed; a later
-- edit of the domain sets the key to the new domain.
ALTER TABLE companies ADD COLUMN domain_key text NOT NULL DEFAULT '';

UPDATE companies co SET customers_active = n.n
FROM (SELECT company_id, count(*) AS n FROM customers WHERE archived_at IS NULL AND company_id IS NOT NULL
      GROUP BY company_id) n
WHERE n.company_id = co.id;
UPDATE companies co SET country = t.country
FROM (SELECT DISTINCT ON (company_id) company_id, country FROM customers
      WHERE archived_at IS NULL AND company_id IS NOT NULL AND country <> ''
      GROUP BY company_id, country ORDER BY company_id, count(*) DESC, country) t
WHERE t.company_id = co.id;
UPDATE companies co SET domain_key = CASE
    WHEN co.domain = '' THEN ''
    WHEN EXISTS (SELECT 1 FROM companies o WHERE o.domain = co.domain AND o.id < co.id
                 AND o.archived_at IS NULL) THEN co.domain || '#' || co.id
    ELSE co.domain END;

CREATE UNIQUE INDEX companies_domain_key ON companies (domain_key) WHERE domain_key <> '' AND archived_at IS NULL;
-- keyset pages of the table: (sort key, id) over the listed (not archived) companies
ALTER TABLE companies ALTER COLUMN name_key TYPE text COLLATE "C";
ALTER TABLE companies ALTER COLUMN domain TYPE text COLLATE "C";
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

-- One statement-level trigger per event (PostgreSQL allows transition tables
-- on single-event triggers only): a statement that archives or moves
-- thousands of customers changes each company once, and the companies are
-- locked in id order, so two such statements never deadlock on them.
-- +goose StatementBegin
CREATE FUNCTION customers_active_shift(deltas jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM companies
    WHERE id IN (SELECT (e->>0)::bigint FROM jsonb_array_elements(deltas) e)
    ORDER BY id FOR NO KEY UPDATE;
    UPDATE companies co SET customers_active = co.customers_active + (e->>1)::integer
    FROM jsonb_array_elements(deltas) e
    WHERE co.id = (e->>0)::bigint;
END $$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION customers_active_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM customers_active_shift(jsonb_agg(jsonb_build_array(company_id, n)))
    FROM (SELECT company_id, count(*) AS n FROM new_rows
          WHERE company_id IS NOT NULL AND archived_at IS NULL GROUP BY company_id) d
    HAVING count(*) > 0;
    RETURN NULL;
END $$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION customers_active_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM customers_active_shift(jsonb_agg(jsonb_build_array(company_id, -n)))
    FROM (SELECT company_id, count(*) AS n FROM old_rows
          WHERE company_id IS NOT NULL AND archived_at IS NULL GROUP BY company_id) d
    HAVING count(*) > 0;
    RETURN NULL;
END $$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE FUNCTION customers_active_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM customers_active_shift(jsonb_agg(jsonb_build_array(company_id, n)))
    FROM (SELECT company_id, sum(d) AS n FROM (
              SELECT company_id, -1 AS d FROM old_rows WHERE company_id IS NOT NULL AND archived_at IS NULL
              UNION ALL
              SELECT company_id, 1 FROM new_rows WHERE company_id IS NOT NULL AND archived_at IS NULL) x
          GROUP BY company_id HAVING sum(d) <> 0) d
    HAVING count(*) > 0;
    RETURN NULL;
END $$;
-- +goose StatementEnd
CREATE TRIGGER customers_active_insert AFTER INSERT ON customers
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customers_active_insert();
CREATE TRIGGER customers_active_delete AFTER DELETE ON customers
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION customers_active_delete();
CREATE TRIGGER customers_active_update AFTER UPDATE ON customers
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION customers_active_update();

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
