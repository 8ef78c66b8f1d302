-- +goose Up
-- Search (crm.SearchText): the folded words of name, e-mail, company and phone,
-- written by the application; a GIN index over their tsvector answers prefix queries.
ALTER TABLE customers ADD COLUMN search_text text NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN search_vec tsvector GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED;
CREATE INDEX customers_search ON customers USING gin (search_vec);

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
