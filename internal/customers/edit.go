package customers

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/acme/crm/internal/crm"
)

// Patch is an edit of a customer; nil fields stay as they are, "" clears.
type Patch struct {
	FullName  *string
	FirstName *string
	LastName  *string
	CompanyID **int64
	Language  *string
	Country   *string
	Timezone  *string
	Custom    map[string]any // key -> value (nil clears)
}

// Update edits a customer; each changed field writes one activity entry.
func (s *Service) Update(ctx context.Context, actor *crm.User, id int64, p Patch) (*crm.Customer, error) {
	c, err := s.Store.GetCustomer(ctx, id)
	if err != nil {
		return nil, err
	}
	var fe crm.FieldErrors
	var sp crm.CustomerPatch
	type change struct {
		field    string
		from, to any
	}
	var changes []change
	text := func(field string, in *string, cur string, max int, required bool, norm func(string) (string, error)) *string {
		if in == nil {
			return nil
		}
		v := strings.TrimSpace(*in)
		if norm != nil {
			n, err := norm(v)
			if err != nil {
				fe.Add(field, "%s", msg(err))
				return nil
			}
			v = n
		}
		if required && v == "" {
			fe.Add(field, "This cannot be empty.")
			return nil
		}
		if utf8.RuneCountInString(v) > max {
			fe.Add(field, "Use at most %d characters.", max)
			return nil
		}
		if v == cur {
			return nil
		}
		changes = append(changes, change{field, cur, v})
		return &v
	}
	sp.FullName = text("full_name", p.FullName, c.FullName, MaxName, true, nil)
	sp.FirstName = text("first_name", p.FirstName, c.FirstName, MaxName, false, nil)
	sp.LastName = text("last_name", p.LastName, c.LastName, MaxName, false, nil)
	sp.Language = text("language", p.Language, c.Language, 2, false, crm.NormalizeLanguage)
	sp.Country = text("country", p.Country, c.Country, 2, false, crm.NormalizeCountry)
	sp.Timezone = text("timezone", p.Timezone, c.Timezone, 64, false, crm.NormalizeTimezone)
	// the company: checked here, and its log entry written once the store
	// has put the customer in it (see companyChange)
	if p.CompanyID != nil {
		next := *p.CompanyID
		if next != nil {
			co, err := s.Store.CurrentCompany(ctx, *next)
			if errors.Is(err, crm.ErrNotFound) {
				fe.Add("company_id", "No company has the id %d.", *next)
			} else if err != nil {
				return nil, err
			} else {
				next = &co.ID
			}
		}
		if (c.Company == nil) != (next == nil) || (next != nil && c.Company.ID != *next) {
			sp.CompanyID = &next
		}
	}
	custom, err := s.customValues(ctx, p.Custom)
	if err != nil {
		var cfe crm.FieldErrors
		if !errors.As(err, &cfe) {
			return nil, err
		}
		fe = append(fe, cfe...)
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	fields, err := s.Store.ListCustomFields(ctx, true)
	if err != nil {
		return nil, err
	}
	keyOf := map[int64]string{}
	for _, f := range fields {
		keyOf[f.ID] = f.Key
	}
	now := s.now()
	err = s.Store.InTx(ctx, func(tx crm.Store) error {
		if _, err := writable(ctx, tx, id); err != nil {
			return err
		}
		if !sp.Empty() {
			if err := tx.UpdateCustomer(ctx, id, sp, now); err != nil {
				return err
			}
		}
		if sp.CompanyID != nil {
			to, changed, err := companyChange(ctx, tx, c.Company, *sp.CompanyID)
			if err != nil {
				return err
			}
			if changed {
				changes = append(changes, change{"company", c.Company, to})
			}
		}
		for _, ch := range changes {
			if err := log(ctx, tx, actor, id, crm.ActUpdated, map[string]any{"field": ch.field, "from": ch.from, "to": ch.to}, now); err != nil {
				return err
			}
		}
		for fieldID, v := range custom {
			key := keyOf[fieldID]
			old, had := c.Custom[key]
			var next any
			if v != nil {
				next = jsonValue(*v)
			}
			if (v == nil && !had) || (had && equalJSON(old, next)) {
				continue
			}
			if err := tx.SetCustomValue(ctx, id, fieldID, v, now); err != nil {
				return err
			}
			if err := log(ctx, tx, actor, id, crm.ActUpdated, map[string]any{"field": "custom." + key, "from": old, "to": next}, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Store.GetCustomer(ctx, id)
}

// AddTags puts tags on a customer, creating missing ones.
func (s *Service) AddTags(ctx context.Context, actor *crm.User, id int64, names []string) (*crm.Customer, error) {
	names, err := cleanTags(names)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, crm.Invalid("name", "Enter a tag name.")
	}
	now := s.now()
	err = s.Store.InTx(ctx, func(tx crm.Store) error {
		c, err := writable(ctx, tx, id) // its tags as they are now, not as read before
		if err != nil {
			return err
		}
		tags, err := tx.EnsureTags(ctx, names, now)
		if err != nil {
			return err
		}
		for _, t := range tags {
			if hasTag(c.Tags, t.Name) {
				continue
			}
			if _, err := tx.AddCustomerTags(ctx, id, []int64{t.ID}, now); err != nil {
				return err
			}
			if err := log(ctx, tx, actor, id, crm.ActTagAdded, map[string]any{"tag": t.Name}, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Store.GetCustomer(ctx, id)
}

// RemoveTag takes a tag off a customer.
func (s *Service) RemoveTag(ctx context.Context, actor *crm.User, id int64, name string) (*crm.Customer, error) {
	if _, err := s.Store.GetCustomer(ctx, id); err != nil {
		return nil, err
	}
	// the tag of that name sorts first of those that start with it
	tags, err := s.Store.SearchTags(ctx, strings.TrimSpace(name), "", 1)
	if err != nil {
		return nil, err
	}
	now := s.now()
	for _, t := range tags {
		if crm.NameKey(t.Name) != crm.NameKey(name) {
			continue
		}
		err := s.Store.InTx(ctx, func(tx crm.Store) error {
			removed, err := tx.RemoveCustomerTag(ctx, id, t.ID, now)
			if err != nil || !removed {
				return err
			}
			return log(ctx, tx, actor, id, crm.ActTagRemoved, map[string]any{"tag": t.Name}, now)
		})
		if err != nil {
			return nil, err
		}
	}
	return s.Store.GetCustomer(ctx, id)
}

func hasTag(tags []string, name string) bool {
	for _, t := range tags {
		if strings.EqualFold(t, name) {
			return true
		}
	}
	return false
}

// companyChange is where a customer's company change took it: the store
// resolves a company merged meanwhile to the merge's primary and keeps that
// company locked until the transaction ends, so reading it again in the
// transaction names the company the customer is in. changed is false when
// that is the company it was in.
func companyChange(ctx context.Context, tx crm.Store, from *crm.CompanyRef, asked *int64) (to *crm.CompanyRef, changed bool, err error) {
	if asked != nil {
		co, err := tx.CurrentCompany(ctx, *asked)
		if err != nil {
			return nil, false, err
		}
		to = &crm.CompanyRef{ID: co.ID, Name: co.Name}
	}
	return to, (from == nil) != (to == nil) || (from != nil && from.ID != to.ID), nil
}
