package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/acme/crm/internal/crm"
)

const contactCols = `k.id, k.customer_id, k.channel, k.value, k.is_primary, k.suppressed_reason, k.suppressed_note,
	k.suppressed_at, su.id, su.name, su.email, k.created_at`

const contactFrom = ` FROM contacts k LEFT JOIN users su ON su.id = k.suppressed_by`

func scanContact(row interface{ Scan(...any) error }) (*crm.Contact, error) {
	var k crm.Contact
	var reason, byName, byEmail sql.NullString
	var at sql.NullTime
	var byID sql.NullInt64
	var note string
	if err := row.Scan(&k.ID, &k.CustomerID, &k.Channel, &k.Value, &k.Primary, &reason, &note, &at, &byID, &byName, &byEmail, &k.CreatedAt); err != nil {
		return nil, err
	}
	k.CreatedAt = k.CreatedAt.UTC()
	if reason.Valid {
		k.Suppression = &crm.Suppression{Reason: crm.Reason(reason.String), Note: note}
		if at.Valid {
			k.Suppression.At = at.Time.UTC()
		}
		if byID.Valid {
			k.Suppression.By = &crm.UserRef{ID: byID.Int64, Name: byName.String, Email: byEmail.String}
		}
	}
	return &k, nil
}

// channelOrder sorts contacts by channel in the display order of crm.Channels.
const channelOrder = `CASE k.channel WHEN 'email' THEN 0 WHEN 'phone' THEN 1 WHEN 'linkedin' THEN 2 WHEN 'whatsapp' THEN 3
	WHEN 'telegram' THEN 4 WHEN 'website' THEN 5 ELSE 6 END`

