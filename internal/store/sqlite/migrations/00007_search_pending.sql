-- +goose Up
-- Customers whose search text is still to be computed (rows from before the
-- search index, or a customer mid-creation): opening a store looks them up,
-- and without this index that look-up read the whole customers table.
CREATE INDEX customers_search_pending ON customers (id) WHERE search_text = '';

-- +goose Down
DROP INDEX customers_search_pending;
