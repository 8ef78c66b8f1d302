package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/acme/crm/internal/crm"
)

// MergeInto runs the data moves of a merge; call it inside a transaction.
func (s *Store) MergeInto(ctx context.Context, primaryID int64, secondaryIDs []int64, now time.Time) error {
	in, ids := idArgs(secondaryIDs, 2)
	p := append([]any{primaryID}, ids...)

	// The primary must still be active (the service checked it under a
	// lock; this says so in the store's own words too).
	if err := s.stillActive(ctx, primaryID, now); err != nil {
		return err
	}

	// Contacts, one by one (a handful): move, or collapse into the primary's
	// copy. A suppression belongs to the address, so both copies already
	// show the same one, and its history stays with the address.
	type kc struct {
		id             int64
		channel, value string
	}
	moving, err := queryList(ctx, s.wq(), func(r *sql.Rows) (kc, error) {
		var k kc
		return k, r.Scan(&k.id, &k.channel, &k.value)
	}, `SELECT id, channel, value FROM contacts
	    WHERE customer_id IN `+placeholders(1, len(ids))+` AND removed_at IS NULL ORDER BY id`, ids...)
	if err != nil {
		return err
	}
	for _, k := range moving {
		var survivor int64
		err := s.wq().QueryRowContext(ctx, `SELECT id FROM contacts
			WHERE customer_id = $1 AND channel = $2 AND value = $3 AND removed_at IS NULL`, primaryID, k.channel, k.value).Scan(&survivor)
		switch {
		case err == sql.ErrNoRows: // new to the primary: it moves
			if _, err := s.wq().ExecContext(ctx, `UPDATE contacts SET customer_id = $1, is_primary = false WHERE id = $2`, primaryID, k.id); err != nil {
				return err
			}
		case err != nil:
			return err
		default: // the same contact: collapse into the survivor
			if _, err := s.wq().ExecContext(ctx, `UPDATE messages SET contact_id = $1 WHERE contact_id = $2`, survivor, k.id); err != nil {
				return err
			}
			if _, err := s.wq().ExecContext(ctx, `UPDATE contacts SET removed_at = $2, is_primary = false WHERE id = $1`, k.id, ts(now)); err != nil {
				return err
			}
		}
	}
	// A channel the primary had no primary contact in takes its oldest one.
	if _, err := s.wq().ExecContext(ctx, `UPDATE contacts SET is_primary = true WHERE id IN (
		SELECT min(k.id) FROM contacts k WHERE k.customer_id = $1 AND k.removed_at IS NULL GROUP BY k.channel
		HAVING sum(CASE WHEN k.is_primary THEN 1 ELSE 0 END) = 0)`, primaryID); err != nil {
		return err
	}

	// Records move whole.
	for _, table := range []string{"deals", "notes", "tasks", "messages"} {
		if _, err := s.wq().ExecContext(ctx, `UPDATE `+table+` SET customer_id = $1 WHERE customer_id IN `+in, p...); err != nil {
			return err
		}
	}
	// Tags and segment memberships are united.
	// (a united tag or membership keeps the date it was first added)
	if _, err := s.wq().ExecContext(ctx, `INSERT INTO customer_tags (customer_id, tag_id, added_at)
		SELECT CAST($1 AS BIGINT), tag_id, min(added_at) FROM customer_tags WHERE customer_id IN `+in+`
		GROUP BY tag_id ON CONFLICT DO NOTHING`, p...); err != nil {
		return err
	}
	if _, err := s.wq().ExecContext(ctx, `INSERT INTO segment_members (segment_id, customer_id, added_at)
		SELECT segment_id, CAST($1 AS BIGINT), min(added_at) FROM segment_members WHERE customer_id IN `+in+`
		GROUP BY segment_id ON CONFLICT DO NOTHING`, p...); err != nil {
		return err
	}
	if _, err := s.wq().ExecContext(ctx, `UPDATE customers SET has_inbound = EXISTS (
		SELECT 1 FROM messages m WHERE m.customer_id = $1 AND m.direction = 'inbound') WHERE id = $1`, primaryID); err != nil {
		return err
	}
	// Each secondary is archived only if still active: of two merges of
	// one customer, the second changes nothing.
	for _, id := range secondaryIDs {
		res, err := s.wq().ExecContext(ctx, `UPDATE customers SET archived_at = $2, merged_into = $3, updated_at = $2, has_inbound = false
			WHERE id = $1 AND archived_at IS NULL AND merged_into IS NULL`, id, ts(now), primaryID)
		if err := mustAffect(res, err, "customer"); err != nil {
			return notActive(err, id)
		}
		if err := s.refreshPrimaries(ctx, id, now); err != nil {
			return err
		}
	}
	// Customers merged into a secondary before lead to the primary now, so
	// that a link to any of them is one step from the customer that lives.
	if _, err := s.wq().ExecContext(ctx, `UPDATE customers SET merged_into = $1 WHERE merged_into IN `+in, p...); err != nil {
		return err
	}
	return s.refreshPrimaries(ctx, primaryID, now)
}

// stillActive touches a customer that must be neither archived nor merged.
func (s *Store) stillActive(ctx context.Context, id int64, now time.Time) error {
	res, err := s.wq().ExecContext(ctx, `UPDATE customers SET updated_at = $2 WHERE id = $1 AND archived_at IS NULL AND merged_into IS NULL`, id, ts(now))
	return notActive(mustAffect(res, err, "customer"), id)
}

// notActive says a not-found of a customer that exists is a conflict: it is
// no longer active.
func notActive(err error, id int64) error {
	if errors.Is(err, crm.ErrNotFound) {
		return crm.Conflict("Customer %d was archived or merged meanwhile; nothing was changed.", id)
	}
	return err
}

// idArgs returns "($from, ...)" and the ids as arguments (a merge's handful).
func idArgs(ids []int64, from int) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return placeholders(from, len(ids)), args
}
