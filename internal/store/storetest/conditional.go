package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
)

// testBulkChangesAreConditional: bulk owner and archive changes touch only
// the customers still in the state they were decided on, and say which.
func testBulkChangesAreConditional(t *testing.T, s crm.Store) {
	a, b := newUser(t, s, "a@example.com", crm.RoleMember), newUser(t, s, "b@example.com", crm.RoleMember)
	free, owned, archived, merged := newCustomer(t, s, "Free", t0), newCustomer(t, s, "Owned", t0), newCustomer(t, s, "Archived", t0), newCustomer(t, s, "Merged", t0)
	at := t0.Add(time.Hour)
	_, err := s.SetOwner(ctx, owned, &a.ID, crm.OwnerExpectation{}, t0)
	must(t, err)
	must(t, s.SetArchived(ctx, archived, &at, nil, at))
	must(t, s.SetArchived(ctx, merged, &at, &free, at))
	all := []int64{merged, archived, owned, free, 99999} // any order, one missing
	want := func(what string, got []int64, err error, ids ...int64) {
		t.Helper()
		must(t, err)
		slices.Sort(ids)
		if !slices.Equal(got, ids) {
			t.Fatalf("%s changed %v, want %v", what, got, ids)
		}
	}
	got, err := s.BulkSetOwner(ctx, all, &b.ID, crm.OwnerExpectation{}, at)
	want("claim of the unclaimed", got, err, free)
	got, err = s.BulkSetOwner(ctx, all, nil, crm.OwnerExpectation{UserID: &a.ID}, at)
	want("release of a's", got, err, owned)
	got, err = s.BulkSetOwner(ctx, all, &a.ID, crm.OwnerExpectation{Any: true}, at)
	want("reassign of any active", got, err, free, owned)
	got, err = s.BulkSetOwner(ctx, nil, &a.ID, crm.OwnerExpectation{Any: true}, at)
	want("nothing", got, err)

	got, err = s.BulkSetArchived(ctx, all, &at, crm.OwnerExpectation{}, at)
	want("archive of the unclaimed active", got, err)
	got, err = s.BulkSetArchived(ctx, all, &at, crm.OwnerExpectation{UserID: &a.ID}, at)
	want("archive of a's active", got, err, free, owned)
	got, err = s.BulkSetArchived(ctx, all, nil, crm.OwnerExpectation{UserID: &b.ID}, at)
	want("restore of b's", got, err)
	got, err = s.BulkSetArchived(ctx, all, nil, crm.OwnerExpectation{Any: true}, at)
	want("restore of any archived but merged", got, err, free, owned, archived)
	if c, _ := s.GetCustomer(ctx, merged); c.ArchivedAt == nil || c.MergedInto == nil || c.Owner != nil {
		t.Fatalf("a merged customer was changed: %+v", c)
	}
}

// testMergeIsConditional: a merge changes nothing unless the primary and
// every secondary are still active; customers merged into a secondary
// before point at the primary after; locking happens in a transaction.
func testMergeIsConditional(t *testing.T, s crm.Store) {
	p, sec, old := newCustomer(t, s, "Primary", t0), newCustomer(t, s, "Secondary", t0), newCustomer(t, s, "Old", t0)
	at := t0.Add(time.Hour)
	must(t, s.SetArchived(ctx, old, &at, &sec, at))
	if err := s.LockCustomers(ctx, []int64{p}); err == nil {
		t.Fatal("LockCustomers outside a transaction did not fail")
	}
	must(t, s.InTx(ctx, func(tx crm.Store) error {
		if err := tx.LockCustomers(ctx, []int64{sec, p, 99999, old}); err != nil {
			return err
		}
		return tx.MergeInto(ctx, p, []int64{sec}, at)
	}))
	for id, into := range map[int64]int64{sec: p, old: p} {
		if c, _ := s.GetCustomer(ctx, id); c.ArchivedAt == nil || c.MergedInto == nil || *c.MergedInto != into {
			t.Fatalf("%s: archived %v, merged into %v, want %d", c.FullName, c.ArchivedAt, c.MergedInto, into)
		}
	}
	other := newCustomer(t, s, "Other", t0)
	for name, m := range map[string]struct {
		primary int64
		secs    []int64
	}{
		"the same merge again":       {p, []int64{sec}},
		"into a merged customer":     {sec, []int64{other}},
		"an active and a merged one": {other, []int64{p, sec}},
	} {
		err := s.InTx(ctx, func(tx crm.Store) error { return tx.MergeInto(ctx, m.primary, m.secs, at) })
		wantCode(t, err, crm.CodeConflict)
		if c, _ := s.GetCustomer(ctx, p); c.ArchivedAt != nil {
			t.Fatalf("%s: a refused merge archived the primary", name)
		}
	}
}
