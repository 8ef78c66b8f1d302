-- +goose Up
-- Possible duplicate companies and the company merge (issue 13).
--
-- match_name and match_domain are the keys possible duplicates compare
-- (crm.CompanyNameKey, crm.CompanyDomainKey), computed in Go so that both
-- engines mean the same. NULL means "still to compute": a new company has
-- NULL, and any change of a name or domain sets them back to NULL here in
-- the database, whatever code made it; the store computes the missing ones
-- before it lists duplicates (RefreshCompanyKeys).
ALTER TABLE companies ADD COLUMN match_name TEXT;
ALTER TABLE companies ADD COLUMN match_domain TEXT;
CREATE INDEX companies_match_pending ON companies (id) WHERE match_name IS NULL;
CREATE INDEX companies_match_name ON companies (match_name, id) WHERE archived_at IS NULL AND match_name <> '';
CREATE INDEX companies_match_domain ON companies (match_domain, id) WHERE archived_at IS NULL AND match_domain <> '';

-- +goose StatementBegin
CREATE TRIGGER companies_match_stale AFTER UPDATE OF name, domain ON companies
WHEN NEW.name IS NOT OLD.name OR NEW.domain IS NOT OLD.domain
BEGIN
    UPDATE companies SET match_name = NULL, match_domain = NULL WHERE id = NEW.id;
END;
-- +goose StatementEnd

-- The active customers of a company, counted from the index alone (the
-- possible duplicates show them for every company listed).
CREATE INDEX customers_company_active ON customers (company_id) WHERE archived_at IS NULL;

-- A company's own log: merges (customers have theirs in activity).
CREATE TABLE company_activity (
    id         INTEGER PRIMARY KEY,
    company_id INTEGER NOT NULL REFERENCES companies (id),
    user_id    INTEGER REFERENCES users (id),
    kind       TEXT NOT NULL,
    data       TEXT NOT NULL DEFAULT '{}',
    at         DATETIME NOT NULL
);
CREATE INDEX company_activity_company ON company_activity (company_id, id);

-- Companies merged into another are found by it (a chain is re-pointed on merge).
CREATE INDEX companies_merged_into ON companies (merged_into_id) WHERE merged_into_id IS NOT NULL;

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
