package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
)

// SavedViews checks who sees which view, the names that clash, that every
// write re-checks visibility in its statement, pins and defaults per user,
// and that a deleted view takes its pins and defaults with it.
func SavedViews(t *testing.T, s crm.Store) {
	ann := newUser(t, s, "ann@views.example", crm.RoleMember)
	bob := newUser(t, s, "bob@views.example", crm.RoleMember)

	mine := &crm.SavedView{Owner: crm.UserRef{ID: ann.ID}, Name: "My leads", Query: "owner=me&sort=name", Columns: []string{"name", "email"}, ScoreProduct: "crm", CreatedAt: t0}
	must(t, s.CreateView(ctx, mine))
	team := &crm.SavedView{Owner: crm.UserRef{ID: ann.ID}, Name: "Germany", Shared: true, Query: "country=DE", CreatedAt: t0}
	must(t, s.CreateView(ctx, team))

	got, err := s.GetView(ctx, mine.ID, ann.ID)
	must(t, err)
	if got.Name != "My leads" || got.Query != "owner=me&sort=name" || !slices.Equal(got.Columns, []string{"name", "email"}) ||
		got.ScoreProduct != "crm" || got.Owner.Name != ann.Name || got.Shared || !got.CreatedAt.Equal(t0) {
		t.Fatalf("read back %+v", got)
	}
	if g, err := s.GetView(ctx, team.ID, ann.ID); err != nil || g.Columns == nil || len(g.Columns) != 0 {
		t.Fatalf("no columns read back as %#v, %v", g, err)
	}
	// personal: invisible to bob, for reading and for every write
	_, err = s.GetView(ctx, mine.ID, bob.ID)
	wantCode(t, err, crm.CodeNotFound)
	wantCode(t, s.UpdateView(ctx, &crm.SavedView{ID: mine.ID, Name: "Stolen"}, bob.ID, t0), crm.CodeNotFound)
	wantCode(t, s.DeleteView(ctx, mine.ID, bob.ID), crm.CodeNotFound)
	wantCode(t, s.SetViewPin(ctx, bob.ID, mine.ID, true, t0), crm.CodeNotFound)
	wantCode(t, s.SetDefaultView(ctx, bob.ID, mine.ID), crm.CodeNotFound)
	if got, _ := s.GetView(ctx, mine.ID, ann.ID); got.Name != "My leads" {
		t.Fatalf("bob changed ann's personal view: %+v", got)
	}
	list, err := s.ListViews(ctx, bob.ID)
	must(t, err)
	if len(list) != 1 || list[0].ID != team.ID {
		t.Fatalf("bob sees %+v", list)
	}
	list, err = s.ListViews(ctx, ann.ID)
	must(t, err)
	if len(list) != 2 || list[0].Name != "Germany" || list[1].Name != "My leads" {
		t.Fatalf("ann sees %+v (by name)", list)
	}

	// names: unique per owner and among shared views, case-insensitively
	wantCode(t, s.CreateView(ctx, &crm.SavedView{Owner: crm.UserRef{ID: ann.ID}, Name: "MY LEADS", CreatedAt: t0}), crm.CodeConflict)
	wantCode(t, s.CreateView(ctx, &crm.SavedView{Owner: crm.UserRef{ID: bob.ID}, Name: "germany", Shared: true, CreatedAt: t0}), crm.CodeConflict)
	bobs := &crm.SavedView{Owner: crm.UserRef{ID: bob.ID}, Name: "my leads", CreatedAt: t0}
	must(t, s.CreateView(ctx, bobs)) // another owner's personal name is free
	wantCode(t, s.UpdateView(ctx, &crm.SavedView{ID: bobs.ID, Name: "Germany", Shared: true}, bob.ID, t0), crm.CodeConflict)

	// pins and defaults are each user's own
	must(t, s.SetViewPin(ctx, bob.ID, team.ID, true, t0))
	must(t, s.SetViewPin(ctx, bob.ID, team.ID, true, t0)) // twice is once
	must(t, s.SetDefaultView(ctx, bob.ID, team.ID))
	if g, _ := s.GetView(ctx, team.ID, bob.ID); !g.Pinned || !g.Default {
		t.Fatalf("bob's pin and default: %+v", g)
	}
	if g, _ := s.GetView(ctx, team.ID, ann.ID); g.Pinned || g.Default {
		t.Fatalf("bob's pin shows for ann: %+v", g)
	}
	d, err := s.DefaultView(ctx, bob.ID)
	must(t, err)
	if d.ID != team.ID {
		t.Fatalf("default %+v", d)
	}
	_, err = s.DefaultView(ctx, ann.ID)
	wantCode(t, err, crm.CodeNotFound)
	must(t, s.SetDefaultView(ctx, bob.ID, bobs.ID))
	if d, _ := s.DefaultView(ctx, bob.ID); d.ID != bobs.ID {
		t.Fatalf("one default per user: %+v", d)
	}
	must(t, s.SetDefaultView(ctx, bob.ID, team.ID))

	// a shared view made personal disappears for others, with their pin and default
	team.Shared, team.Name = false, "Germany (mine)"
	must(t, s.UpdateView(ctx, team, ann.ID, t0.Add(time.Second)))
	if list, _ := s.ListViews(ctx, bob.ID); len(list) != 1 || list[0].ID != bobs.ID {
		t.Fatalf("bob still sees %+v", list)
	}
	_, err = s.DefaultView(ctx, bob.ID)
	wantCode(t, err, crm.CodeNotFound)
	team.Shared = true
	must(t, s.UpdateView(ctx, team, ann.ID, t0.Add(2*time.Second)))
	if g, _ := s.GetView(ctx, team.ID, bob.ID); !g.Pinned || !g.Default || g.Name != "Germany (mine)" || !g.UpdatedAt.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("shared again: %+v", g)
	}
	// another user may write a shared view in the store (the rule of who
	// may is the service's); deleting takes pins and defaults with it
	must(t, s.DeleteView(ctx, team.ID, bob.ID))
	_, err = s.GetView(ctx, team.ID, ann.ID)
	wantCode(t, err, crm.CodeNotFound)
	_, err = s.DefaultView(ctx, bob.ID)
	wantCode(t, err, crm.CodeNotFound)
	must(t, s.SetViewPin(ctx, bob.ID, bobs.ID, true, t0))
	must(t, s.SetViewPin(ctx, bob.ID, bobs.ID, false, t0))
	if g, _ := s.GetView(ctx, bobs.ID, bob.ID); g.Pinned {
		t.Fatal("unpin kept the pin")
	}
}

