-- +goose Up
-- Search (crm.SearchText): the folded words of name, e-mail, company and phone,
-- written by the application; FTS5 indexes them for word-prefix queries.
ALTER TABLE customers ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
CREATE VIRTUAL TABLE customers_fts USING fts5(
    search_text,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0',
    prefix = '2 3'
);

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
