package customers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/acme/crm/internal/crm"
)

// Undo of a bulk action (issue 12): a bulk action records, chunk by chunk
// and in the chunk's transaction, the before-state of exactly what it
// changed (crm.BulkChange); its undo puts that back customer by customer,
// only where the value is still the one the action wrote, with the rules of
// the original action, and skips, saying why, every customer changed since.

// UndoWindow is how long a bulk action can be undone.
const UndoWindow = 24 * time.Hour

// The fields a bulk action records.
const (
	FieldOwner    = "owner"
	FieldArchived = "archived"
	Member        = "member" // a segment membership's value
)

func tagField(id int64) string     { return "tag:" + strconv.FormatInt(id, 10) }
func segmentField(id int64) string { return "segment:" + strconv.FormatInt(id, 10) }

func idText(id int64) *string {
	s := strconv.FormatInt(id, 10)
	return &s
}

// timeText writes a time as the store keeps it (UTC, microseconds).
func timeText(t time.Time) *string {
	s := t.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)
	return &s
}

type archivedGroup struct {
	at  time.Time
	ids []int64
}

// byArchivedAt groups customers by the archived time they had.
func byArchivedAt(ids []int64, states map[int64]crm.CustomerState) []archivedGroup {
	var out []archivedGroup
	idx := map[time.Time]int{}
	for _, id := range ids {
		at := states[id].ArchivedAt
		if at == nil {
			continue
		}
		k := at.UTC().Truncate(time.Microsecond)
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, archivedGroup{at: k})
		}
		out[i].ids = append(out[i].ids, id)
	}
	return out
}

// UndoStatus says whether a bulk action can still be undone, until when,
// and, when it cannot, why.
type UndoStatus struct {
	Until     time.Time `json:"until"`
	Available bool      `json:"available"`
	Reason    string    `json:"reason,omitempty"`
	JobID     *int64    `json:"job_id,omitempty" doc:"the undo's job, once asked for"`
}

// UndoStatusOf is the undo status of a bulk action for actor; ended says
// whether its job has ended (an action stopped part way can be undone too).
func (s *Service) UndoStatusOf(a *crm.BulkAction, actor *crm.User, ended bool) UndoStatus {
	st := UndoStatus{Until: a.CreatedAt.Add(UndoWindow).UTC(), JobID: a.UndoJobID}
	switch {
	case a.UndoRequestedAt != nil:
		st.Reason = "already undone"
	case !s.now().Before(st.Until):
		st.Reason = "more than 24 hours ago"
	case a.FinishedAt == nil && !ended:
		st.Reason = "still running"
	case a.UserID != actor.ID && !actor.IsAdmin():
		st.Reason = "only the user who ran it or an admin can undo it"
	default:
		st.Available = true
	}
	return st
}

