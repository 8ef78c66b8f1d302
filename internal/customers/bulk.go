package customers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/acme/crm/internal/crm"
)

// Bulk actions (SPEC section 5).
const (
	BulkClaim         = "claim"
	BulkRelease       = "release"
	BulkTag           = "tag"
	BulkSegmentAdd    = "segment_add"
	BulkSegmentRemove = "segment_remove"
	BulkArchive       = "archive"
	BulkRestore       = "restore"
)

// BulkActions lists every bulk action.
var BulkActions = []string{BulkClaim, BulkRelease, BulkTag, BulkSegmentAdd, BulkSegmentRemove, BulkArchive, BulkRestore}

// BulkChunk is how many customers one transaction of a bulk action handles.
const BulkChunk = 5000

// BulkRequest is one bulk action over a selection or over every customer of a filter.
type BulkRequest struct {
	Action    string
	IDs       []int64
	Filter    *crm.CustomerFilter
	Tags      []string
	SegmentID int64
	// ActionID, when set (the job's id), records the action and the
	// before-state of what it changes, chunk by chunk, so that it can be
	// undone (Undo).
	ActionID int64
	// A background job's resumption: Resume holds the totals of the chunks
	// already done (its Last is where the next chunk starts), and InChunk
	// runs inside each chunk's transaction after its changes, so a job's
	// checkpoint commits together with the chunk it records.
	Resume  *BulkResult
	InChunk func(tx crm.Store, r BulkResult, skips []Skip) error
}

// Skip says why one customer was left alone.
type Skip struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// BulkResult is what a bulk action did: done N, skipped M, and why.
type BulkResult struct {
	Action    string `json:"action"`
	Processed int    `json:"processed"`
	Done      int    `json:"done"`
	Skipped   int    `json:"skipped"`
	Skips     []Skip `json:"skips"` // every skip (inline answers); jobs keep them in the store instead
	Last      int64  `json:"-"`     // the last customer id handled: where a resumed job goes on
}

// CheckBulk validates a bulk request before any work starts.
func (s *Service) CheckBulk(ctx context.Context, actor *crm.User, req *BulkRequest) error {
	if !slices.Contains(BulkActions, req.Action) {
		return crm.Invalid("action", "%q is not a bulk action (use one of claim, release, tag, segment_add, segment_remove, archive, restore).", req.Action)
	}
	if len(req.IDs) == 0 && req.Filter == nil {
		return crm.Invalid("ids", "Select customers, or send a filter for every matching customer.")
	}
	switch req.Action {
	case BulkTag:
		for _, t := range req.Tags {
			if strings.TrimSpace(t) == "" {
				return crm.Invalid("tags", "A tag name cannot be empty.")
			}
		}
		tags, err := cleanTags(req.Tags)
		if err != nil {
			return err
		}
		if len(tags) == 0 {
			return crm.Invalid("tags", "Name the tag to add.")
		}
		req.Tags = tags
	case BulkSegmentAdd, BulkSegmentRemove:
		if req.SegmentID == 0 {
			return crm.Invalid("segment_id", "Pick a segment.")
		}
		if _, err := s.Store.GetSegment(ctx, req.SegmentID); err != nil {
			if errors.Is(err, crm.ErrNotFound) {
				return crm.Invalid("segment_id", "No segment has the id %d.", req.SegmentID)
			}
			return err
		}
	}
	return nil
}