// AddContact inserts a normalised contact; the first of its channel becomes primary.
func (s *Store) AddContact(ctx context.Context, k *crm.Contact, now time.Time) error {
	v, err := crm.NormalizeContact(k.Channel, k.Value, "")
	if err != nil {
		return err
	}
	k.Value = v
	return s.inTx(ctx, func(tx *Store) error {
		var others int
		if err := tx.wq().QueryRowContext(ctx,
			`SELECT count(*) FROM contacts WHERE customer_id = $1 AND channel = $2 AND is_primary AND removed_at IS NULL`,
			k.CustomerID, string(k.Channel)).Scan(&others); err != nil {
			return err
		}
		if others == 0 {
			k.Primary = true
		} else if k.Primary {
			if _, err := tx.wq().ExecContext(ctx,
				`UPDATE contacts SET is_primary = false WHERE customer_id = $1 AND channel = $2 AND removed_at IS NULL`,
				k.CustomerID, string(k.Channel)); err != nil {
				return err
			}
		}
		k.CreatedAt = ts(now)
		err := tx.wq().QueryRowContext(ctx,
			`INSERT INTO contacts (customer_id, channel, value, is_primary, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			k.CustomerID, string(k.Channel), k.Value, k.Primary, k.CreatedAt).Scan(&k.ID)
		if err != nil {
			return tx.conflict(err, "this customer already has "+string(k.Channel)+" "+k.Value)
		}
		return tx.refreshPrimaries(ctx, k.CustomerID, now)
	})
}

// refreshPrimaries copies the primary e-mail and phone onto the customer row,
// where the table sorts and shows them.
func (s *Store) refreshPrimaries(ctx context.Context, customerID int64, now time.Time) error {
	if err := s.exec1(ctx, "customer", `UPDATE customers SET
		primary_email = COALESCE((SELECT value FROM contacts WHERE customer_id = $1 AND channel = 'email' AND is_primary AND removed_at IS NULL), ''),
		primary_phone = COALESCE((SELECT value FROM contacts WHERE customer_id = $1 AND channel = 'phone' AND is_primary AND removed_at IS NULL), ''),
		updated_at = $2
		WHERE id = $1`, customerID, ts(now)); err != nil {
		return err
	}
	return s.reindex(ctx, customerID)
}

func (s *Store) GetContact(ctx context.Context, id int64) (*crm.Contact, error) {
	k, err := scanContact(s.rq().QueryRowContext(ctx, `SELECT `+contactCols+contactFrom+` WHERE k.id = $1 AND k.removed_at IS NULL`, id))
	return k, notFound(err, "contact")
}

func (s *Store) UpdateContactValue(ctx context.Context, id int64, value string, now time.Time) error {
	return s.inTx(ctx, func(tx *Store) error {
		k, err := tx.GetContact(ctx, id)
		if err != nil {
			return err
		}
		v, err := crm.NormalizeContact(k.Channel, value, "")
		if err != nil {
			return err
		}
		if _, err := tx.wq().ExecContext(ctx, `UPDATE contacts SET value = $2 WHERE id = $1`, id, v); err != nil {
			return tx.conflict(err, "this customer already has "+string(k.Channel)+" "+v)
		}
		return tx.refreshPrimaries(ctx, k.CustomerID, now)
	})
}

func (s *Store) MakePrimary(ctx context.Context, id int64, now time.Time) error {
	return s.inTx(ctx, func(tx *Store) error {
		k, err := tx.GetContact(ctx, id)
		if err != nil {
			return err
		}
		if _, err := tx.wq().ExecContext(ctx,
			`UPDATE contacts SET is_primary = false WHERE customer_id = $1 AND channel = $2 AND removed_at IS NULL AND id <> $3`,
			k.CustomerID, string(k.Channel), id); err != nil {
			return err
		}
		if _, err := tx.wq().ExecContext(ctx, `UPDATE contacts SET is_primary = true WHERE id = $1`, id); err != nil {
			return err
		}
		return tx.refreshPrimaries(ctx, k.CustomerID, now)
	})
}

func (s *Store) RemoveContact(ctx context.Context, id int64, now time.Time) error {
	return s.inTx(ctx, func(tx *Store) error {
		k, err := tx.GetContact(ctx, id)
		if err != nil {
			return err
		}
		if _, err := tx.wq().ExecContext(ctx, `UPDATE contacts SET removed_at = $2, is_primary = false WHERE id = $1`, id, ts(now)); err != nil {
			return err
		}
		if k.Primary { // the oldest remaining contact of the channel takes over
			if _, err := tx.wq().ExecContext(ctx, `UPDATE contacts SET is_primary = true WHERE id = (
				SELECT min(id) FROM contacts WHERE customer_id = $1 AND channel = $2 AND removed_at IS NULL)`,
				k.CustomerID, string(k.Channel)); err != nil {
				return err
			}
		}
		return tx.refreshPrimaries(ctx, k.CustomerID, now)
	})
}

// FindContactsByValue finds live contacts with this channel and normalised value, on any customer.
func (s *Store) FindContactsByValue(ctx context.Context, ch crm.Channel, value string) ([]crm.Contact, error) {
	rows, err := s.rq().QueryContext(ctx, `SELECT `+contactCols+contactFrom+
		` WHERE k.channel = $1 AND k.value = $2 AND k.removed_at IS NULL ORDER BY k.id`, string(ch), value)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []crm.Contact
	for rows.Next() {
		k, err := scanContact(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *k)
	}
	return out, rows.Err()
}

func (s *Store) SetSuppression(ctx context.Context, contactID int64, sup *crm.Suppression, ev crm.SuppressionEvent) error {
	return s.inTx(ctx, func(tx *Store) error {
		var res sql.Result
		var err error
		if sup != nil {
			var by any
			if sup.By != nil {
				by = sup.By.ID
			}
			res, err = tx.wq().ExecContext(ctx,
				`UPDATE contacts SET suppressed_reason = $2, suppressed_note = $3, suppressed_by = $4, suppressed_at = $5 WHERE id = $1`,
				contactID, string(sup.Reason), sup.Note, by, ts(sup.At))
		} else {
			res, err = tx.wq().ExecContext(ctx,
				`UPDATE contacts SET suppressed_reason = NULL, suppressed_note = '', suppressed_by = NULL, suppressed_at = NULL WHERE id = $1`, contactID)
		}
		if err := mustAffect(res, err, "contact"); err != nil {
			return err
		}
		var by any
		if ev.By != nil {
			by = ev.By.ID
		}
		return tx.wq().QueryRowContext(ctx,
			`INSERT INTO suppression_events (contact_id, action, reason, note, user_id, at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			contactID, ev.Action, string(ev.Reason), ev.Note, by, ts(ev.At)).Scan(&ev.ID)
	})
}

func (s *Store) ListSuppressionEvents(ctx context.Context, contactID int64) ([]crm.SuppressionEvent, error) {
	rows, err := s.rq().QueryContext(ctx,
		`SELECT e.id, e.contact_id, e.action, e.reason, e.note, u.id, u.name, u.email, e.at
		 FROM suppression_events e LEFT JOIN users u ON u.id = e.user_id WHERE e.contact_id = $1 ORDER BY e.id`, contactID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []crm.SuppressionEvent
	for rows.Next() {
		var e crm.SuppressionEvent
		var uid sql.NullInt64
		var uname, uemail sql.NullString
		if err := rows.Scan(&e.ID, &e.ContactID, &e.Action, &e.Reason, &e.Note, &uid, &uname, &uemail, &e.At); err != nil {
			return nil, err
		}
		e.At = e.At.UTC()
		if uid.Valid {
			e.By = &crm.UserRef{ID: uid.Int64, Name: uname.String, Email: uemail.String}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func (s *Store) DuplicateGroups(ctx context.Context, after string, limit int) ([]crm.DuplicateGroup, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	type pair struct {
		ch    crm.Channel
		value string
	}
	pairs, err := queryList(ctx, s.rq(), func(r *sql.Rows) (pair, error) {
		var p pair
		return p, r.Scan(&p.ch, &p.value)
	}, `SELECT k.channel, k.value FROM contacts k JOIN customers c ON c.id = k.customer_id
	    WHERE k.removed_at IS NULL AND c.archived_at IS NULL AND k.channel IN ('email', 'phone', 'linkedin') AND k.value > $1
	    GROUP BY k.channel, k.value HAVING count(DISTINCT k.customer_id) > 1
	    ORDER BY k.value, k.channel LIMIT $2`, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]crm.DuplicateGroup, 0, len(pairs))
	for _, p := range pairs {
		refs, err := queryList(ctx, s.rq(), func(r *sql.Rows) (crm.CustomerRef, error) {
			var c crm.CustomerRef
			return c, r.Scan(&c.ID, &c.Name)
		}, `SELECT DISTINCT c.id, c.full_name FROM contacts k JOIN customers c ON c.id = k.customer_id
		    WHERE k.channel = $1 AND k.value = $2 AND k.removed_at IS NULL AND c.archived_at IS NULL ORDER BY c.id`, string(p.ch), p.value)
		if err != nil {
			return nil, err
		}
		out = append(out, crm.DuplicateGroup{Channel: p.ch, Value: p.value, Customers: refs})
	}
	return out, nil
}
