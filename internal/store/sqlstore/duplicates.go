package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/acme/crm/internal/crm"
)

// DuplicatePairsSQL finds the pairs (a, b), a < b, of active customers that
// share a live e-mail, phone or LinkedIn value, for a in [$1, $2) and (a, b)
// after ($3, $4), leaving out pairs marked as not duplicates: one row per
// shared value, in pair order. It walks the customers of the id range (the
// primary key), their contacts (contacts_unique_value, by customer) and, for
// each, the later customers holding the same value (contacts_shared, from
// the index alone). CROSS JOIN keeps SQLite to that order (its planner has
// no statistics and would rather read every contact of a channel);
// PostgreSQL plans it as a plain join. Exported for the engines' query plan
// tests. The range is said of k1 too, so that PostgreSQL reads those
// contacts as one range of an index rather than hashing every contact.
const DuplicatePairsSQL = `SELECT c1.id, c1.full_name, c2.id, c2.full_name, k1.channel, k1.value
	FROM customers c1 CROSS JOIN contacts k1 CROSS JOIN contacts k2 CROSS JOIN customers c2
	WHERE k1.customer_id = c1.id AND k2.channel = k1.channel AND k2.value = k1.value AND k2.customer_id > c1.id AND c2.id = k2.customer_id
	  AND c1.id >= $1 AND c1.id < $2 AND c1.archived_at IS NULL AND k1.customer_id >= $1 AND k1.customer_id < $2
	  AND k1.removed_at IS NULL AND k1.channel IN ('email', 'phone', 'linkedin')
	  AND k2.removed_at IS NULL AND c2.archived_at IS NULL
	  AND (c1.id > $3 OR k2.customer_id > $4)
	  AND NOT EXISTS (SELECT 1 FROM not_duplicates n WHERE n.customer_a = c1.id AND n.customer_b = c2.id)
	ORDER BY c1.id, c2.id, k1.channel, k1.value`

// Pair windows: the first range of customer ids looked at, and the largest.
const (
	pairWindowFirst = 2048
	pairWindowMax   = 1 << 17
)

// DuplicatePairs lists possible duplicates a pair at a time. Every row of a
// pair has the same first customer, so a range of first customers holds its
// pairs whole: the ranges are read in turn (each twice as wide as the last,
// while they come back short) until limit pairs are found or the customers
// end, and the page is cut at a pair's end.
func (s *Store) DuplicatePairs(ctx context.Context, after crm.PairKey, limit int) ([]crm.DuplicatePair, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	var maxID int64
	if err := s.rq().QueryRowContext(ctx, `SELECT COALESCE(max(id), 0) FROM customers`).Scan(&maxID); err != nil {
		return nil, err
	}
	var out []crm.DuplicatePair
	lo, window := after.A, int64(pairWindowFirst)
	for lo <= maxID && len(out) < limit {
		hi := lo + window
		rows, err := s.rq().QueryContext(ctx, DuplicatePairsSQL, lo, hi, after.A, after.B)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var a, b crm.CustomerRef
			var r crm.SharedContact
			if err := rows.Scan(&a.ID, &a.Name, &b.ID, &b.Name, &r.Channel, &r.Value); err != nil {
				rows.Close()
				return nil, err
			}
			if n := len(out); n > 0 && out[n-1].A.ID == a.ID && out[n-1].B.ID == b.ID {
				out[n-1].Reasons = append(out[n-1].Reasons, r)
				continue
			}
			out = append(out, crm.DuplicatePair{A: a, B: b, Reasons: []crm.SharedContact{r}})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		lo = hi
		window = min(window*2, pairWindowMax)
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// MarkNotDuplicate remembers a pair as not duplicates; the first mark stays.
func (s *Store) MarkNotDuplicate(ctx context.Context, pair crm.PairKey, by int64, at time.Time) error {
	var user sql.NullInt64
	if by != 0 {
		user = sql.NullInt64{Int64: by, Valid: true}
	}
	_, err := s.wq().ExecContext(ctx, `INSERT INTO not_duplicates (customer_a, customer_b, by_user, at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (customer_a, customer_b) DO NOTHING`, pair.A, pair.B, user, ts(at))
	return err
}
