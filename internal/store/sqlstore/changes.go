package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"github.com/acme/crm/internal/crm"
)

// The change feed is the activity table read in commit order.
//
// SQLite runs one write transaction at a time (one writer connection,
// BEGIN IMMEDIATE), so ids are handed out in commit order and what a reader
// sees is always a prefix of them: the id alone is a safe position.
//
// PostgreSQL runs write transactions side by side (a Locker dialect): a
// transaction that started earlier can commit later with smaller ids, so a
// reader that had moved past them by id would skip them. There each row
// carries the id of the transaction that wrote it (activity.txid, default
// pg_current_xact_id()) and the feed is ordered by (txid, id); it hands out
// only rows whose txid is below the xmin of the current snapshot, that is of
// transactions that have all ended. A transaction still running (or one
// that has not yet written) has a txid at or above that xmin, so it can only
// ever add rows after every position handed out so far. Rows from before
// the column existed read as txid 0 and come first, in id order.
//
// A cursor is "<txid>.<id>" (SQLite: "0.<id>"): the position of the last row read.

const (
	changesDefault = 100
	changesMax     = 1000
)

type feedPos struct{ txid, id uint64 }

func (p feedPos) String() string {
	return strconv.FormatUint(p.txid, 10) + "." + strconv.FormatUint(p.id, 10)
}

func parseFeedPos(s string) (feedPos, error) {
	if s == "" {
		return feedPos{}, nil
	}
	t, i, ok := strings.Cut(s, ".")
	tx, err1 := strconv.ParseUint(t, 10, 64)
	id, err2 := strconv.ParseUint(i, 10, 63)
	if !ok || err1 != nil || err2 != nil {
		return feedPos{}, crm.Invalid("after", "not a cursor of the change feed")
	}
	return feedPos{tx, id}, nil
}

// concurrentWriters reports whether write transactions of the engine run side by side.
func (s *Store) concurrentWriters() bool {
	_, ok := s.d.(Locker)
	return ok
}

func (s *Store) Changes(ctx context.Context, after string, limit int) ([]crm.Change, string, error) {
	pos, err := parseFeedPos(after)
	if err != nil {
		return nil, after, err
	}
	if limit <= 0 {
		limit = changesDefault
	}
	limit = min(limit, changesMax)
	var q string
	var args []any
	if s.concurrentWriters() {
		q = `SELECT a.txid::text, a.id, a.customer_id, a.kind, COALESCE(a.user_id, 0), a.data, a.at
			FROM activity a
			WHERE (a.txid, a.id) > ($1::text::xid8, $2) AND a.txid < pg_snapshot_xmin(pg_current_snapshot())
			ORDER BY a.txid, a.id LIMIT $3`
		args = []any{strconv.FormatUint(pos.txid, 10), int64(pos.id), limit}
	} else {
		q = `SELECT '0', a.id, a.customer_id, a.kind, COALESCE(a.user_id, 0), a.data, a.at
			FROM activity a WHERE a.id > $1 ORDER BY a.id LIMIT $2`
		args = []any{int64(pos.id), limit}
	}
	items, err := queryList(ctx, s.rq(), func(r *sql.Rows) (crm.Change, error) {
		var c crm.Change
		var txid string
		var id int64
		if err := r.Scan(&txid, &id, &c.CustomerID, &c.Kind, &c.UserID, &c.Data, &c.At); err != nil {
			return c, err
		}
		c.At = c.At.UTC()
		c.Cursor = txid + "." + strconv.FormatInt(id, 10)
		return c, nil
	}, q, args...)
	if err != nil {
		return nil, after, err
	}
	if len(items) == 0 {
		return nil, after, nil
	}
	return items, items[len(items)-1].Cursor, nil
}

func (s *Store) ChangesHead(ctx context.Context) (string, error) {
	if s.concurrentWriters() {
		// Every row of a transaction at or after xmin comes after (xmin, 0).
		var xmin string
		if err := s.rq().QueryRowContext(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot())::text`).Scan(&xmin); err != nil {
			return "", err
		}
		return xmin + ".0", nil
	}
	var id int64
	if err := s.rq().QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM activity`).Scan(&id); err != nil {
		return "", err
	}
	return feedPos{0, uint64(id)}.String(), nil
}
