package customers_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// TestWritesToAMergedCustomerAreRefused: a drawer opened before a merge
// (a stale tab, a script) writes to the secondary: each write is refused
// with a conflict naming the customer it was merged into, and nothing is
// written to the archived secondary, where it would never be seen again.
func TestWritesToAMergedCustomerAreRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		svc := customers.New(db)
		admin := mkUser(t, db, "boss@example.com", crm.RoleAdmin)
		a, err := svc.Create(ctx, admin, customers.NewCustomer{FullName: "Alma Primary"})
		if err != nil {
			t.Fatal(err)
		}
		b, err := svc.Create(ctx, admin, customers.NewCustomer{FullName: "Bert Secondary"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.Merge(ctx, admin, a.ID, []int64{b.ID}, true); err != nil {
			t.Fatal(err)
		}
		name, title := "Renamed", "Call back"
		writes := map[string]func() error{
			"edit": func() error { _, err := svc.Update(ctx, admin, b.ID, customers.Patch{FullName: &name}); return err },
			"tag":  func() error { _, err := svc.AddTags(ctx, admin, b.ID, []string{"late"}); return err },
			"note": func() error { _, err := svc.AddNote(ctx, admin, b.ID, "late note"); return err },
			"task": func() error { _, err := svc.AddTask(ctx, admin, b.ID, customers.TaskInput{Title: &title}); return err },
			"deal": func() error { _, err := svc.AddDeal(ctx, admin, b.ID, customers.DealInput{Title: &title}); return err },
			"contact": func() error {
				_, err := svc.AddContact(ctx, admin, b.ID, customers.ContactInput{Channel: crm.ChannelEmail, Value: "late@example.com"}, false)
				return err
			},
		}
		for what, write := range writes {
			err := write()
			if crm.CodeOf(err) != crm.CodeConflict || !strings.Contains(err.Error(), "Alma Primary") {
				t.Errorf("%s on the merged customer: %v", what, err)
			}
		}
		sec, err := db.GetCustomer(ctx, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		notes, _ := db.ListNotes(ctx, b.ID)
		if sec.FullName != "Bert Secondary" || len(sec.Tags) != 0 || len(notes) != 0 || len(sec.Contacts) != 0 {
			t.Errorf("the merged customer was written to: %+v, %d notes", sec, len(notes))
		}
	})
}

// TestWritesMeetACustomerMerge: a note, a tag and a contact written to a
// customer at the moment it is merged into another, many rounds: each
// write either lands and is on the primary after the merge, or is refused
// with a conflict; none is accepted and then lost on the archived
// secondary (it was, in 21-24 of 40 rounds on PostgreSQL, before writes
// locked the customer).
func TestWritesMeetACustomerMerge(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		svc := customers.New(db)
		admin := mkUser(t, db, "boss@example.com", crm.RoleAdmin)
		for round := range 25 {
			var ids [2]int64
			for i := range ids {
				c, err := svc.Create(ctx, admin, customers.NewCustomer{FullName: fmt.Sprintf("Round %d person %d", round, i)})
				if err != nil {
					t.Fatal(err)
				}
				ids[i] = c.ID
			}
			a, b := ids[0], ids[1]
			var errs [4]error
			together(
				func() { _, _, errs[0] = svc.Merge(ctx, admin, a, []int64{b}, true) },
				func() { _, errs[1] = svc.AddNote(ctx, admin, b, "late note") },
				func() { _, errs[2] = svc.AddTags(ctx, admin, b, []string{"late"}) },
				func() {
					_, errs[3] = svc.AddContact(ctx, admin, b, customers.ContactInput{Channel: crm.ChannelPhone, Value: fmt.Sprintf("+4930%07d", round)}, false)
				},
			)
			if errs[0] != nil {
				t.Fatalf("round %d: merge: %v", round, errs[0])
			}
			for i, err := range errs[1:] {
				if err != nil && crm.CodeOf(err) != crm.CodeConflict {
					t.Fatalf("round %d: write %d: %v", round, i+1, err)
				}
			}
			pri, err := db.GetCustomer(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			notes, err := db.ListNotes(ctx, a)
			if err != nil {
				t.Fatal(err)
			}
			if errs[1] == nil && len(notes) == 0 {
				t.Errorf("round %d: the note was accepted and is not on the primary", round)
			}
			if errs[2] == nil && !slices.Contains(pri.Tags, "late") {
				t.Errorf("round %d: the tag was accepted and is not on the primary", round)
			}
			if errs[3] == nil && !slices.ContainsFunc(pri.Contacts, func(k crm.Contact) bool { return k.Channel == crm.ChannelPhone }) {
				t.Errorf("round %d: the contact was accepted and is not on the primary", round)
			}
		}
	})
}

// TestTwoContactRemovalsAtOnce: two of a customer's three e-mail addresses,
// the primary among them, are removed at the same moment, many rounds: the
// one left is the primary, and the table's primary e-mail is that one. Each
// removal chose a successor among the others, which the other removal was
// changing, and on PostgreSQL the customer could end with no primary and a
// blank primary e-mail.
func TestTwoContactRemovalsAtOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		svc := customers.New(db)
		admin := mkUser(t, db, "boss@example.com", crm.RoleAdmin)
		for round := range 20 {
			c, err := svc.Create(ctx, admin, customers.NewCustomer{FullName: fmt.Sprintf("Three Mails %d", round),
				Contact: &customers.ContactInput{Channel: crm.ChannelEmail, Value: fmt.Sprintf("first%d@example.com", round)}})
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, k := range c.Contacts {
				ids = append(ids, k.ID)
			}
			for _, v := range []string{"second", "third"} {
				k, err := svc.AddContact(ctx, admin, c.ID, customers.ContactInput{Channel: crm.ChannelEmail, Value: fmt.Sprintf("%s%d@example.com", v, round)}, false)
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, k.ID)
			}
			var errs [2]error
			together(
				func() { errs[0] = svc.RemoveContact(ctx, admin, ids[0]) }, // the primary
				func() { errs[1] = svc.RemoveContact(ctx, admin, ids[1]) },
			)
			if errs[0] != nil || errs[1] != nil {
				t.Fatalf("round %d: %v", round, errs)
			}
			got, err := db.GetCustomer(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("third%d@example.com", round)
			if len(got.Contacts) != 1 || !got.Contacts[0].Primary || got.Contacts[0].Value != want || got.PrimaryEmail != want {
				t.Fatalf("round %d: contacts %+v, primary e-mail %q", round, got.Contacts, got.PrimaryEmail)
			}
		}
	})
}
