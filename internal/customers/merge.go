package customers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/acme/crm/internal/crm"
)

// Merge limits (SPEC section 5): 2 to 10 customers in all.
const (
	MinMerge = 2
	MaxMerge = 10
)

// MergePlan is the preview of a merge: what will move and what will be filled.
type MergePlan struct {
	Primary     crm.CustomerRef   `json:"primary"`
	Secondaries []crm.CustomerRef `json:"secondaries"`
	Contacts    []PlannedContact  `json:"contacts"`
	Deals       int               `json:"deals"`
	Notes       int               `json:"notes"`
	Tasks       int               `json:"tasks"`
	Messages    int               `json:"messages"`
	TagsAdded   []string          `json:"tags_added"`
	SegmentsAdd []int64           `json:"segments_added"`
	Fill        map[string]any    `json:"fill" doc:"the primary's empty fields and what fills them"`
	Owner       *crm.UserRef      `json:"owner" doc:"the owner after the merge"`
}

// PlannedContact is one contact of a secondary and what happens to it.
type PlannedContact struct {
	Channel    crm.Channel `json:"channel"`
	Value      string      `json:"value"`
	From       int64       `json:"from"`
	Collapses  bool        `json:"collapses" doc:"the primary already has it: the two become one"`
	Suppressed bool        `json:"suppressed"`
}

// mergeFault lets tests fail a merge between its steps.
type mergeFault func(step string) error

// checkMergeIDs checks the shape of a merge request.
func checkMergeIDs(primaryID int64, secondaryIDs []int64) error {
	if n := len(secondaryIDs) + 1; n < MinMerge || n > MaxMerge {
		return crm.Invalid("secondary_ids", "Merge %d to %d customers at a time (this was %d).", MinMerge, MaxMerge, n)
	}
	if slices.Contains(secondaryIDs, primaryID) {
		return crm.Invalid("primary_id", "The primary customer cannot also be merged into itself; remove it from the others.")
	}
	if len(slices.Compact(slices.Sorted(slices.Values(secondaryIDs)))) != len(secondaryIDs) {
		return crm.Invalid("secondary_ids", "A customer is listed twice.")
	}
	return nil
}

// loadMerge checks a merge request against the customers as st has them
// and loads them, primary first. A merge runs it inside its transaction,
// after locking the customers, so that what it checks still holds when the
// merge writes.
func (s *Service) loadMerge(ctx context.Context, st crm.Store, actor *crm.User, primaryID int64, secondaryIDs []int64) ([]*crm.Customer, error) {
	if err := checkMergeIDs(primaryID, secondaryIDs); err != nil {
		return nil, err
	}
	var cs []*crm.Customer
	for _, id := range append([]int64{primaryID}, secondaryIDs...) {
		c, err := st.GetCustomer(ctx, id)
		if errors.Is(err, crm.ErrNotFound) {
			return nil, crm.Invalid("secondary_ids", "No customer has the id %d.", id)
		}
		if err != nil {
			return nil, err
		}
		if c.MergedInto != nil {
			into := fmt.Sprintf("customer %d", *c.MergedInto)
			if p, err := st.GetCustomer(ctx, *c.MergedInto); err == nil {
				into = fmt.Sprintf("%s (customer %d)", p.FullName, p.ID)
			}
			return nil, crm.Conflict("%s has already been merged into %s; nothing was changed.", c.FullName, into)
		}
		if c.ArchivedAt != nil {
			return nil, crm.Conflict("%s is archived; only active customers are merged (restore it first).", c.FullName)
		}
		if !actor.IsAdmin() && c.Owner != nil && c.Owner.ID != actor.ID {
			return nil, crm.Forbidden("%s is owned by %s; members merge only customers that are theirs or unclaimed.", c.FullName, c.Owner.Name)
		}
		cs = append(cs, c)
	}
	return cs, nil
}

// PreviewMerge says what a merge will do, changing nothing.
func (s *Service) PreviewMerge(ctx context.Context, actor *crm.User, primaryID int64, secondaryIDs []int64) (*MergePlan, error) {
	cs, err := s.loadMerge(ctx, s.Store, actor, primaryID, secondaryIDs)
	if err != nil {
		return nil, err
	}
	return s.plan(ctx, s.Store, cs)
}