// Bulk runs a checked request chunk by chunk, each chunk in one transaction.
// onChunk sees the running totals and the chunk's skips (jobs store them).
func (s *Service) Bulk(ctx context.Context, actor *crm.User, req BulkRequest, onChunk func(r BulkResult, skips []Skip) error) (*BulkResult, error) {
	if err := s.CheckBulk(ctx, actor, &req); err != nil {
		return nil, err
	}
	res := &BulkResult{Action: req.Action, Skips: []Skip{}}
	if req.Resume != nil {
		res.Processed, res.Done, res.Skipped, res.Last = req.Resume.Processed, req.Resume.Done, req.Resume.Skipped, req.Resume.Last
	}
	var tagIDs []int64
	var segName string
	if req.Action == BulkTag {
		tags, err := s.Store.EnsureTags(ctx, req.Tags, s.now())
		if err != nil {
			return nil, err
		}
		for _, t := range tags {
			tagIDs = append(tagIDs, t.ID)
		}
	}
	if req.SegmentID != 0 {
		sg, err := s.Store.GetSegment(ctx, req.SegmentID)
		if err != nil {
			return nil, err
		}
		segName = sg.Name
	}
	if req.ActionID != 0 {
		detail := segName
		if req.Action == BulkTag {
			detail = strings.Join(req.Tags, ", ")
		}
		if err := s.Store.CreateBulkAction(ctx, &crm.BulkAction{ID: req.ActionID, UserID: actor.ID, Action: req.Action, Detail: detail, CreatedAt: s.now()}); err != nil {
			return nil, err
		}
	}
	next := chunker(s.Store, req, res.Last)
	// a chunk begun is finished (and committed with its checkpoint) even if
	// ctx ends meanwhile: a cancel or a shutdown stops at the next chunk
	work := context.WithoutCancel(ctx)
	for {
		ids, err := next(ctx)
		if err != nil {
			return res, err
		}
		if len(ids) == 0 {
			if req.ActionID != 0 {
				now := s.now()
				if err := s.Store.UpdateBulkAction(work, req.ActionID, res.Done, &now); err != nil {
					return res, err
				}
			}
			return res, nil
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
		var skips []Skip
		before := *res
		err = s.Store.InTx(work, func(tx crm.Store) error {
			var err error
			skips, err = s.bulkChunk(work, tx, actor, req, ids, tagIDs, segName, res)
			if err != nil {
				return err
			}
			res.Processed += len(ids)
			res.Skipped += len(skips)
			res.Last = ids[len(ids)-1]
			if req.ActionID != 0 {
				if err := tx.UpdateBulkAction(work, req.ActionID, res.Done, nil); err != nil {
					return err
				}
			}
			if req.InChunk != nil {
				return req.InChunk(tx, *res, skips)
			}
			return nil
		})
		if err := afterChunk(res, before, skips, err, onChunk); err != nil {
			return res, err
		}
	}
}

// chunker hands out the ids of a request, BulkChunk at a time.
func chunker(st crm.Store, req BulkRequest, after int64) func(context.Context) ([]int64, error) {
	if req.Filter == nil {
		ids := slices.Compact(slices.Sorted(slices.Values(req.IDs)))
		i, _ := slices.BinarySearch(ids, after+1)
		ids = ids[i:]
		return func(context.Context) ([]int64, error) {
			n := min(BulkChunk, len(ids))
			part := ids[:n]
			ids = ids[n:]
			return part, nil
		}
	}
	return func(ctx context.Context) ([]int64, error) {
		ids, err := st.CustomerIDs(ctx, *req.Filter, after, BulkChunk)
		if len(ids) > 0 {
			after = ids[len(ids)-1]
		}
		return ids, err
	}
}

// bulkChunk decides, customer by customer, what the actor may do, applies
// it set-based and logs one activity entry per changed customer.
//
// Owner and archive changes lock the chunk's customers first (in id order,
// where the engine runs transactions side by side), so the decisions are
// made on the customers as they are; the store still makes each change only
// where the state is the one decided on, and a customer that changed anyway
// is skipped as changed meanwhile, never overwritten.
func (s *Service) bulkChunk(ctx context.Context, tx crm.Store, actor *crm.User, req BulkRequest, ids, tagIDs []int64, segName string, res *BulkResult) ([]Skip, error) {
	switch req.Action {
	case BulkClaim, BulkRelease, BulkArchive, BulkRestore:
		if err := tx.LockCustomers(ctx, ids); err != nil {
			return nil, err
		}
	}
	states, err := tx.CustomerStates(ctx, ids)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var skips []Skip
	var eligible []int64
	skip := func(id int64, st crm.CustomerState, why string) {
		skips = append(skips, Skip{ID: id, Name: st.Name, Reason: why})
	}
	ownedBy := func(st crm.CustomerState) string {
		if st.Owner.ID == actor.ID {
			return "already yours"
		}
		return "owned by " + st.Owner.Name
	}
	for _, id := range ids {
		st, ok := states[id]
		if !ok {
			skips = append(skips, Skip{ID: id, Reason: "no such customer"})
			continue
		}
		if st.MergedInto != nil && req.Action != BulkRestore {
			skip(id, st, fmt.Sprintf("merged into customer %d", *st.MergedInto))
			continue
		}
		mine := st.Owner == nil || st.Owner.ID == actor.ID
		switch req.Action {
		case BulkClaim:
			switch {
			case st.Archived:
				skip(id, st, "archived")
			case st.Owner != nil:
				skip(id, st, ownedBy(st))
			default:
				eligible = append(eligible, id)
			}
		case BulkRelease:
			switch {
			case st.Archived:
				skip(id, st, "archived")
			case st.Owner == nil:
				skip(id, st, "not claimed by anyone")
			case !actor.IsAdmin() && st.Owner.ID != actor.ID:
				skip(id, st, "owned by "+st.Owner.Name+"; members release only their own")
			default:
				eligible = append(eligible, id)
			}
		case BulkArchive:
			switch {
			case st.Archived:
				skip(id, st, "already archived")
			case !actor.IsAdmin() && !mine:
				skip(id, st, "owned by "+st.Owner.Name+"; members archive only their own or unclaimed customers")
			default:
				eligible = append(eligible, id)
			}
		case BulkRestore:
			switch {
			case st.MergedInto != nil:
				skip(id, st, fmt.Sprintf("merged into customer %d; cannot be restored", *st.MergedInto))
			case !st.Archived:
				skip(id, st, "not archived")
			case !actor.IsAdmin() && !mine:
				skip(id, st, "owned by "+st.Owner.Name+"; members restore only their own or unclaimed customers")
			default:
				eligible = append(eligible, id)
			}
		default: // tag, segment: anyone, any live customer
			eligible = append(eligible, id)
		}
	}
	// one activity entry per changed customer, written set-based: the same
	// entry for every customer of a group
	logFor := func(ids []int64, kind string, data map[string]any) error {
		if len(ids) == 0 {
			return nil
		}
		b, err := json.Marshal(data)
		if err != nil {
			return err
		}
		return tx.AddActivityFor(ctx, ids, crm.Activity{Actor: ref(actor), Kind: kind, Data: b, At: now})
	}
	// groups splits the eligible customers by the owner they were seen
	// with, each with the condition the store changes them on (any owner,
	// when the owner does not matter to the decision), and returns which
	// changed; the others are skipped, saying what changed meanwhile.
	type group struct {
		from   *crm.UserRef
		expect crm.OwnerExpectation
		ids    []int64
	}
	groups := func(anyOwner bool) []*group {
		if anyOwner {
			return []*group{{expect: crm.OwnerExpectation{Any: true}, ids: eligible}}
		}
		var out []*group
		by := map[int64]*group{}
		for _, id := range eligible {
			var key int64
			o := states[id].Owner
			if o != nil {
				key = o.ID
			}
			g, ok := by[key]
			if !ok {
				g = &group{from: o}
				if o != nil {
					g.expect.UserID = &o.ID
				}
				by[key] = g
				out = append(out, g)
			}
			g.ids = append(g.ids, id)
		}
		return out
	}
	// record writes the before-state of what changed, for the undo
	record := func(ids []int64, field string, old, new *string) error {
		if req.ActionID == 0 || len(ids) == 0 {
			return nil
		}
		return tx.AddBulkChanges(ctx, req.ActionID, ids, field, old, new)
	}
	done := len(eligible)
	lost := func(asked, changed []int64) error {
		if len(changed) == len(asked) {
			return nil
		}
		done -= len(asked) - len(changed)
		var missed []int64
		for _, id := range asked {
			if _, ok := slices.BinarySearch(changed, id); !ok {
				missed = append(missed, id)
			}
		}
		cur, err := tx.CustomerStates(ctx, missed)
		if err != nil {
			return err
		}
		for _, id := range missed {
			skip(id, states[id], changedMeanwhile(actor, states[id], cur[id]))
		}
		return nil
	}
	switch req.Action {
	case BulkClaim, BulkRelease:
		var to *int64
		var toRef *crm.UserRef
		if req.Action == BulkClaim {
			to, toRef = &actor.ID, ref(actor)
		}
		// one change and one group of entries per owner before (nobody, for a claim)
		for _, g := range groups(false) {
			changed, err := tx.BulkSetOwner(ctx, g.ids, to, g.expect, now)
			if err != nil {
				return nil, err
			}
			if err := lost(g.ids, changed); err != nil {
				return nil, err
			}
			if err := logFor(changed, crm.ActOwnerChanged, map[string]any{"action": req.Action, "from": g.from, "to": toRef, "bulk": true}); err != nil {
				return nil, err
			}
			var from *string
			if g.from != nil {
				from = idText(g.from.ID)
			}
			var toText *string
			if to != nil {
				toText = idText(*to)
			}
			if err := record(changed, FieldOwner, from, toText); err != nil {
				return nil, err
			}
		}
	case BulkArchive, BulkRestore:
		var at *time.Time
		kind := crm.ActRestored
		if req.Action == BulkArchive {
			at, kind = &now, crm.ActArchived
		}
		// an admin's decision does not depend on the owner; a member's does
		for _, g := range groups(actor.IsAdmin()) {
			changed, err := tx.BulkSetArchived(ctx, g.ids, at, g.expect, now)
			if err != nil {
				return nil, err
			}
			if err := lost(g.ids, changed); err != nil {
				return nil, err
			}
			if err := logFor(changed, kind, map[string]any{"bulk": true}); err != nil {
				return nil, err
			}
			if at != nil {
				if err := record(changed, FieldArchived, nil, timeText(*at)); err != nil {
					return nil, err
				}
				continue
			}
			// a restore: each customer's own archived time, grouped
			for _, grp := range byArchivedAt(changed, states) {
				if err := record(grp.ids, FieldArchived, timeText(grp.at), nil); err != nil {
					return nil, err
				}
			}
		}
	case BulkTag:
		for i, tagID := range tagIDs {
			added, err := tx.BulkAddTag(ctx, eligible, tagID, now)
			if err != nil {
				return nil, err
			}
			if err := logFor(added, crm.ActTagAdded, map[string]any{"tag": req.Tags[i], "bulk": true}); err != nil {
				return nil, err
			}
			if err := record(added, tagField(tagID), nil, idText(tagID)); err != nil {
				return nil, err
			}
		}
	case BulkSegmentAdd, BulkSegmentRemove:
		already, err := tx.SegmentMembersAmong(ctx, req.SegmentID, eligible)
		if err != nil {
			return nil, err
		}
		member := map[int64]bool{}
		for _, id := range already {
			member[id] = true
		}
		var change []int64
		for _, id := range eligible {
			if member[id] == (req.Action == BulkSegmentRemove) {
				change = append(change, id)
			}
		}
		kind := crm.ActSegmentAdded
		if req.Action == BulkSegmentAdd {
			_, err = tx.AddSegmentMembers(ctx, req.SegmentID, change, now)
		} else {
			kind = crm.ActSegmentRemoved
			_, err = tx.RemoveSegmentMembers(ctx, req.SegmentID, change)
		}
		if err != nil {
			return nil, err
		}
		if err := logFor(change, kind, map[string]any{"segment": segName, "segment_id": req.SegmentID, "bulk": true}); err != nil {
			return nil, err
		}
		mark := Member
		if req.Action == BulkSegmentAdd {
			err = record(change, segmentField(req.SegmentID), nil, &mark)
		} else {
			err = record(change, segmentField(req.SegmentID), &mark, nil)
		}
		if err != nil {
			return nil, err
		}
	}
	res.Done += done
	return skips, nil
}

// changedMeanwhile says why a customer decided on was not changed after
// all: what changed between the decision and the write.
func changedMeanwhile(actor *crm.User, was, now crm.CustomerState) string {
	switch {
	case now.Name == "":
		return "removed meanwhile"
	case now.MergedInto != nil && was.MergedInto == nil:
		return fmt.Sprintf("merged into customer %d meanwhile", *now.MergedInto)
	case now.Archived && !was.Archived:
		return "archived meanwhile"
	case !now.Archived && was.Archived:
		return "restored meanwhile"
	case now.Owner == nil && was.Owner != nil:
		return "released meanwhile"
	case now.Owner != nil && now.Owner.ID == actor.ID:
		return "claimed by you meanwhile"
	case now.Owner != nil:
		return "claimed by " + now.Owner.Name + " meanwhile"
	}
	return "changed meanwhile"
}

// afterChunk settles one chunk of a bulk action or an undo: a chunk whose
// transaction failed was rolled back and counts as not done; a committed
// one hands its skips to onChunk, or keeps them in res when there is none.
func afterChunk(res *BulkResult, before BulkResult, skips []Skip, err error, onChunk func(BulkResult, []Skip) error) error {
	if err != nil {
		before.Skips = res.Skips
		*res = before
		return err
	}
	if onChunk != nil {
		return onChunk(*res, skips)
	}
	res.Skips = append(res.Skips, skips...)
	return nil
}