// ClaimUndo checks that actor may undo the bulk action now and sets its
// unique marker, so that a second undo is refused; the caller then starts
// the undo's job and names it (crm.Store.SetBulkUndoJob). Someone else's
// action is not found for a member; one that cannot be undone is a conflict.
func (s *Service) ClaimUndo(ctx context.Context, actor *crm.User, id int64, ended bool) (*crm.BulkAction, error) {
	a, err := s.Store.GetBulkAction(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.UserID != actor.ID && !actor.IsAdmin() {
		return nil, crm.NotFound("bulk action")
	}
	if st := s.UndoStatusOf(a, actor, ended); !st.Available {
		return nil, crm.Conflict("This bulk action cannot be undone: %s.", st.Reason)
	}
	if err := s.Store.ClaimBulkUndo(ctx, id, s.now()); err != nil {
		return nil, err
	}
	return a, nil
}

// UndoRequest is the undo of one bulk action, resumable like a bulk job.
type UndoRequest struct {
	ActionID int64
	Resume   *BulkResult
	InChunk  func(tx crm.Store, r BulkResult, skips []Skip) error
}

// Undo puts back what a bulk action changed, BulkChunk customers per
// transaction, and logs "undid the bulk ..." on each customer it changed.
func (s *Service) Undo(ctx context.Context, actor *crm.User, req UndoRequest, onChunk func(r BulkResult, skips []Skip) error) (*BulkResult, error) {
	a, err := s.Store.GetBulkAction(ctx, req.ActionID)
	if err != nil {
		return nil, err
	}
	res := &BulkResult{Action: "undo", Skips: []Skip{}}
	if req.Resume != nil {
		res.Processed, res.Done, res.Skipped, res.Last = req.Resume.Processed, req.Resume.Done, req.Resume.Skipped, req.Resume.Last
	}
	work := context.WithoutCancel(ctx)
	for {
		changes, err := s.Store.BulkChanges(ctx, a.ID, res.Last, BulkChunk)
		if err != nil {
			return res, err
		}
		if len(changes) == 0 {
			return res, nil
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
		var skips []Skip
		before := *res
		err = s.Store.InTx(work, func(tx crm.Store) error {
			var n, done int
			var err error
			skips, n, done, err = s.undoChunk(work, tx, actor, a, changes)
			if err != nil {
				return err
			}
			res.Processed += n
			res.Done += done
			res.Skipped += len(skips)
			res.Last = changes[len(changes)-1].CustomerID
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

// undoChunk undoes the changes of a few thousand customers (whole) and
// returns the skips, how many customers it looked at and how many it changed.
func (s *Service) undoChunk(ctx context.Context, tx crm.Store, actor *crm.User, a *crm.BulkAction, changes []crm.BulkChange) ([]Skip, int, int, error) {
	var ids []int64
	var fields []string
	byField := map[string][]crm.BulkChange{}
	for _, c := range changes {
		if len(ids) == 0 || ids[len(ids)-1] != c.CustomerID {
			ids = append(ids, c.CustomerID)
		}
		if _, ok := byField[c.Field]; !ok {
			fields = append(fields, c.Field)
		}
		byField[c.Field] = append(byField[c.Field], c)
	}
	switch a.Action {
	case BulkClaim, BulkRelease, BulkArchive, BulkRestore:
		if err := tx.LockCustomers(ctx, ids); err != nil {
			return nil, 0, 0, err
		}
	}
	states, err := tx.CustomerStates(ctx, ids)
	if err != nil {
		return nil, 0, 0, err
	}
	now := s.now()
	reason := map[int64]string{}
	undone := map[int64]bool{}
	skip := func(id int64, why string) {
		if _, ok := reason[id]; !ok {
			reason[id] = why
		}
	}
	ownerName := func(st crm.CustomerState) string {
		if st.Owner == nil {
			return "nobody"
		}
		if st.Owner.ID == actor.ID {
			return "you"
		}
		return st.Owner.Name
	}
	mine := func(st crm.CustomerState) bool { return st.Owner == nil || st.Owner.ID == actor.ID }
	// changed notes what the store changed; the others of asked changed
	// between the decision and the write, and are skipped saying how
	changed := func(asked, got []int64) error {
		for _, id := range got {
			undone[id] = true
		}
		if len(got) == len(asked) {
			return nil
		}
		var missed []int64
		for _, id := range asked {
			if _, ok := slices.BinarySearch(got, id); !ok {
				missed = append(missed, id)
			}
		}
		cur, err := tx.CustomerStates(ctx, missed)
		if err != nil {
			return err
		}
		for _, id := range missed {
			skip(id, strings.Replace(changedMeanwhile(actor, states[id], cur[id]), "meanwhile", "since", 1))
		}
		return nil
	}
	users := map[int64]*crm.User{}
	for _, field := range fields {
		var live []crm.BulkChange
		for _, c := range byField[field] {
			st, ok := states[c.CustomerID]
			switch {
			case !ok:
				skip(c.CustomerID, "no longer exists")
			case st.MergedInto != nil:
				skip(c.CustomerID, fmt.Sprintf("merged into customer %d since", *st.MergedInto))
			default:
				live = append(live, c)
			}
		}
		if len(live) == 0 {
			continue
		}
		switch {
		case field == FieldOwner && a.Action == BulkClaim:
			// release to nobody those still owned by the claimer
			groups := map[int64][]int64{}
			var order []int64
			for _, c := range live {
				st := states[c.CustomerID]
				claimer, _ := strconv.ParseInt(deref(c.New), 10, 64)
				switch {
				case st.Archived:
					skip(c.CustomerID, "archived since")
				case st.Owner == nil:
					skip(c.CustomerID, "released since")
				case st.Owner.ID != claimer:
					skip(c.CustomerID, "claimed by "+ownerName(st)+" since")
				case !actor.IsAdmin() && claimer != actor.ID:
					skip(c.CustomerID, "owned by "+st.Owner.Name+"; members release only their own")
				default:
					if _, ok := groups[claimer]; !ok {
						order = append(order, claimer)
					}
					groups[claimer] = append(groups[claimer], c.CustomerID)
				}
			}
			for _, claimer := range order {
				got, err := tx.BulkSetOwner(ctx, groups[claimer], nil, crm.OwnerExpectation{UserID: &claimer}, now)
				if err == nil {
					err = changed(groups[claimer], got)
				}
				if err != nil {
					return nil, 0, 0, err
				}
			}
		case field == FieldOwner:
			// a release: give back to the previous owner those still unclaimed
			groups := map[int64][]int64{}
			var order []int64
			for _, c := range live {
				st := states[c.CustomerID]
				prev, _ := strconv.ParseInt(deref(c.Old), 10, 64)
				u, ok := users[prev]
				if !ok {
					var err error
					if u, err = tx.GetUser(ctx, prev); err != nil && !errors.Is(err, crm.ErrNotFound) {
						return nil, 0, 0, err
					}
					users[prev] = u
				}
				switch {
				case st.Archived:
					skip(c.CustomerID, "archived since")
				case st.Owner != nil:
					skip(c.CustomerID, "claimed by "+ownerName(st)+" since")
				case u == nil || !u.Active:
					skip(c.CustomerID, "the previous owner's account is no longer active")
				case !actor.IsAdmin() && prev != actor.ID:
					skip(c.CustomerID, "members give back only their own")
				default:
					if _, ok := groups[prev]; !ok {
						order = append(order, prev)
					}
					groups[prev] = append(groups[prev], c.CustomerID)
				}
			}
			for _, prev := range order {
				got, err := tx.BulkSetOwner(ctx, groups[prev], &prev, crm.OwnerExpectation{}, now)
				if err == nil {
					err = changed(groups[prev], got)
				}
				if err != nil {
					return nil, 0, 0, err
				}
			}
		case field == FieldArchived && a.Action == BulkArchive:
			// restore those still archived by the action
			var groups []archivedGroup
			idx := map[string]int{}
			for _, c := range live {
				st := states[c.CustomerID]
				wrote, err := time.Parse(time.RFC3339Nano, deref(c.New))
				switch {
				case err != nil:
					return nil, 0, 0, fmt.Errorf("bulk change of customer %d: %w", c.CustomerID, err)
				case !st.Archived:
					skip(c.CustomerID, "restored since")
				case !st.ArchivedAt.Equal(wrote):
					skip(c.CustomerID, "archived again since")
				case !actor.IsAdmin() && !mine(st):
					skip(c.CustomerID, "owned by "+st.Owner.Name+"; members restore only their own or unclaimed customers")
				default:
					i, ok := idx[deref(c.New)]
					if !ok {
						i = len(groups)
						idx[deref(c.New)] = i
						groups = append(groups, archivedGroup{at: wrote})
					}
					groups[i].ids = append(groups[i].ids, c.CustomerID)
				}
			}
			for _, g := range groups {
				got, err := tx.BulkUnarchive(ctx, g.ids, g.at, now)
				if err == nil {
					err = changed(g.ids, got)
				}
				if err != nil {
					return nil, 0, 0, err
				}
			}
		case field == FieldArchived:
			// a restore: archive again, as of when, those still active
			var groups []archivedGroup
			idx := map[string]int{}
			for _, c := range live {
				st := states[c.CustomerID]
				was, err := time.Parse(time.RFC3339Nano, deref(c.Old))
				switch {
				case err != nil:
					return nil, 0, 0, fmt.Errorf("bulk change of customer %d: %w", c.CustomerID, err)
				case st.Archived:
					skip(c.CustomerID, "archived again since")
				case !actor.IsAdmin() && !mine(st):
					skip(c.CustomerID, "owned by "+st.Owner.Name+"; members archive only their own or unclaimed customers")
				default:
					i, ok := idx[deref(c.Old)]
					if !ok {
						i = len(groups)
						idx[deref(c.Old)] = i
						groups = append(groups, archivedGroup{at: was})
					}
					groups[i].ids = append(groups[i].ids, c.CustomerID)
				}
			}
			for _, g := range groups {
				got, err := tx.BulkSetArchived(ctx, g.ids, &g.at, crm.OwnerExpectation{Any: true}, now)
				if err == nil {
					err = changed(g.ids, got)
				}
				if err != nil {
					return nil, 0, 0, err
				}
			}
		case strings.HasPrefix(field, "tag:"):
			tagID, err := strconv.ParseInt(strings.TrimPrefix(field, "tag:"), 10, 64)
			if err != nil {
				return nil, 0, 0, err
			}
			asked := changeIDs(live)
			got, err := tx.BulkRemoveTag(ctx, asked, tagID, now)
			if err != nil {
				return nil, 0, 0, err
			}
			for _, id := range got {
				undone[id] = true
			}
			for _, id := range asked {
				if _, ok := slices.BinarySearch(got, id); !ok {
					skip(id, "the tag was removed since")
				}
			}
		case strings.HasPrefix(field, "segment:"):
			segID, err := strconv.ParseInt(strings.TrimPrefix(field, "segment:"), 10, 64)
			if err != nil {
				return nil, 0, 0, err
			}
			asked := changeIDs(live)
			members, err := tx.SegmentMembersAmong(ctx, segID, asked)
			if err != nil {
				return nil, 0, 0, err
			}
			slices.Sort(members)
			var change []int64
			for _, id := range asked {
				_, isMember := slices.BinarySearch(members, id)
				switch {
				case a.Action == BulkSegmentAdd && !isMember:
					skip(id, "removed from the segment since")
				case a.Action == BulkSegmentRemove && isMember:
					skip(id, "added to the segment again since")
				default:
					change = append(change, id)
				}
			}
			if a.Action == BulkSegmentAdd {
				_, err = tx.RemoveSegmentMembers(ctx, segID, change)
			} else {
				_, err = tx.AddSegmentMembers(ctx, segID, change, now)
			}
			if err != nil {
				return nil, 0, 0, err
			}
			for _, id := range change {
				undone[id] = true
			}
		default:
			return nil, 0, 0, fmt.Errorf("bulk action %d: unknown field %q", a.ID, field)
		}
	}
	var done []int64
	var skips []Skip
	for _, id := range ids {
		if undone[id] {
			done = append(done, id)
			continue
		}
		why := reason[id]
		if why == "" {
			why = "nothing to undo"
		}
		skips = append(skips, Skip{ID: id, Name: states[id].Name, Reason: why})
	}
	if len(done) > 0 {
		b, err := json.Marshal(map[string]any{"action": a.Action, "detail": a.Detail, "job_id": a.ID})
		if err != nil {
			return nil, 0, 0, err
		}
		if err := tx.AddActivityFor(ctx, done, crm.Activity{Actor: ref(actor), Kind: crm.ActBulkUndone, Data: b, At: now}); err != nil {
			return nil, 0, 0, err
		}
	}
	return skips, len(ids), len(done), nil
}

func changeIDs(cs []crm.BulkChange) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.CustomerID
	}
	return out
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// RecentBulk is one of the recent bulk actions the Customers page lists.
type RecentBulk struct {
	crm.BulkAction
	Undo UndoStatus
}

// RecentBulkActions lists the bulk actions of the last 24 hours that actor
// may undo: their own, or everyone's for an admin; newest first.
func (s *Service) RecentBulkActions(ctx context.Context, actor *crm.User, limit int) ([]RecentBulk, error) {
	var user int64
	if !actor.IsAdmin() {
		user = actor.ID
	}
	list, err := s.Store.ListBulkActions(ctx, user, s.now().Add(-UndoWindow), limit)
	if err != nil {
		return nil, err
	}
	out := make([]RecentBulk, len(list))
	for i := range list {
		out[i] = RecentBulk{BulkAction: list[i], Undo: s.UndoStatusOf(&list[i], actor, false)}
	}
	return out, nil
}
