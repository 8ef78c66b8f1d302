package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
)

// testExport: an export holds exactly what the drawer shows of each
// customer, whatever characters the values hold, in id order and in chunks.
func testExport(t *testing.T, s crm.Store) {
	u := newUser(t, s, "owner@example.com", crm.RoleMember)
	co := &crm.Company{Name: "Acme: 12:34, \"Ltd\"", CreatedAt: t0}
	must(t, s.CreateCompany(ctx, co))
	tags, err := s.EnsureTags(ctx, []string{"b,tag", "A:1", "ü 3:"}, t0)
	must(t, err)
	seg := &crm.Segment{Name: "S", CreatedAt: t0}
	must(t, s.CreateSegment(ctx, seg))
	p := &crm.Product{Key: "crm", Name: "CRM"}
	must(t, s.CreateProduct(ctx, p))
	f := &crm.CustomField{Key: "note", Label: "Note", Type: crm.FieldText, CreatedAt: t0}
	must(t, s.CreateCustomField(ctx, f))
	n := &crm.CustomField{Key: "size", Label: "Size", Type: crm.FieldNumber, CreatedAt: t0}
	must(t, s.CreateCustomField(ctx, n))

	var ids []int64
	for i, name := range []string{"5:ab,c", "Zoë\nMüller", "", "Plain", "Gone"} {
		if name == "" {
			name = "x:" // after a number, a colon
		}
		id, err := s.CreateCustomer(ctx, crm.NewCustomer{FullName: name, FirstName: name + ":", LastName: "1:", Language: "de",
			Country: "DE", Timezone: "Europe/Berlin", CreatedAt: t0.Add(time.Duration(i) * time.Hour)})
		must(t, err)
		ids = append(ids, id)
	}
	a, b := ids[0], ids[1]
	must(t, s.UpdateCustomer(ctx, a, crm.CustomerPatch{CompanyID: ptr(&co.ID)}, t0))
	if ok, err := s.SetOwner(ctx, a, &u.ID, crm.OwnerExpectation{}, t0); !ok || err != nil {
		t.Fatal("claim", err)
	}
	for _, k := range []*crm.Contact{
		{CustomerID: a, Channel: crm.ChannelPhone, Value: "+4915112345678"},
		{CustomerID: a, Channel: crm.ChannelEmail, Value: "first@example.com"},
		{CustomerID: a, Channel: crm.ChannelEmail, Value: "second@example.com"},
		{CustomerID: a, Channel: crm.ChannelWebsite, Value: "https://example.com/a:b,c"},
		{CustomerID: a, Channel: crm.ChannelPhone, Value: "+4915112345679"},
		{CustomerID: b, Channel: crm.ChannelEmail, Value: "b@example.com"},
		{CustomerID: b, Channel: crm.ChannelEmail, Value: "removed@example.com"},
	} {
		must(t, s.AddContact(ctx, k, t0))
		switch k.Value {
		case "second@example.com":
			must(t, s.MakePrimary(ctx, k.ID, t0))
		case "b@example.com":
			must(t, s.SetSuppression(ctx, k.Channel, k.Value, &crm.Suppression{Reason: crm.ReasonBounce, At: t0},
				crm.SuppressionEvent{ContactID: k.ID, Action: "suppress", Reason: crm.ReasonBounce, At: t0}))
			// a suppressed address shows on a contact added after it (the export reads it by address)
			must(t, s.SetSuppression(ctx, crm.ChannelPhone, "+4915112345679", &crm.Suppression{Reason: crm.ReasonDoNotContact, At: t0},
				crm.SuppressionEvent{Action: "suppress", Reason: crm.ReasonDoNotContact, At: t0}))
		case "removed@example.com":
			must(t, s.RemoveContact(ctx, k.ID, t0))
		}
	}
	_, err = s.AddCustomerTags(ctx, a, []int64{tags[0].ID, tags[1].ID, tags[2].ID}, t0)
	must(t, err)
	_, err = s.AddSegmentMembers(ctx, seg.ID, []int64{a, b}, t0)
	must(t, err)
	must(t, s.SetScore(ctx, a, p.ID, ptr(42), t0))
	must(t, s.SetCustomValue(ctx, a, f.ID, ptr(`"line 1:\nline \"2\", 3"`), t0))
	must(t, s.SetCustomValue(ctx, a, n.ID, ptr(`12.5`), t0))
	must(t, s.SetCustomValue(ctx, b, f.ID, ptr(`"plain"`), t0))
	gone := t0.Add(48 * time.Hour)
	must(t, s.SetArchived(ctx, ids[4], &gone, nil, gone))

	export := func(filter crm.CustomerFilter, chunk int) []crm.Customer {
		var got []crm.Customer
		must(t, s.ExportCustomers(ctx, filter, chunk, func(cs []crm.Customer) error {
			if len(cs) > chunk {
				t.Fatalf("a chunk of %d, asked for %d", len(cs), chunk)
			}
			got = append(got, cs...)
			return nil
		}))
		return got
	}
	// what the drawer shows, in the terms of an export
	summary := func(c crm.Customer) string {
		company, owner := "", ""
		if c.Company != nil {
			company = c.Company.Name
		}
		if c.Owner != nil {
			owner = c.Owner.Email
		}
		var contacts []string
		for _, k := range c.Contacts {
			supp := ""
			if k.Suppression != nil {
				supp = string(k.Suppression.Reason)
			}
			contacts = append(contacts, fmt.Sprintf("%s %q %v %s", k.Channel, k.Value, k.Primary, supp))
		}
		archived := "-"
		if c.ArchivedAt != nil {
			archived = c.ArchivedAt.UTC().Format(time.RFC3339)
		}
		return fmt.Sprintf("%d %q %q %q %s %s %s %q %q %q %v %v %v %v %v %s %s %s", c.ID, c.FullName, c.FirstName, c.LastName,
			c.Language, c.Country, c.Timezone, company, owner, contacts, c.Tags, c.Segments, c.Scores, c.Custom, c.HasInbound,
			c.CreatedAt.UTC().Format(time.RFC3339), c.UpdatedAt.UTC().Format(time.RFC3339), archived)
	}
	for _, chunk := range []int{1, 2, 100} {
		got := export(crm.CustomerFilter{Archived: crm.ArchivedAll}, chunk)
		if len(got) != len(ids) {
			t.Fatalf("chunk %d: exported %d customers, want %d", chunk, len(got), len(ids))
		}
		for i, c := range got {
			full, err := s.GetCustomer(ctx, ids[i])
			must(t, err)
			if summary(c) != summary(*full) {
				t.Fatalf("chunk %d: exported\n%s\nthe drawer has\n%s", chunk, summary(c), summary(*full))
			}
		}
	}
	// GetCustomers: each customer of a batch whole and its own, as
	// GetCustomer has it, in id order, without repeats or unknown ids
	batch, err := s.GetCustomers(ctx, []int64{ids[3], ids[0], 987654, ids[4], ids[0], ids[1], ids[2]})
	must(t, err)
	if len(batch) != len(ids) {
		t.Fatalf("GetCustomers gave %d customers, want %d", len(batch), len(ids))
	}
	for i, c := range batch {
		one, err := s.GetCustomer(ctx, ids[i])
		must(t, err)
		if !reflect.DeepEqual(c, one) {
			t.Fatalf("GetCustomers has\n%+v\nGetCustomer has\n%+v", c, one)
		}
	}
	if none, err := s.GetCustomers(ctx, nil); err != nil || len(none) != 0 {
		t.Fatalf("GetCustomers(nil) = %v, %v", none, err)
	}
	// the filter's meaning, with a sparse selection of ids
	got := export(crm.CustomerFilter{IDs: []int64{ids[4], ids[0], ids[3]}}, 10)
	var gotIDs []int64
	for _, c := range got {
		gotIDs = append(gotIDs, c.ID)
	}
	if !slices.Equal(gotIDs, []int64{ids[0], ids[3]}) {
		t.Fatalf("selection of active customers exported %v", gotIDs)
	}
	// fn's error stops the export and is returned
	stop := fmt.Errorf("stop")
	calls := 0
	err = s.ExportCustomers(ctx, crm.CustomerFilter{Archived: crm.ArchivedAll}, 1, func([]crm.Customer) error {
		calls++
		return stop
	})
	if err != stop || calls != 1 {
		t.Fatalf("stopped export: %v after %d calls", err, calls)
	}
}
