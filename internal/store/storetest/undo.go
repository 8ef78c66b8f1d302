package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
)

// testBulkUndo: a bulk action's record, its changes paged by whole
// customers, the undo's unique marker, and the conditional writes of undo.
func testBulkUndo(t *testing.T, s crm.Store) {
	a, b := newUser(t, s, "a@example.com", crm.RoleMember), newUser(t, s, "b@example.com", crm.RoleAdmin)
	must(t, s.CreateBulkAction(ctx, &crm.BulkAction{ID: 7, UserID: a.ID, Action: "tag", Detail: "vip", CreatedAt: t0}))
	must(t, s.CreateBulkAction(ctx, &crm.BulkAction{ID: 7, UserID: b.ID, Action: "archive", CreatedAt: t0.Add(time.Hour)})) // no-op
	must(t, s.CreateBulkAction(ctx, &crm.BulkAction{ID: 8, UserID: b.ID, Action: "archive", CreatedAt: t0.Add(time.Minute)}))
	got, err := s.GetBulkAction(ctx, 7)
	must(t, err)
	if got.UserID != a.ID || got.Action != "tag" || got.Detail != "vip" || !got.CreatedAt.Equal(t0) || got.FinishedAt != nil || got.UndoRequestedAt != nil {
		t.Fatalf("bulk action %+v", got)
	}
	if _, err := s.GetBulkAction(ctx, 9); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("missing bulk action: %v", err)
	}
	must(t, s.UpdateBulkAction(ctx, 7, 3, nil))
	must(t, s.UpdateBulkAction(ctx, 7, 5, &t0))
	later := t0.Add(time.Hour)
	must(t, s.UpdateBulkAction(ctx, 7, 5, &later)) // the first finish stays
	got, _ = s.GetBulkAction(ctx, 7)
	if got.Done != 5 || got.FinishedAt == nil || !got.FinishedAt.Equal(t0) {
		t.Fatalf("updated bulk action %+v", got)
	}
	list, err := s.ListBulkActions(ctx, 0, t0, 10)
	must(t, err)
	if len(list) != 2 || list[0].ID != 8 || list[1].ID != 7 {
		t.Fatalf("everyone's: %+v", list)
	}
	if list, _ := s.ListBulkActions(ctx, a.ID, t0, 10); len(list) != 1 || list[0].ID != 7 {
		t.Fatalf("a's: %+v", list)
	}
	if list, _ := s.ListBulkActions(ctx, 0, t0.Add(time.Second), 10); len(list) != 1 || list[0].ID != 8 {
		t.Fatalf("since: %+v", list)
	}

	c1, c2, c3 := newCustomer(t, s, "One", t0), newCustomer(t, s, "Two", t0), newCustomer(t, s, "Three", t0)
	old, nw := "12", "13"
	must(t, s.AddBulkChanges(ctx, 7, []int64{c3, c1, c2}, "owner", &old, &nw))
	must(t, s.AddBulkChanges(ctx, 7, []int64{c1, c2}, "tag:5", nil, &nw))
	page, err := s.BulkChanges(ctx, 7, 0, 2)
	must(t, err)
	if len(page) != 4 || page[0].CustomerID != c1 || page[3].CustomerID != c2 || *page[0].Old != "12" || *page[0].New != "13" || page[1].Old != nil {
		t.Fatalf("first page %+v", page)
	}
	page, _ = s.BulkChanges(ctx, 7, c2, 2)
	if len(page) != 1 || page[0].CustomerID != c3 {
		t.Fatalf("second page %+v", page)
	}
	if page, _ := s.BulkChanges(ctx, 7, c3, 2); len(page) != 0 {
		t.Fatalf("past the end %+v", page)
	}

	must(t, s.ClaimBulkUndo(ctx, 7, t0))
	if err := s.ClaimBulkUndo(ctx, 7, t0); !errors.Is(err, crm.ErrConflict) {
		t.Fatalf("second undo: %v", err)
	}
	if err := s.ClaimBulkUndo(ctx, 99, t0); !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("undo of nothing: %v", err)
	}
	must(t, s.SetBulkUndoJob(ctx, 7, nil))
	must(t, s.ClaimBulkUndo(ctx, 7, t0))
	job := int64(42)
	must(t, s.SetBulkUndoJob(ctx, 7, &job))
	if got, _ := s.GetBulkAction(ctx, 7); got.UndoJobID == nil || *got.UndoJobID != 42 || got.UndoRequestedAt == nil {
		t.Fatalf("undo job %+v", got)
	}

	at := t0.Add(2 * time.Hour)
	must(t, s.SetArchived(ctx, c1, &at, nil, at))
	must(t, s.SetArchived(ctx, c2, &later, nil, later))
	restored, err := s.BulkUnarchive(ctx, []int64{c1, c2, c3}, at, at)
	must(t, err)
	if !slices.Equal(restored, []int64{c1}) {
		t.Fatalf("unarchived %v, want only the one archived at that time", restored)
	}
	tags, err := s.EnsureTags(ctx, []string{"vip"}, t0)
	must(t, err)
	_, err = s.AddCustomerTags(ctx, c3, []int64{tags[0].ID}, t0)
	must(t, err)
	_, err = s.AddCustomerTags(ctx, c1, []int64{tags[0].ID}, t0)
	must(t, err)
	removed, err := s.BulkRemoveTag(ctx, []int64{c3, c2, c1}, tags[0].ID, at)
	must(t, err)
	if !slices.Equal(removed, []int64{c1, c3}) {
		t.Fatalf("tag removed from %v", removed)
	}
	if c, _ := s.GetCustomer(ctx, c3); len(c.Tags) != 0 {
		t.Fatalf("tags left %v", c.Tags)
	}
}
