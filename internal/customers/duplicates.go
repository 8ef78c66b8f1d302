package customers

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/acme/crm/internal/crm"
)

// MaxMatches bounds the customers a duplicate check names.
const MaxMatches = 10

// Match is an active customer already holding a contact value, with what
// tells two people of the same name apart.
type Match struct {
	ID           int64           `json:"id"`
	FullName     string          `json:"full_name"`
	PrimaryEmail string          `json:"primary_email"`
	Company      *crm.CompanyRef `json:"company"`
	Owner        *crm.UserRef    `json:"owner"`
	CreatedAt    time.Time       `json:"created_at"`
}

// DuplicateError refuses a new customer whose contact value active
// customers already hold (only when the caller asked for the check): a
// conflict on the field "contact" naming them.
type DuplicateError struct {
	Err     *crm.Error
	Value   string // the normalised value
	Matches []Match
}

func (e *DuplicateError) Error() string { return e.Err.Error() }
func (e *DuplicateError) Unwrap() error { return e.Err }

// SameContact answers the active customers holding a contact value, once
// normalised as a new customer's would be (country helps read a phone
// number); the value is "" and no customer is named when it is empty or
// not a valid value of the channel. Every user sees every customer.
func (s *Service) SameContact(ctx context.Context, ch crm.Channel, raw, country string) (string, []Match, error) {
	if !ch.Valid() {
		return "", nil, crm.Invalid("channel", "%q is not a channel.", ch)
	}
	if strings.TrimSpace(raw) == "" || len(raw) > 500 {
		return "", nil, nil
	}
	if c, err := crm.NormalizeCountry(country); err == nil {
		country = c
	} else {
		country = ""
	}
	v, err := crm.NormalizeContact(ch, raw, country)
	if err != nil {
		return "", nil, nil // not a value anyone can hold: the form says so on submit
	}
	ms, err := s.holders(ctx, ch, v)
	return v, ms, err
}

// holders lists the active customers holding a normalised value, oldest first.
func (s *Service) holders(ctx context.Context, ch crm.Channel, v string) ([]Match, error) {
	ks, err := s.Store.FindContactsByValue(ctx, ch, v)
	if err != nil {
		return nil, err
	}
	var ids []int64
	seen := map[int64]bool{}
	for _, k := range ks {
		if !seen[k.CustomerID] {
			seen[k.CustomerID] = true
			ids = append(ids, k.CustomerID)
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	cs, err := s.Store.GetCustomers(ctx, ids)
	if err != nil {
		return nil, err
	}
	var out []Match
	for _, c := range cs {
		if c.Archived() {
			continue
		}
		out = append(out, Match{ID: c.ID, FullName: c.FullName, PrimaryEmail: c.PrimaryEmail, Company: c.Company, Owner: c.Owner, CreatedAt: c.CreatedAt})
		if len(out) == MaxMatches {
			break
		}
	}
	return out, nil
}

// DuplicatePairs lists possible duplicates, a page of pairs after the one
// named by the cursor ("" from the start; the page's Next otherwise).
func (s *Service) DuplicatePairs(ctx context.Context, cursor string, limit int) (pairs []crm.DuplicatePair, next string, err error) {
	after, err := ParsePairCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	pairs, err = s.Store.DuplicatePairs(ctx, after, limit)
	if err != nil {
		return nil, "", err
	}
	if len(pairs) == limit {
		last := pairs[len(pairs)-1]
		next = fmt.Sprintf("%d-%d", last.A.ID, last.B.ID)
	}
	return pairs, next, nil
}

// ParsePairCursor reads a pair cursor "A-B" (A < B); "" is the start.
func ParsePairCursor(c string) (crm.PairKey, error) {
	if c == "" {
		return crm.PairKey{}, nil
	}
	a, b, ok := strings.Cut(c, "-")
	x, err1 := strconv.ParseInt(a, 10, 64)
	y, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || x < 1 || y <= x {
		return crm.PairKey{}, crm.Invalid("after", "%q is not a position in the list of duplicates.", c)
	}
	return crm.PairKey{A: x, B: y}, nil
}

// MarkNotDuplicate remembers that two customers are different people, so
// the pair no longer shows among the possible duplicates. Anyone may say
// so, as anyone may edit a customer.
func (s *Service) MarkNotDuplicate(ctx context.Context, actor *crm.User, a, b int64) error {
	if a == b || a < 1 || b < 1 {
		return crm.Invalid("customer_ids", "Name two different customers.")
	}
	if a > b {
		a, b = b, a
	}
	for _, id := range []int64{a, b} {
		if _, err := s.Store.GetCustomer(ctx, id); err != nil {
			return err
		}
	}
	var by int64
	if actor != nil {
		by = actor.ID
	}
	return s.Store.MarkNotDuplicate(ctx, crm.PairKey{A: a, B: b}, by, s.now())
}
