package customers

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/acme/crm/internal/crm"
)

// AddContact adds a way to reach a customer, normalised with the customer's country.
func (s *Service) AddContact(ctx context.Context, actor *crm.User, customerID int64, in ContactInput, primary bool) (*crm.Contact, error) {
	c, err := s.Store.GetCustomer(ctx, customerID)
	if err != nil {
		return nil, err
	}
	if !in.Channel.Valid() {
		return nil, crm.Invalid("channel", "%q is not a channel (email, phone, linkedin, whatsapp, telegram, website, other).", in.Channel)
	}
	v, err := crm.NormalizeContact(in.Channel, in.Value, c.Country)
	if err != nil {
		return nil, err
	}
	k := &crm.Contact{CustomerID: customerID, Channel: in.Channel, Value: v, Primary: primary}
	now := s.now()
	err = s.Store.InTx(ctx, func(tx crm.Store) error {
		if _, err := writable(ctx, tx, customerID); err != nil {
			return err
		}
		if err := tx.AddContact(ctx, k, now); err != nil {
			if crm.CodeOf(err) == crm.CodeConflict {
				return crm.Invalid("value", "%s already has %s %s.", c.FullName, in.Channel, v)
			}
			return err
		}
		return log(ctx, tx, actor, customerID, crm.ActContactAdded, map[string]any{"channel": k.Channel, "value": k.Value}, now)
	})
	if err != nil {
		return nil, err
	}
	return s.Store.GetContact(ctx, k.ID)
}

