package storetest

import (
	"context"
	"sync"
	"testing"

	"github.com/acme/crm/internal/crm"
)

type segmentCountCompactor interface {
	CompactSegmentCounts(ctx context.Context, over int) (bool, error)
}

// liveSegmentCounts counts a segment's members the long way: the customers
// the table finds for ?segment=ID (exact at these sizes).
func liveSegmentCounts(t *testing.T, s crm.Store, id int64) (members, active int) {
	t.Helper()
	all, err := s.FindCustomers(ctx, crm.CustomerQuery{Filter: crm.CustomerFilter{SegmentID: id, Archived: crm.ArchivedAll}, Limit: 1})
	must(t, err)
	act, err := s.FindCustomers(ctx, crm.CustomerQuery{Filter: crm.CustomerFilter{SegmentID: id, Archived: crm.ArchivedActive}, Limit: 1})
	must(t, err)
	return all.Total, act.Total
}

func checkSegmentCounts(t *testing.T, s crm.Store, when string) {
	t.Helper()
	list, err := s.ListSegments(ctx)
	must(t, err)
	for _, sg := range list {
		m, a := liveSegmentCounts(t, s, sg.ID)
		if sg.Members != m || sg.Active != a || sg.Archived != m-a {
			t.Fatalf("%s: segment %q counts members %d active %d archived %d, the customers say %d / %d", when, sg.Name, sg.Members, sg.Active, sg.Archived, m, a)
		}
		one, err := s.GetSegment(ctx, sg.ID)
		must(t, err)
		if one.Members != sg.Members || one.Active != sg.Active {
			t.Fatalf("%s: GetSegment %+v, ListSegments %+v", when, one, sg)
		}
	}
}

// SegmentCountsFollowEveryChange: the member counts the table shows stay
// exact through additions, removals, archive, restore, merge, compaction,
// and changes running at the same time.
func SegmentCountsFollowEveryChange(t *testing.T, s crm.Store) {
	comp, ok := s.(segmentCountCompactor)
	if !ok {
		t.Fatalf("%T cannot compact segment counts", s)
	}
	x, y := &crm.Segment{Name: "Counted X", CreatedAt: t0}, &crm.Segment{Name: "Counted Y", CreatedAt: t0}
	must(t, s.CreateSegment(ctx, x))
	must(t, s.CreateSegment(ctx, y))
	var ids []int64
	for range 12 {
		ids = append(ids, newCustomer(t, s, "Counted", t0))
	}
	checkSegmentCounts(t, s, "empty")
	_, err := s.AddSegmentMembers(ctx, x.ID, ids[:8], t0)
	must(t, err)
	_, err = s.AddSegmentMembers(ctx, y.ID, ids[4:], t0)
	must(t, err)
	checkSegmentCounts(t, s, "added")
	must(t, s.SetArchived(ctx, ids[5], &t0, nil, t0)) // in both
	must(t, s.SetArchived(ctx, ids[0], &t0, nil, t0)) // in X
	checkSegmentCounts(t, s, "archived")
	_, err = s.RemoveSegmentMembers(ctx, x.ID, []int64{ids[0], ids[1]}) // one archived, one active
	must(t, err)
	checkSegmentCounts(t, s, "removed")
	must(t, s.SetArchived(ctx, ids[5], nil, nil, t0))
	must(t, s.SetArchived(ctx, ids[5], nil, nil, t0)) // restoring an active customer changes nothing
	checkSegmentCounts(t, s, "restored")
	_, err = s.BulkSetArchived(ctx, ids[6:10], &t0, crm.OwnerExpectation{}, t0)
	must(t, err)
	checkSegmentCounts(t, s, "bulk archived")
	must(t, s.InTx(ctx, func(tx crm.Store) error { return tx.MergeInto(ctx, ids[2], []int64{ids[10], ids[11]}, t0) }))
	checkSegmentCounts(t, s, "merged")
	if _, err := comp.CompactSegmentCounts(ctx, 0); err != nil {
		t.Fatal(err)
	}
	checkSegmentCounts(t, s, "compacted")

	// archive/restore and membership changes of the same customers at once
	var wg sync.WaitGroup
	for round := range 20 {
		id := ids[round%6+2]
		wg.Add(3)
		go func() {
			defer wg.Done()
			at := t0
			if round%2 == 0 {
				_ = s.SetArchived(ctx, id, &at, nil, t0)
			} else {
				_ = s.SetArchived(ctx, id, nil, nil, t0)
			}
		}()
		go func() {
			defer wg.Done()
			if round%3 == 0 {
				_, _ = s.RemoveSegmentMembers(ctx, y.ID, []int64{id})
			} else {
				_, _ = s.AddSegmentMembers(ctx, y.ID, []int64{id}, t0)
			}
		}()
		go func() {
			defer wg.Done()
			_, _ = comp.CompactSegmentCounts(ctx, 0)
		}()
	}
	wg.Wait()
	checkSegmentCounts(t, s, "after concurrent changes")
}
