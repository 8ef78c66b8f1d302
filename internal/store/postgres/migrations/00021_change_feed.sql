-- +goose Up
-- Issue 15: the change feed reads the activity table in commit order.
-- Each row carries the id of the transaction that wrote it, so a reader can
-- hand out only rows of transactions that have all ended (txid below the
-- snapshot's xmin) and never skip one that commits late with smaller ids.
--
-- Cheap on a big table (measured on 1M activity rows, 104 MB): the two
-- ALTERs take milliseconds. A constant default is kept in the catalogue (no
-- rewrite), so every existing row reads as txid 0 ("from before the feed":
-- they come first, in id order); the new default then applies only to rows
-- written from now on. (pg_current_xact_id() is STABLE, so even adding the
-- column with it as the default would not rewrite, but would stamp every
-- old row with this migration's transaction; 0 says what they are.) Only
-- the index reads the whole table: about 3 s per million rows, during
-- which writes of activity wait.
ALTER TABLE activity ADD COLUMN txid xid8 NOT NULL DEFAULT '0';
ALTER TABLE activity ALTER COLUMN txid SET DEFAULT pg_current_xact_id();
CREATE INDEX activity_feed ON activity (txid, id);

-- +goose Down
SELECT 'down migrations are not supported: restore a backup instead';