// EditContact changes a contact's value and/or makes it primary.
func (s *Service) EditContact(ctx context.Context, actor *crm.User, id int64, value *string, primary bool) (*crm.Contact, error) {
	k, err := s.Store.GetContact(ctx, id)
	if err != nil {
		return nil, err
	}
	c, err := s.Store.GetCustomer(ctx, k.CustomerID)
	if err != nil {
		return nil, err
	}
	var next string
	if value != nil {
		if next, err = crm.NormalizeContact(k.Channel, *value, c.Country); err != nil {
			return nil, err
		}
	}
	now := s.now()
	err = s.Store.InTx(ctx, func(tx crm.Store) error {
		// locked: the customer's primary contact is decided among its others
		if _, err := writable(ctx, tx, k.CustomerID); err != nil {
			return err
		}
		if value != nil && next != k.Value {
			if err := tx.UpdateContactValue(ctx, id, next, now); err != nil {
				if crm.CodeOf(err) == crm.CodeConflict {
					return crm.Invalid("value", "%s already has %s %s.", c.FullName, k.Channel, next)
				}
				return err
			}
			if err := log(ctx, tx, actor, k.CustomerID, crm.ActContactUpdated,
				map[string]any{"channel": k.Channel, "from": k.Value, "to": next}, now); err != nil {
				return err
			}
		}
		if primary && !k.Primary {
			if err := tx.MakePrimary(ctx, id, now); err != nil {
				return err
			}
			v := k.Value
			if next != "" {
				v = next
			}
			return log(ctx, tx, actor, k.CustomerID, crm.ActContactUpdated,
				map[string]any{"channel": k.Channel, "value": v, "primary": true}, now)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Store.GetContact(ctx, id)
}

// RemoveContact takes a contact off its customer; the row is kept for the
// audit trail, and its address's suppression stays with the address.
func (s *Service) RemoveContact(ctx context.Context, actor *crm.User, id int64) error {
	k, err := s.Store.GetContact(ctx, id)
	if err != nil {
		return err
	}
	now := s.now()
	return s.Store.InTx(ctx, func(tx crm.Store) error {
		// locked: a removed primary's successor is chosen among the others,
		// which a removal running beside it would change (two removals at
		// once left the customer's primary e-mail blank)
		if _, err := writable(ctx, tx, k.CustomerID); err != nil {
			return err
		}
		if err := tx.RemoveContact(ctx, id, now); err != nil {
			return err
		}
		return log(ctx, tx, actor, k.CustomerID, crm.ActContactRemoved, map[string]any{"channel": k.Channel, "value": k.Value}, now)
	})
}

// MaxNote bounds suppression notes.
const MaxNote = 2000

// Suppress stops every send to a contact's address (channel and normalised
// value), on whichever customer holds it now or later, with a reason and an
// optional note.
func (s *Service) Suppress(ctx context.Context, actor *crm.User, id int64, reason crm.Reason, note string) (*crm.Contact, error) {
	if !reason.Valid() {
		return nil, crm.Invalid("reason", "%q is not a reason (unsubscribe, bounce, complaint, manual, do_not_contact).", reason)
	}
	if err := crm.CheckText("note", note); err != nil {
		return nil, err
	}
	note = strings.TrimSpace(note)
	if utf8.RuneCountInString(note) > MaxNote {
		return nil, crm.Invalid("note", "Use at most %d characters.", MaxNote)
	}
	k, err := s.Store.GetContact(ctx, id)
	if err != nil {
		return nil, err
	}
	if k.Suppression != nil && k.Suppression.Reason == reason {
		return k, nil // already suppressed for this reason: nothing changes
	}
	now := s.now()
	by := ref(actor)
	err = s.Store.InTx(ctx, func(tx crm.Store) error {
		if err := tx.SetSuppression(ctx, k.Channel, k.Value, &crm.Suppression{Reason: reason, Note: note, By: by, At: now},
			crm.SuppressionEvent{ContactID: id, Action: "suppress", Reason: reason, Note: note, By: by, At: now}); err != nil {
			return err
		}
		return logHolders(ctx, tx, actor, k, crm.ActSuppressed,
			map[string]any{"channel": k.Channel, "value": k.Value, "reason": reason, "note": note}, now)
	})
	if err != nil {
		return nil, err
	}
	return s.Store.GetContact(ctx, id)
}

// Unsuppress lifts the suppression of a contact's address, for every
// customer that holds it; a note saying why is required.
func (s *Service) Unsuppress(ctx context.Context, actor *crm.User, id int64, note string) (*crm.Contact, error) {
	if err := crm.CheckText("note", note); err != nil {
		return nil, err
	}
	note = strings.TrimSpace(note)
	if note == "" {
		return nil, crm.Invalid("note", "Say why this contact may be contacted again (for example: re-subscribed in writing).")
	}
	if utf8.RuneCountInString(note) > MaxNote {
		return nil, crm.Invalid("note", "Use at most %d characters.", MaxNote)
	}
	k, err := s.Store.GetContact(ctx, id)
	if err != nil {
		return nil, err
	}
	if k.Suppression == nil {
		return nil, crm.Conflict("%s is not suppressed.", k.Value)
	}
	now := s.now()
	by := ref(actor)
	err = s.Store.InTx(ctx, func(tx crm.Store) error {
		if err := tx.SetSuppression(ctx, k.Channel, k.Value, nil, crm.SuppressionEvent{ContactID: id, Action: "unsuppress", Note: note, By: by, At: now}); err != nil {
			return err
		}
		return logHolders(ctx, tx, actor, k, crm.ActUnsuppressed,
			map[string]any{"channel": k.Channel, "value": k.Value, "was": k.Suppression.Reason, "note": note}, now)
	})
	if err != nil {
		return nil, err
	}
	return s.Store.GetContact(ctx, id)
}

// logHolders writes a suppression change into the activity of the acted-on
// contact's customer and of every other customer holding the same address:
// the change is theirs too.
func logHolders(ctx context.Context, tx crm.Store, actor *crm.User, k *crm.Contact, kind string, data map[string]any, now time.Time) error {
	holders, err := tx.FindContactsByValue(ctx, k.Channel, k.Value)
	if err != nil {
		return err
	}
	done := map[int64]bool{k.CustomerID: true}
	if err := log(ctx, tx, actor, k.CustomerID, kind, data, now); err != nil {
		return err
	}
	for _, h := range holders {
		if done[h.CustomerID] {
			continue
		}
		done[h.CustomerID] = true
		if err := log(ctx, tx, actor, h.CustomerID, kind, data, now); err != nil {
			return err
		}
	}
	return nil
}

// SuppressionHistory lists every suppress and unsuppress of a contact's
// address, whichever contact they were made on.
func (s *Service) SuppressionHistory(ctx context.Context, id int64) ([]crm.SuppressionEvent, error) {
	k, err := s.Store.GetContact(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.Store.ListSuppressionEvents(ctx, k.Channel, k.Value)
}
