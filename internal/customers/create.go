package customers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/acme/crm/internal/crm"
)

// Input limits.
const (
	MaxName    = 200
	MaxTagName = 50
	MaxTagsSet = 20
)

// ContactInput is a contact as typed: a channel and a raw value.
type ContactInput struct {
	Channel crm.Channel `json:"channel"`
	Value   string      `json:"value"`
}

// NewCustomer is what a person or program gives to add a customer.
type NewCustomer struct {
	FullName    string
	FirstName   string
	LastName    string
	Contact     *ContactInput
	CompanyID   *int64
	CompanyName string // found case-insensitively or created
	OwnerID     *int64 // nil: unclaimed
	Tags        []string
	Language    string
	Country     string
	Timezone    string
	Custom      map[string]any
	Source      string // "page", "api", "import"... for the activity entry
	// CheckDuplicates refuses the customer with a *DuplicateError when
	// active customers already hold the contact value (the spec allows
	// shared values: without it, the customer is added).
	CheckDuplicates bool
}

// Create adds a customer with its first contact, company, owner, tags and
// custom values, in one transaction, and logs it. Errors name their field.
func (s *Service) Create(ctx context.Context, actor *crm.User, in NewCustomer) (*crm.Customer, error) {
	var fe crm.FieldErrors
	in.FullName = strings.TrimSpace(in.FullName)
	in.FirstName, in.LastName = strings.TrimSpace(in.FirstName), strings.TrimSpace(in.LastName)
	if in.FullName == "" {
		in.FullName = strings.TrimSpace(in.FirstName + " " + in.LastName)
	}
	if in.FullName == "" {
		fe.Add("full_name", "Enter the customer's name.")
	}
	for field, v := range map[string]string{"full_name": in.FullName, "first_name": in.FirstName, "last_name": in.LastName} {
		if p := crm.TextProblem(v); p != "" {
			fe.Add(field, "%s", p)
		} else if utf8.RuneCountInString(v) > MaxName {
			fe.Add(field, "Use at most %d characters.", MaxName)
		}
	}
	var err error
	if in.Country, err = crm.NormalizeCountry(in.Country); err != nil {
		fe.Add("country", "%s", msg(err))
	}
	if in.Language, err = crm.NormalizeLanguage(in.Language); err != nil {
		fe.Add("language", "%s", msg(err))
	}
	if in.Timezone, err = crm.NormalizeTimezone(in.Timezone); err != nil {
		fe.Add("timezone", "%s", msg(err))
	}
	var contact *crm.Contact
	if in.Contact != nil && strings.TrimSpace(in.Contact.Value) != "" {
		if !in.Contact.Channel.Valid() {
			fe.Add("contact", "%q is not a channel.", in.Contact.Channel)
		} else if v, err := crm.NormalizeContact(in.Contact.Channel, in.Contact.Value, in.Country); err != nil {
			fe.Add("contact", "%s", msg(err))
		} else {
			contact = &crm.Contact{Channel: in.Contact.Channel, Value: v, Primary: true}
		}
	}
	tags, err := cleanTags(in.Tags)
	if err != nil {
		fe = append(fe, err.(*crm.Error))
	}
	if in.OwnerID != nil {
		if err := s.checkOwnerChoice(ctx, actor, *in.OwnerID); err != nil {
			var de *crm.Error
			if !errors.As(err, &de) {
				return nil, err
			}
			de.Field = "owner"
			fe = append(fe, de)
		}
	}
	customVals, err := s.customValues(ctx, in.Custom)
	if err != nil {
		var cfe crm.FieldErrors
		if !errors.As(err, &cfe) {
			return nil, err
		}
		fe = append(fe, cfe...)
	}
	if in.CompanyID != nil {
		if co, err := s.Store.CurrentCompany(ctx, *in.CompanyID); err == nil {
			in.CompanyID = &co.ID
		} else if errors.Is(err, crm.ErrNotFound) {
			fe.Add("company", "No company has the id %d.", *in.CompanyID)
		} else {
			return nil, err
		}
	}
	if utf8.RuneCountInString(in.CompanyName) > MaxName {
		fe.Add("company", "Use at most %d characters.", MaxName)
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	if in.CheckDuplicates && contact != nil {
		ms, err := s.holders(ctx, contact.Channel, contact.Value)
		if err != nil {
			return nil, err
		}
		if len(ms) > 0 {
			return nil, duplicateError(contact, ms)
		}
	}

	now := s.now()
	var id int64
	err = s.Store.InTx(ctx, func(tx crm.Store) error {
		companyID := in.CompanyID
		if companyID == nil && strings.TrimSpace(in.CompanyName) != "" {
			c, err := findOrCreateCompany(ctx, tx, in.CompanyName, now)
			if err != nil {
				return err
			}
			companyID = &c.ID
		}
		var err error
		id, err = tx.CreateCustomer(ctx, crm.NewCustomer{FullName: in.FullName, FirstName: in.FirstName, LastName: in.LastName,
			CompanyID: companyID, OwnerID: in.OwnerID, Language: in.Language, Country: in.Country, Timezone: in.Timezone, CreatedAt: now})
		if err != nil {
			return err
		}
		if contact != nil {
			contact.CustomerID = id
			if err := tx.AddContact(ctx, contact, now); err != nil {
				return err
			}
		}
		if len(tags) > 0 {
			ts, err := tx.EnsureTags(ctx, tags, now)
			if err != nil {
				return err
			}
			ids := make([]int64, len(ts))
			for i, t := range ts {
				ids[i] = t.ID
			}
			if _, err := tx.AddCustomerTags(ctx, id, ids, now); err != nil {
				return err
			}
		}
		for fieldID, v := range customVals {
			if err := tx.SetCustomValue(ctx, id, fieldID, v, now); err != nil {
				return err
			}
		}
		source := in.Source
		if source == "" {
			source = "api"
		}
		return log(ctx, tx, actor, id, crm.ActCreated, map[string]any{"source": source, "full_name": in.FullName}, now)
	})
	if err != nil {
		return nil, err
	}
	return s.Store.GetCustomer(ctx, id)
}

// checkOwnerChoice: the owner must be an active user; a member may only pick
// themselves (giving a customer to someone else is a reassign, for admins).
func (s *Service) checkOwnerChoice(ctx context.Context, actor *crm.User, ownerID int64) error {
	if actor != nil && !actor.IsAdmin() && ownerID != actor.ID {
		return crm.Forbidden("Only an admin can give a customer to someone else; choose yourself or nobody.")
	}
	u, err := s.Store.GetUser(ctx, ownerID)
	if errors.Is(err, crm.ErrNotFound) {
		return crm.Invalid("owner", "No user has the id %d.", ownerID)
	}
	if err != nil {
		return err
	}
	if !u.Active {
		return crm.Invalid("owner", "%s is deactivated.", u.Name)
	}
	return nil
}

// customValues checks custom values against the live field definitions and
// returns them by field id as JSON text.
func (s *Service) customValues(ctx context.Context, in map[string]any) (map[int64]*string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	fields, err := s.Store.ListCustomFields(ctx, false)
	if err != nil {
		return nil, err
	}
	byKey := map[string]crm.CustomField{}
	for _, f := range fields {
		byKey[f.Key] = f
	}
	var fe crm.FieldErrors
	out := map[int64]*string{}
	for k, v := range in {
		f, ok := byKey[k]
		if !ok {
			fe.Add("custom."+k, "%q is not a custom field.", k)
			continue
		}
		j, err := CustomValue(f, v)
		if err != nil {
			fe = append(fe, err.(*crm.Error))
			continue
		}
		out[f.ID] = j
	}
	return out, fe.Err()
}

// cleanTags trims, de-duplicates case-insensitively and checks tag names.
func cleanTags(in []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, t := range in {
		if err := crm.CheckText("tags", t); err != nil {
			return nil, err
		}
		t = strings.TrimSpace(t)
		if t == "" || seen[strings.ToLower(t)] {
			continue
		}
		if utf8.RuneCountInString(t) > MaxTagName {
			return nil, crm.Invalid("tags", "The tag %q is longer than %d characters.", t, MaxTagName)
		}
		seen[strings.ToLower(t)] = true
		out = append(out, t)
	}
	if len(out) > MaxTagsSet {
		return nil, crm.Invalid("tags", "At most %d tags at once.", MaxTagsSet)
	}
	return out, nil
}

func findOrCreateCompany(ctx context.Context, tx crm.Store, name string, now time.Time) (*crm.Company, error) {
	name = strings.TrimSpace(name)
	c, err := tx.FindCompanyByName(ctx, name)
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, crm.ErrNotFound) {
		return nil, err
	}
	c = &crm.Company{Name: name, CreatedAt: now}
	return c, tx.CreateCompany(ctx, c)
}

// msg is the message of a domain error without its field prefix.
func msg(err error) string {
	var de *crm.Error
	if errors.As(err, &de) {
		return de.Message
	}
	return err.Error()
}

// duplicateError names who already holds a new customer's contact value.
func duplicateError(k *crm.Contact, ms []Match) *DuplicateError {
	what := map[crm.Channel]string{crm.ChannelEmail: "e-mail address", crm.ChannelPhone: "phone number", crm.ChannelLinkedIn: "LinkedIn profile"}[k.Channel]
	if what == "" {
		what = string(k.Channel) + " contact"
	}
	who := ms[0].FullName
	if len(ms) > 1 {
		who = fmt.Sprintf("%s and %d other customer%s", who, len(ms)-1, map[bool]string{true: "s"}[len(ms) > 2])
	}
	return &DuplicateError{Value: k.Value, Matches: ms,
		Err: &crm.Error{Code: crm.CodeConflict, Field: "contact", Message: fmt.Sprintf("%s already %s this %s.", who, map[bool]string{true: "have", false: "has"}[len(ms) > 1], what)}}
}
