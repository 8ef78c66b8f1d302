-- +goose Up
-- Sign-in throttling counts failures per (e-mail, address) pair; this index
-- serves those look-ups and, by its prefix, the e-mail ones of the old index.
CREATE INDEX login_failures_pair ON login_failures (email, ip, at);
DROP INDEX login_failures_email;

-- +goose Down
CREATE INDEX login_failures_email ON login_failures (email, at);
DROP INDEX login_failures_pair;
