package customers_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

var ctx = context.Background()

type counts struct{ contacts, deals, notes, tasks, messages, tags, activity int }

func (c counts) String() string {
	return fmt.Sprintf("%+v", struct{ C, D, N, T, M, Tags, A int }{c.contacts, c.deals, c.notes, c.tasks, c.messages, c.tags, c.activity})
}

func countOf(t *testing.T, db *store.DB, ids ...int64) (counts, map[string]bool) {
	t.Helper()
	var n counts
	tags := map[string]bool{}
	for _, id := range ids {
		c, err := db.GetCustomer(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		n.contacts += len(c.Contacts)
		for _, tg := range c.Tags {
			tags[strings.ToLower(tg)] = true
		}
		d, _ := db.ListDeals(ctx, id)
		nt, _ := db.ListNotes(ctx, id)
		tk, _ := db.ListTasks(ctx, id)
		m, _ := db.ListMessages(ctx, id, 1000)
		a, _ := db.ListActivity(ctx, id, 0, 500)
		n.deals, n.notes, n.tasks, n.messages, n.activity = n.deals+len(d), n.notes+len(nt), n.tasks+len(tk), n.messages+len(m), n.activity+len(a)
	}
	n.tags = len(tags)
	return n, tags
}

// setup makes a primary and two secondaries with overlapping contacts, one
// suppressed duplicate, records, tags, segments and fields to fill.
func setup(t *testing.T, db *store.DB, svc *customers.Service, admin *crm.User) (int64, []int64) {
	t.Helper()
	de, fr := "DE", "FR"
	p, err := svc.Create(ctx, admin, customers.NewCustomer{FullName: "Anna Primary", Contact: &customers.ContactInput{Channel: crm.ChannelEmail, Value: "anna@example.com"}, Tags: []string{"vip"}})
	if err != nil {
		t.Fatal(err)
	}
	s1, err := svc.Create(ctx, admin, customers.NewCustomer{FullName: "Anna Dup", Country: de, Language: "de", CompanyName: "Globex",
		Contact: &customers.ContactInput{Channel: crm.ChannelEmail, Value: "anna@example.com"}, Tags: []string{"VIP", "trial"}})
	if err != nil {
		t.Fatal(err)
	}
	s2, err := svc.Create(ctx, admin, customers.NewCustomer{FullName: "A. Primary", Country: fr, Contact: &customers.ContactInput{Channel: crm.ChannelPhone, Value: "+33 1 23 45 67 89"}})
	if err != nil {
		t.Fatal(err)
	}
	// the duplicate copy of the address on s1 is suppressed, with history
	k := s1.Contacts[0]
	if _, err := svc.Suppress(ctx, admin, k.ID, crm.ReasonUnsubscribe, "asked"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddContact(ctx, admin, s1.ID, customers.ContactInput{Channel: crm.ChannelEmail, Value: "anna.work@globex.com"}, false); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{s1.ID, s2.ID} {
		title := "Deal " + fmt.Sprint(id)
		if _, err := svc.AddDeal(ctx, admin, id, customers.DealInput{Title: &title}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AddNote(ctx, admin, id, "note"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AddTask(ctx, admin, id, customers.TaskInput{Title: &title}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.AddMessage(ctx, &crm.Message{CustomerID: s2.ID, Direction: crm.Inbound, Channel: crm.ChannelPhone, Status: "received", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	sg, _ := svc.CreateSegment(ctx, admin, "Webinar")
	if _, err := db.AddSegmentMembers(ctx, sg.ID, []int64{s2.ID}, time.Now()); err != nil {
		t.Fatal(err)
	}
	return p.ID, []int64{s1.ID, s2.ID}
}

func TestMergeInvariants(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		svc := customers.New(db)
		admin := &crm.User{Email: "boss@example.com", Name: "Boss", Role: crm.RoleAdmin, Active: true, CreatedAt: time.Now()}
		if err := db.CreateUser(ctx, admin); err != nil {
			t.Fatal(err)
		}
		p, secs := setup(t, db, svc, admin)
		before, tagsBefore := countOf(t, db, append([]int64{p}, secs...)...)

		plan, err := svc.PreviewMerge(ctx, admin, p, secs)
		if err != nil {
			t.Fatal(err)
		}
		if len(plan.Contacts) != 3 || !plan.Contacts[0].Collapses || !plan.Contacts[0].Suppressed || plan.Deals != 2 || plan.Fill["country"] != "DE" {
			t.Fatalf("plan %+v", plan)
		}
		if _, _, err := svc.Merge(ctx, admin, p, secs, false); crm.CodeOf(err) != crm.CodeInvalid {
			t.Fatalf("merge without confirm: %v", err)
		}
		merged, _, err := svc.Merge(ctx, admin, p, secs, true)
		if err != nil {
			t.Fatal(err)
		}
		after, tagsAfter := countOf(t, db, p)
		secAfter, _ := countOf(t, db, secs...)
		// contacts: the suppressed duplicate collapsed into one, which stays suppressed with its history
		if after.contacts != before.contacts-1 || secAfter.contacts != 0 {
			t.Fatalf("contacts before %d, after %d (secondaries %d)", before.contacts, after.contacts, secAfter.contacts)
		}
		if after.deals != before.deals || after.notes != before.notes || after.tasks != before.tasks || after.messages != before.messages || len(tagsAfter) != len(tagsBefore) {
			t.Fatalf("records do not add up: before %v after %v", before, after)
		}
		var anna *crm.Contact
		for i, k := range merged.Contacts {
			if k.Value == "anna@example.com" {
				anna = &merged.Contacts[i]
			}
		}
		hist, _ := db.ListSuppressionEvents(ctx, crm.ChannelEmail, "anna@example.com")
		if anna == nil || anna.Suppression == nil || len(hist) != 1 {
			t.Fatalf("survivor %+v history %+v", anna, hist)
		}
		if merged.Country != "DE" || merged.Language != "de" || merged.Company == nil || merged.Company.Name != "Globex" || !merged.HasInbound || len(merged.Segments) != 1 {
			t.Fatalf("merged primary %+v", merged) // the primary's empty country is filled from the first secondary: DE
		}
		for _, id := range secs {
			c, _ := db.GetCustomer(ctx, id)
			if c.ArchivedAt == nil || c.MergedInto == nil || *c.MergedInto != p || c.HasInbound {
				t.Fatalf("secondary %+v", c)
			}
			acts, _ := db.ListActivity(ctx, id, 0, 100)
			if acts[0].Kind != crm.ActMergedInto || len(acts) < 3 {
				t.Fatalf("secondary %d log %+v", id, acts)
			}
			if _, err := svc.Restore(ctx, admin, id); crm.CodeOf(err) != crm.CodeConflict {
				t.Fatalf("restore of a merged customer: %v", err)
			}
		}
		acts, _ := db.ListActivity(ctx, p, 0, 10)
		if acts[0].Kind != crm.ActMergedFrom {
			t.Fatalf("primary log %+v", acts[0])
		}
	})
}

func TestMergeFailureHalfwayChangesNothing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		svc := customers.New(db)
		admin := &crm.User{Email: "boss@example.com", Name: "Boss", Role: crm.RoleAdmin, Active: true, CreatedAt: time.Now()}
		if err := db.CreateUser(ctx, admin); err != nil {
			t.Fatal(err)
		}
		p, secs := setup(t, db, svc, admin)
		all := append([]int64{p}, secs...)
		snapshot := func() string {
			var b strings.Builder
			for _, id := range all {
				c, _ := db.GetCustomer(ctx, id)
				n, _ := countOf(t, db, id)
				fmt.Fprintf(&b, "%d %s %v %v %v %v %v %v|", id, n, c.ArchivedAt, c.MergedInto, c.Tags, c.Segments, c.Country, c.PrimaryEmail)
				for _, k := range c.Contacts {
					fmt.Fprintf(&b, "%d:%s:%v:%v,", k.ID, k.Value, k.Primary, k.Suppression != nil)
				}
			}
			return b.String()
		}
		before := snapshot()
		boom := errors.New("disk full")
		for _, step := range []string{"moved", "filled"} {
			customers.SetMergeFault(svc, step, boom)
			if _, _, err := svc.Merge(ctx, admin, p, secs, true); !errors.Is(err, boom) {
				t.Fatalf("merge failing after %s: %v", step, err)
			}
			if after := snapshot(); after != before {
				t.Fatalf("a merge that failed after %q changed rows:\nbefore %s\nafter  %s", step, before, after)
			}
		}
	})
}

func TestMergeRefusals(t *testing.T) {
	db := testdb.Open(t, "sqlite")
	svc := customers.New(db)
	admin := &crm.User{Email: "boss@example.com", Name: "Boss", Role: crm.RoleAdmin, Active: true, CreatedAt: time.Now()}
	member := &crm.User{Email: "mia@example.com", Name: "Mia", Role: crm.RoleMember, Active: true, CreatedAt: time.Now()}
	for _, u := range []*crm.User{admin, member} {
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	var ids []int64
	for i := range 12 {
		c, err := svc.Create(ctx, admin, customers.NewCustomer{FullName: fmt.Sprintf("C%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	owned, _ := svc.Create(ctx, admin, customers.NewCustomer{FullName: "Admin's", OwnerID: &admin.ID})
	archived, _ := svc.Create(ctx, admin, customers.NewCustomer{FullName: "Old"})
	if _, err := svc.Archive(ctx, admin, archived.ID); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		actor   *crm.User
		primary int64
		secs    []int64
		code    crm.Code
		message string
	}{
		"one customer":         {admin, ids[0], nil, crm.CodeInvalid, "Merge 2 to 10"},
		"eleven customers":     {admin, ids[0], ids[1:11], crm.CodeInvalid, "this was 11"},
		"primary among others": {admin, ids[0], []int64{ids[1], ids[0]}, crm.CodeInvalid, "cannot also be merged"},
		"archived":             {admin, ids[0], []int64{archived.ID}, crm.CodeConflict, "archived"},
		"someone else's":       {member, ids[0], []int64{owned.ID}, crm.CodeForbidden, "owned by Boss"},
		"missing":              {admin, ids[0], []int64{999999}, crm.CodeInvalid, "No customer has the id 999999"},
	} {
		_, _, err := svc.Merge(ctx, tc.actor, tc.primary, tc.secs, true)
		if crm.CodeOf(err) != tc.code || !strings.Contains(err.Error(), tc.message) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, id := range ids {
		if c, _ := db.GetCustomer(ctx, id); c.ArchivedAt != nil {
			t.Fatal("a refused merge changed a customer")
		}
	}
}