// CountCustomersAsList checks that a view's count is the list's total, for
// filters of each shape the count takes (row conditions, one set, several
// sets, a search) and that a tag which does not exist counts nobody.
func CountCustomersAsList(t *testing.T, s crm.Store) {
	u := newUser(t, s, "counts@views.example", crm.RoleMember)
	tags, err := s.EnsureTags(ctx, []string{"vip", "churn"}, t0)
	must(t, err)
	var ids []int64
	for i := range 12 {
		id, err := s.CreateCustomer(ctx, crm.NewCustomer{FullName: []string{"Anna Berg", "Carl Dahl", "Eva Fors"}[i%3], Country: []string{"DE", "FR"}[i%2], CreatedAt: t0})
		must(t, err)
		ids = append(ids, id)
	}
	_, err = s.BulkAddTag(ctx, ids[:8], tags[0].ID, t0)
	must(t, err)
	_, err = s.BulkAddTag(ctx, ids[4:], tags[1].ID, t0)
	must(t, err)
	owner := u.ID
	_, err = s.SetOwner(ctx, ids[0], &owner, crm.OwnerExpectation{Any: true}, t0)
	must(t, err)
	for _, f := range []crm.CustomerFilter{
		{},
		{Countries: []string{"DE"}},
		{Owner: "user", OwnerID: u.ID},
		{Tags: []string{"VIP"}},
		{Tags: []string{"vip", "churn"}},
		{Tags: []string{"vip", "churn"}, TagsAll: true},
		{Tags: []string{"vip", "no-such-tag"}},
		{Tags: []string{"vip", "no-such-tag"}, TagsAll: true},
		{Tags: []string{"no-such-tag"}},
		{Q: "anna"},
		{Q: "anna", Tags: []string{"vip"}, Countries: []string{"DE"}},
		{Archived: crm.ArchivedOnly},
	} {
		page, err := s.FindCustomers(ctx, crm.CustomerQuery{Filter: f, Limit: 500})
		must(t, err)
		n, exact, err := s.CountCustomers(ctx, f)
		must(t, err)
		if n != page.Total || !exact || n != len(page.Items) {
			t.Errorf("filter %+v: count %d (exact %v), list %d with %d rows", f, n, exact, page.Total, len(page.Items))
		}
		if slices.Contains(f.Tags, "no-such-tag") && (len(f.Tags) == 1 || f.TagsAll) && n != 0 {
			t.Errorf("filter %+v: a tag that does not exist widened the count to %d", f, n)
		}
	}
}