func (s *Service) plan(ctx context.Context, st crm.Store, cs []*crm.Customer) (*MergePlan, error) {
	p := cs[0]
	plan := &MergePlan{Primary: crm.CustomerRef{ID: p.ID, Name: p.FullName}, Fill: map[string]any{}, Owner: p.Owner,
		Secondaries: []crm.CustomerRef{}, Contacts: []PlannedContact{}, TagsAdded: []string{}, SegmentsAdd: []int64{}} // lists, never null
	have := map[string]bool{}
	for _, k := range p.Contacts {
		have[string(k.Channel)+"\x00"+k.Value] = true
	}
	for _, c := range cs[1:] {
		plan.Secondaries = append(plan.Secondaries, crm.CustomerRef{ID: c.ID, Name: c.FullName})
		for _, k := range c.Contacts {
			key := string(k.Channel) + "\x00" + k.Value
			plan.Contacts = append(plan.Contacts, PlannedContact{Channel: k.Channel, Value: k.Value, From: c.ID, Collapses: have[key], Suppressed: k.Suppression != nil})
			have[key] = true
		}
		for _, t := range c.Tags {
			if !hasTag(p.Tags, t) && !hasTag(plan.TagsAdded, t) {
				plan.TagsAdded = append(plan.TagsAdded, t)
			}
		}
		for _, sg := range c.Segments {
			if !slices.Contains(p.Segments, sg) && !slices.Contains(plan.SegmentsAdd, sg) {
				plan.SegmentsAdd = append(plan.SegmentsAdd, sg)
			}
		}
		deals, err := st.ListDeals(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		notes, err := st.ListNotes(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		tasks, err := st.ListTasks(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		plan.Deals += len(deals)
		plan.Notes += len(notes)
		plan.Tasks += len(tasks)
		ms, err := st.ListMessages(ctx, c.ID, 100000)
		if err != nil {
			return nil, err
		}
		plan.Messages += len(ms)
		// the primary's empty fields take the first secondary's value
		fill := func(field string, empty bool, v any, ok bool) {
			if _, done := plan.Fill[field]; empty && ok && !done {
				plan.Fill[field] = v
			}
		}
		fill("company", p.Company == nil, c.Company, c.Company != nil)
		fill("language", p.Language == "", c.Language, c.Language != "")
		fill("country", p.Country == "", c.Country, c.Country != "")
		fill("timezone", p.Timezone == "", c.Timezone, c.Timezone != "")
		for k, v := range c.Scores {
			_, has := p.Scores[k]
			fill("score:"+k, !has, v, true)
		}
		for k, v := range c.Custom {
			_, has := p.Custom[k]
			fill("custom:"+k, !has, v, true)
		}
		if plan.Owner == nil && c.Owner != nil {
			plan.Owner = c.Owner // an unclaimed primary takes the first secondary's owner
		}
	}
	return plan, nil
}

// Merge merges the secondaries into the primary in one transaction. It
// cannot be undone, so it needs confirm.
//
// Merges run as if one after the other: the transaction first locks every
// customer involved, then reads, checks and plans inside it, so of two
// merges that share a customer (swapped, a shared secondary, a chain, the
// same request twice) the second sees the first's result and is refused
// with a conflict saying why.
func (s *Service) Merge(ctx context.Context, actor *crm.User, primaryID int64, secondaryIDs []int64, confirm bool) (*crm.Customer, *MergePlan, error) {
	if err := checkMergeIDs(primaryID, secondaryIDs); err != nil {
		return nil, nil, err
	}
	products, err := s.Store.ListProducts(ctx)
	if err != nil {
		return nil, nil, err
	}
	fields, err := s.Store.ListCustomFields(ctx, true)
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	step := func(name string) error {
		if s.mergeFault != nil {
			return s.mergeFault(name)
		}
		return nil
	}
	var plan *MergePlan
	err = s.Store.InTx(ctx, func(tx crm.Store) error {
		if err := tx.LockCustomers(ctx, append([]int64{primaryID}, secondaryIDs...)); err != nil {
			return err
		}
		cs, err := s.loadMerge(ctx, tx, actor, primaryID, secondaryIDs)
		if err != nil {
			return err
		}
		if !confirm {
			return crm.Invalid("confirm", "A merge cannot be undone: send \"confirm\": true after looking at the preview.")
		}
		if plan, err = s.plan(ctx, tx, cs); err != nil {
			return err
		}
		if err := tx.MergeInto(ctx, primaryID, secondaryIDs, now); err != nil {
			return err
		}
		if err := step("moved"); err != nil {
			return err
		}
		var patch crm.CustomerPatch
		for field, v := range plan.Fill {
			switch {
			case field == "company":
				id := v.(*crm.CompanyRef).ID
				cid := &id
				patch.CompanyID = &cid
			case field == "language" || field == "country" || field == "timezone":
				str := v.(string)
				switch field {
				case "language":
					patch.Language = &str
				case "country":
					patch.Country = &str
				default:
					patch.Timezone = &str
				}
			case strings.HasPrefix(field, "score:"):
				for _, p := range products {
					if p.Key == strings.TrimPrefix(field, "score:") {
						score := v.(int)
						if err := tx.SetScore(ctx, primaryID, p.ID, &score, now); err != nil {
							return err
						}
					}
				}
			case strings.HasPrefix(field, "custom:"):
				for _, f := range fields {
					if f.Key == strings.TrimPrefix(field, "custom:") {
						b, _ := json.Marshal(v)
						str := string(b)
						if err := tx.SetCustomValue(ctx, primaryID, f.ID, &str, now); err != nil {
							return err
						}
					}
				}
			}
		}
		if !patch.Empty() {
			if err := tx.UpdateCustomer(ctx, primaryID, patch, now); err != nil {
				return err
			}
		}
		if err := step("filled"); err != nil {
			return err
		}
		if cs[0].Owner == nil && plan.Owner != nil {
			if _, err := tx.SetOwner(ctx, primaryID, &plan.Owner.ID, crm.OwnerExpectation{}, now); err != nil {
				return err
			}
		}
		var acts []crm.Activity
		b := func(v any) json.RawMessage { j, _ := json.Marshal(v); return j }
		var ids []int64
		var names []string
		for _, c := range cs[1:] {
			ids = append(ids, c.ID)
			names = append(names, c.FullName)
			acts = append(acts, crm.Activity{CustomerID: c.ID, Actor: ref(actor), Kind: crm.ActMergedInto, At: now,
				Data: b(map[string]any{"into": primaryID, "into_name": cs[0].FullName})})
		}
		acts = append(acts, crm.Activity{CustomerID: primaryID, Actor: ref(actor), Kind: crm.ActMergedFrom, At: now, Data: b(map[string]any{
			"from": ids, "from_names": names, "contacts": len(plan.Contacts), "deals": plan.Deals, "notes": plan.Notes, "tasks": plan.Tasks,
			"messages": plan.Messages, "tags": plan.TagsAdded, "segments": plan.SegmentsAdd, "filled": keys(plan.Fill)})})
		return tx.AddActivities(ctx, acts)
	})
	if err != nil {
		return nil, nil, err
	}
	c, err := s.Store.GetCustomer(ctx, primaryID)
	return c, plan, err
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
