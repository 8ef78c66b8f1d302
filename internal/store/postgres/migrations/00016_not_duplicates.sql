-- +goose Up
-- Possible duplicates are listed per pair of customers (DuplicatePairs): the
-- page walks customers in id order and probes, for each of their contacts,
-- the other customers holding the same value. contacts_shared answers that
-- probe from the index alone (an index-only scan).
CREATE INDEX contacts_shared ON contacts (channel, value, customer_id, removed_at) WHERE removed_at IS NULL;

-- A pair a user said is not a duplicate stops showing; customer_a < customer_b.
CREATE TABLE not_duplicates (
    customer_a bigint NOT NULL REFERENCES customers (id),
    customer_b bigint NOT NULL REFERENCES customers (id),
    by_user    bigint REFERENCES users (id),
    at         timestamptz NOT NULL,
    PRIMARY KEY (customer_a, customer_b),
    CHECK (customer_a < customer_b)
);

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
