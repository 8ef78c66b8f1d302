package customers_test

import (
	"errors"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// Behind the HTTP edge, the services refuse NUL and invalid UTF-8 themselves
// (for the CLI, jobs and any other caller): crm.Invalid naming the field, on
// both engines alike, never a database error.
func TestServicesRefuseInvalidText(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		s := customers.New(db)
		admin := &crm.User{Email: "ada@example.com", Name: "Ada", Role: crm.RoleAdmin, Active: true, PasswordHash: "x", CreatedAt: time.Now()}
		if err := db.CreateUser(ctx, admin); err != nil {
			t.Fatal(err)
		}
		c, err := s.Create(ctx, admin, customers.NewCustomer{FullName: "Ann Berg"})
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"a\x00b", "a\xffb"} {
			str := func() *string { v := bad; return &v }
			calls := map[string]func() error{
				"full_name": func() error { _, err := s.Create(ctx, admin, customers.NewCustomer{FullName: bad}); return err },
				"tags":      func() error { _, err := s.AddTags(ctx, admin, c.ID, []string{"ok", bad}); return err },
				"name":      func() error { _, err := s.CreateSegment(ctx, admin, bad); return err },
				"body":      func() error { _, err := s.AddNote(ctx, admin, c.ID, bad); return err },
				"title":     func() error { _, err := s.AddTask(ctx, admin, c.ID, customers.TaskInput{Title: str()}); return err },
				"value": func() error {
					_, err := s.AddContact(ctx, admin, c.ID, customers.ContactInput{Channel: crm.ChannelOther, Value: bad}, false)
					return err
				},
			}
			for field, call := range calls {
				err := call()
				var e *crm.Error
				var fe crm.FieldErrors
				switch {
				case errors.As(err, &fe) && len(fe) > 0 && fe[0].Field == field:
				case errors.As(err, &e) && e.Code == crm.CodeInvalid && e.Field == field:
				default:
					t.Errorf("%q as %s: %v", bad, field, err)
				}
			}
			if _, err := s.CreateCompany(ctx, admin, customers.CompanyInput{Name: bad}); crm.CodeOf(err) != crm.CodeInvalid {
				t.Errorf("company %q: %v", bad, err)
			}
		}
	})
}
