// Package customers holds the use cases of customers: listing with the one
// filter, creating, editing, ownership, tags and segments, and the catalog
// lists they use. Every rule lives here so that pages, the API, the CLI and
// background jobs behave the same.
package customers

import (
	"context"
	"encoding/json"
	"time"

	"github.com/acme/crm/internal/crm"
)

// Service implements the customer use cases over a store.
type Service struct {
	Store crm.Store
	Now   func() time.Time

	mergeFault mergeFault // tests: fail a merge between its steps
}

// New returns a Service with the real clock.
func New(s crm.Store) *Service { return &Service{Store: s, Now: time.Now} }

// now is the service's clock in UTC.
func (s *Service) now() time.Time { return s.Now().UTC() }

// log writes one activity entry.
func log(ctx context.Context, st crm.Store, actor *crm.User, customerID int64, kind string, data any, at time.Time) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	a := &crm.Activity{CustomerID: customerID, Kind: kind, Data: b, At: at}
	if actor != nil {
		a.Actor = &crm.UserRef{ID: actor.ID, Name: actor.Name, Email: actor.Email}
	}
	return st.AddActivity(ctx, a)
}
