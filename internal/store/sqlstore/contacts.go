package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/acme/crm/internal/crm"
)

// A contact shows the suppression of its address (channel and normalised
// value), read through the suppressions table by its primary key.
const contactCols = `k.id, k.customer_id, k.channel, k.value, k.is_primary, sp.reason, sp.note,
	sp.at, su.id, su.name, su.email, k.created_at`

const contactFrom = ` FROM contacts k LEFT JOIN suppressions sp ON sp.channel = k.channel AND sp.value = k.value
	LEFT JOIN users su ON su.id = sp.user_id`

func scanContact(row interface{ Scan(...any) error }) (*crm.Contact, error) {
	var k crm.Contact
	var reason, note, byName, byEmail sql.NullString
	var at sql.NullTime
	var byID sql.NullInt64
	if err := row.Scan(&k.ID, &k.CustomerID, &k.Channel, &k.Value, &k.Primary, &reason, &note, &at, &byID, &byName, &byEmail, &k.CreatedAt); err != nil {
		return nil, err
	}
	k.CreatedAt = k.CreatedAt.UTC()
	if reason.Valid {
		k.Suppression = &crm.Suppression{Reason: crm.Reason(reason.String), Note: note.String}
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

// GetContactEver returns a contact even after it was removed (with the
// value it had then): an unsubscribe link from older mail names a contact id.
func (s *Store) GetContactEver(ctx context.Context, id int64) (*crm.Contact, error) {
	k, err := scanContact(s.rq().QueryRowContext(ctx, `SELECT `+contactCols+contactFrom+` WHERE k.id = $1`, id))
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

// Suppression returns the suppression of an address, nil when it has none.
func (s *Store) Suppression(ctx context.Context, ch crm.Channel, value string) (*crm.Suppression, error) {
	var sup crm.Suppression
	var byID sql.NullInt64
	var byName, byEmail sql.NullString
	err := s.rq().QueryRowContext(ctx, `SELECT sp.reason, sp.note, sp.at, su.id, su.name, su.email
		FROM suppressions sp LEFT JOIN users su ON su.id = sp.user_id WHERE sp.channel = $1 AND sp.value = $2`,
		string(ch), value).Scan(&sup.Reason, &sup.Note, &sup.At, &byID, &byName, &byEmail)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	sup.At = sup.At.UTC()
	if byID.Valid {
		sup.By = &crm.UserRef{ID: byID.Int64, Name: byName.String, Email: byEmail.String}
	}
	return &sup, nil
}

// SetSuppression suppresses an address (sup non-nil; a suppression already
// there is replaced) or lifts its suppression (sup nil; a conflict when there
// is none), and appends ev to the address's history, in one step.
func (s *Store) SetSuppression(ctx context.Context, ch crm.Channel, value string, sup *crm.Suppression, ev crm.SuppressionEvent) error {
	return s.inTx(ctx, func(tx *Store) error {
		if sup != nil {
			var by any
			if sup.By != nil {
				by = sup.By.ID
			}
			if _, err := tx.wq().ExecContext(ctx, `INSERT INTO suppressions (channel, value, reason, note, user_id, at)
				VALUES ($1, $2, $3, $4, $5, $6)
				ON CONFLICT (channel, value) DO UPDATE SET reason = excluded.reason, note = excluded.note, user_id = excluded.user_id, at = excluded.at`,
				string(ch), value, string(sup.Reason), sup.Note, by, ts(sup.At)); err != nil {
				return err
			}
		} else {
			res, err := tx.wq().ExecContext(ctx, `DELETE FROM suppressions WHERE channel = $1 AND value = $2`, string(ch), value)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				return crm.Conflict("%s is not suppressed.", value)
			}
		}
		var by, contact any
		if ev.By != nil {
			by = ev.By.ID
		}
		if ev.ContactID != 0 {
			contact = ev.ContactID
		}
		return tx.wq().QueryRowContext(ctx,
			`INSERT INTO suppression_events (channel, value, contact_id, action, reason, note, user_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			string(ch), value, contact, ev.Action, string(ev.Reason), ev.Note, by, ts(ev.At)).Scan(&ev.ID)
	})
}

// ListSuppressionEvents returns the history of an address, oldest first.
func (s *Store) ListSuppressionEvents(ctx context.Context, ch crm.Channel, value string) ([]crm.SuppressionEvent, error) {
	rows, err := s.rq().QueryContext(ctx,
		`SELECT e.id, e.channel, e.value, e.contact_id, e.action, e.reason, e.note, u.id, u.name, u.email, e.at
		 FROM suppression_events e LEFT JOIN users u ON u.id = e.user_id WHERE e.channel = $1 AND e.value = $2 ORDER BY e.id`, string(ch), value)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []crm.SuppressionEvent
	for rows.Next() {
		var e crm.SuppressionEvent
		var uid, contact sql.NullInt64
		var uname, uemail sql.NullString
		if err := rows.Scan(&e.ID, &e.Channel, &e.Value, &contact, &e.Action, &e.Reason, &e.Note, &uid, &uname, &uemail, &e.At); err != nil {
			return nil, err
		}
		e.At = e.At.UTC()
		e.ContactID = contact.Int64
		if uid.Valid {
			e.By = &crm.UserRef{ID: uid.Int64, Name: uname.String, Email: uemail.String}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
