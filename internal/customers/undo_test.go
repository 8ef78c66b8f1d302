package customers_test

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// custState is what a bulk action may change of a customer.
type custState struct {
	Owner    int64
	Archived string
	Merged   int64
	Tags     string
	Segments string
}

func stateOf(t *testing.T, db *store.DB, id int64) custState {
	t.Helper()
	c, err := db.GetCustomer(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var s custState
	if c.Owner != nil {
		s.Owner = c.Owner.ID
	}
	if c.ArchivedAt != nil {
		s.Archived = c.ArchivedAt.UTC().Format(time.RFC3339Nano)
	}
	if c.MergedInto != nil {
		s.Merged = *c.MergedInto
	}
	tags := slices.Clone(c.Tags)
	slices.Sort(tags)
	s.Tags = strings.Join(tags, ",")
	segs := slices.Clone(c.Segments)
	slices.Sort(segs)
	s.Segments = fmt.Sprint(segs)
	return s
}

func statesOf(t *testing.T, db *store.DB, ids []int64) map[int64]custState {
	out := map[int64]custState{}
	for _, id := range ids {
		out[id] = stateOf(t, db, id)
	}
	return out
}

// TestUndoPutsBackWhatEachBulkActionChanged runs each bulk action, lets
// someone else change some of its customers afterwards, and undoes it: every
// customer is as it was before the action, except those changed since, which
// keep the later change and are skipped with a reason. Each undone customer
// has an entry in its log; a second undo is refused, and so is an undo after
// 24 hours.
func TestUndoPutsBackWhatEachBulkActionChanged(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		svc := customers.New(db)
		clock := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		svc.Now = func() time.Time { clock = clock.Add(time.Second); return clock }
		admin := mkUser(t, db, "admin@example.com", crm.RoleAdmin)
		ann := mkUser(t, db, "ann@example.com", crm.RoleMember)
		bob := mkUser(t, db, "bob@example.com", crm.RoleMember)
		seg, err := svc.CreateSegment(ctx, admin, "Summit")
		if err != nil {
			t.Fatal(err)
		}
		var actionID int64 = 1000
		mk := func(prefix string, n int) []int64 {
			var ids []int64
			for i := range n {
				c, err := svc.Create(ctx, admin, customers.NewCustomer{FullName: fmt.Sprintf("%s %d", prefix, i)})
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, c.ID)
			}
			return ids
		}
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		cases := []struct {
			action string
			actor  *crm.User
			setup  func(ids []int64) // the state before
			req    func(r *customers.BulkRequest)
			later  func(ids []int64) []int64 // someone else's changes after; returns who changed
			reason string                    // the skip reason of a changed customer
		}{
			{action: customers.BulkClaim, actor: ann,
				setup: func(ids []int64) { _, err := svc.Claim(ctx, bob, ids[5]); must(err) },
				later: func(ids []int64) []int64 {
					_, err := svc.Release(ctx, admin, ids[0])
					must(err)
					_, err = svc.Reassign(ctx, admin, ids[1], bob.ID)
					must(err)
					return ids[:2]
				}, reason: "since"},
			{action: customers.BulkRelease, actor: admin,
				setup: func(ids []int64) {
					for i, id := range ids[:5] {
						_, err := svc.Claim(ctx, []*crm.User{ann, bob}[i%2], id)
						must(err)
					}
				},
				later: func(ids []int64) []int64 {
					_, err := svc.Claim(ctx, bob, ids[0])
					must(err)
					return ids[:1]
				}, reason: "claimed by"},
			{action: customers.BulkTag, actor: ann,
				setup: func(ids []int64) { _, err := svc.AddTags(ctx, admin, ids[5], []string{"vip"}); must(err) },
				req:   func(r *customers.BulkRequest) { r.Tags = []string{"vip", "gold"} },
				later: func(ids []int64) []int64 {
					_, err := svc.RemoveTag(ctx, bob, ids[0], "vip")
					must(err)
					_, err = svc.RemoveTag(ctx, bob, ids[0], "gold")
					must(err)
					return ids[:1]
				}, reason: "tag was removed since"},
			{action: customers.BulkSegmentAdd, actor: ann,
				setup: func(ids []int64) { _, err := db.AddSegmentMembers(ctx, seg.ID, ids[5:6], clock); must(err) },
				req:   func(r *customers.BulkRequest) { r.SegmentID = seg.ID },
				later: func(ids []int64) []int64 {
					_, err := db.RemoveSegmentMembers(ctx, seg.ID, ids[:1])
					must(err)
					return ids[:1]
				}, reason: "removed from the segment since"},
			{action: customers.BulkSegmentRemove, actor: ann,
				setup: func(ids []int64) { _, err := db.AddSegmentMembers(ctx, seg.ID, ids[:5], clock); must(err) },
				req:   func(r *customers.BulkRequest) { r.SegmentID = seg.ID },
				later: func(ids []int64) []int64 {
					_, err := db.AddSegmentMembers(ctx, seg.ID, ids[:1], clock)
					must(err)
					return ids[:1]
				}, reason: "added to the segment again since"},
			{action: customers.BulkArchive, actor: admin,
				setup: func(ids []int64) {
					_, err := svc.Claim(ctx, bob, ids[2])
					must(err)
					_, err = svc.Archive(ctx, admin, ids[5])
					must(err)
				},
				later: func(ids []int64) []int64 {
					_, err := svc.Restore(ctx, bob, ids[0])
					must(err)
					_, err = svc.Restore(ctx, admin, ids[1])
					must(err)
					_, err = svc.Archive(ctx, admin, ids[1]) // archived again, by someone else
					must(err)
					return ids[:2]
				}, reason: "since"},
			{action: customers.BulkRestore, actor: admin,
				setup: func(ids []int64) {
					for _, id := range ids[:5] { // each at its own time
						_, err := svc.Archive(ctx, admin, id)
						must(err)
					}
				},
				later: func(ids []int64) []int64 {
					_, err := svc.Archive(ctx, bob, ids[0])
					must(err)
					return ids[:1]
				}, reason: "archived again since"},
		}
		for _, tc := range cases {
			t.Run(tc.action, func(t *testing.T) {
				ids := mk(tc.action, 6)
				tc.setup(ids)
				before := statesOf(t, db, ids)
				actionID++
				req := customers.BulkRequest{Action: tc.action, IDs: ids, ActionID: actionID}
				if tc.req != nil {
					tc.req(&req)
				}
				res, err := svc.Bulk(ctx, tc.actor, req, nil)
				must(err)
				if res.Done < 4 {
					t.Fatalf("the bulk %s changed %d customers: %+v", tc.action, res.Done, res)
				}
				after := statesOf(t, db, ids)
				if maps.Equal(before, after) {
					t.Fatal("the bulk action changed nothing")
				}
				changed := tc.later(ids)
				later := statesOf(t, db, ids)

				a, err := svc.ClaimUndo(ctx, tc.actor, actionID, true)
				must(err)
				if _, err := svc.ClaimUndo(ctx, tc.actor, actionID, true); !errors.Is(err, crm.ErrConflict) {
					t.Fatalf("a second undo: %v, want a conflict", err)
				}
				undo, err := svc.Undo(ctx, tc.actor, customers.UndoRequest{ActionID: a.ID}, nil)
				must(err)
				now := statesOf(t, db, ids)
				for _, id := range ids {
					want := before[id]
					if slices.Contains(changed, id) {
						want = later[id] // a later change is never overwritten
					}
					if now[id] != want {
						t.Errorf("customer %d after the undo: %+v\nwant %+v\n(before %+v, after the action %+v)", id, now[id], want, before[id], after[id])
					}
				}
				skipped := map[int64]string{}
				for _, k := range undo.Skips {
					skipped[k.ID] = k.Reason
				}
				for _, id := range changed {
					if !strings.Contains(skipped[id], tc.reason) {
						t.Errorf("customer %d changed since: skip %q, want one saying %q (all: %+v)", id, skipped[id], tc.reason, undo.Skips)
					}
				}
				if undo.Processed < 4 || undo.Done != undo.Processed-len(changed) || undo.Skipped != len(changed) {
					t.Errorf("undo %+v: want all but the %d changed since done", undo, len(changed))
				}
				for _, id := range ids {
					if _, skip := skipped[id]; skip || now[id] == after[id] {
						continue
					}
					acts, err := db.ListActivity(ctx, id, 0, 1)
					must(err)
					if len(acts) == 0 || acts[0].Kind != crm.ActBulkUndone {
						t.Errorf("customer %d: the undo is not in its log: %+v", id, acts)
					} else if s := customers.Describe(acts[0]); !strings.Contains(s, "undid the bulk") {
						t.Errorf("log sentence %q", s)
					}
				}
			})
		}
		t.Run("after 24 hours", func(t *testing.T) {
			ids := mk("late", 2)
			actionID++
			_, err := svc.Bulk(ctx, ann, customers.BulkRequest{Action: customers.BulkClaim, IDs: ids, ActionID: actionID}, nil)
			must(err)
			clock = clock.Add(24 * time.Hour)
			if _, err := svc.ClaimUndo(ctx, ann, actionID, true); !errors.Is(err, crm.ErrConflict) || !strings.Contains(err.Error(), "24 hours") {
				t.Fatalf("an undo after 24 hours: %v, want a conflict", err)
			}
		})
		t.Run("someone else's", func(t *testing.T) {
			ids := mk("others", 2)
			actionID++
			_, err := svc.Bulk(ctx, ann, customers.BulkRequest{Action: customers.BulkTag, Tags: []string{"x"}, IDs: ids, ActionID: actionID}, nil)
			must(err)
			if _, err := svc.ClaimUndo(ctx, bob, actionID, true); !errors.Is(err, crm.ErrNotFound) {
				t.Fatalf("another member's undo: %v, want not found", err)
			}
			if _, err := svc.ClaimUndo(ctx, admin, actionID, true); err != nil {
				t.Fatalf("an admin's undo: %v", err)
			}
		})
	})
}
