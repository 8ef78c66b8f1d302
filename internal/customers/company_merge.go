package customers

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/acme/crm/internal/crm"
)

// Company merge (issue 13): possible duplicate companies, and merging them
// into the one kept. Who may merge follows SPEC section 4's customer merge:
// an admin always; a member when every customer that would move is theirs
// or unclaimed (a merge cannot be undone, and it changes the company of
// every customer of the merged ones).

// MaxCompanyMerge bounds the companies of one merge (the kept one included).
const MaxCompanyMerge = 20

// CompanyBrief is a company in a merge plan.
type CompanyBrief struct {
	ID              int64  `json:"id"`
	Name            string `json:"name"`
	Domain          string `json:"domain"`
	CustomersActive int    `json:"customers_active"`
}

// CompanyMergePlan is the preview of a company merge.
type CompanyMergePlan struct {
	Primary         CompanyBrief      `json:"primary" doc:"the company kept"`
	Secondaries     []CompanyBrief    `json:"secondaries" doc:"the companies merged into it: archived, pointing at it"`
	Customers       int               `json:"customers" doc:"customers that move to the kept company (archived ones too)"`
	CustomersActive int               `json:"customers_active" doc:"how many of them are active"`
	Fill            map[string]string `json:"fill" doc:"the kept company's empty fields and what fills them"`
}

// checkCompanyMergeIDs checks the shape of a company merge request.
func checkCompanyMergeIDs(primaryID int64, secondaryIDs []int64) error {
	if primaryID < 1 {
		return crm.Invalid("primary_id", "Choose the company to keep.")
	}
	if n := len(secondaryIDs) + 1; n < 2 || n > MaxCompanyMerge {
		return crm.Invalid("secondary_ids", "Merge 2 to %d companies at a time (this was %d).", MaxCompanyMerge, n)
	}
	if slices.Contains(secondaryIDs, primaryID) {
		return crm.Invalid("secondary_ids", "The company kept cannot also be merged into itself; remove it from the others.")
	}
	if len(slices.Compact(slices.Sorted(slices.Values(secondaryIDs)))) != len(secondaryIDs) {
		return crm.Invalid("secondary_ids", "A company is listed twice.")
	}
	return nil
}

// loadCompanyMerge checks a merge request against the companies as st has
// them and loads them, the kept one first. A merge runs it inside its
// transaction after locking the companies, so what it checks still holds
// when the merge writes.
func (s *Service) loadCompanyMerge(ctx context.Context, st crm.Store, actor *crm.User, primaryID int64, secondaryIDs []int64) ([]*crm.CompanyState, error) {
	if err := checkCompanyMergeIDs(primaryID, secondaryIDs); err != nil {
		return nil, err
	}
	var cs []*crm.CompanyState
	for _, id := range append([]int64{primaryID}, secondaryIDs...) {
		c, err := st.GetCompanyState(ctx, id)
		if crm.CodeOf(err) == crm.CodeNotFound {
			return nil, &crm.Error{Code: crm.CodeNotFound, Message: fmt.Sprintf("No company has the id %d.", id)}
		}
		if err != nil {
			return nil, err
		}
		if c.MergedInto != nil {
			into := fmt.Sprintf("company %d", *c.MergedInto)
			if p, err := st.GetCompanyState(ctx, *c.MergedInto); err == nil {
				into = p.Name
			}
			return nil, crm.Conflict("%s has already been merged into %s; nothing was changed.", c.Name, into)
		}
		if c.ArchivedAt != nil {
			return nil, crm.Conflict("%s is archived; only active companies are merged.", c.Name)
		}
		cs = append(cs, c)
	}
	if !actor.IsAdmin() {
		var me int64
		if actor != nil {
			me = actor.ID
		}
		_, _, others, err := st.CountCompanyCustomers(ctx, secondaryIDs, me)
		if err != nil {
			return nil, err
		}
		if others > 0 || actor == nil {
			return nil, crm.Forbidden("%s of these companies %s owned by someone else; members merge only companies whose customers are theirs or unclaimed (ask an admin).",
				plural(others, "customer"), map[bool]string{true: "is", false: "are"}[others == 1])
		}
	}
	return cs, nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// companyPlan says what merging cs[1:] into cs[0] does.
func (s *Service) companyPlan(ctx context.Context, st crm.Store, cs []*crm.CompanyState) (*CompanyMergePlan, error) {
	brief := func(c *crm.CompanyState) CompanyBrief {
		return CompanyBrief{ID: c.ID, Name: c.Name, Domain: c.Domain, CustomersActive: c.Customers}
	}
	p := &CompanyMergePlan{Primary: brief(cs[0]), Secondaries: []CompanyBrief{}, Fill: map[string]string{}}
	ids := make([]int64, 0, len(cs)-1)
	for _, c := range cs[1:] {
		p.Secondaries = append(p.Secondaries, brief(c))
		ids = append(ids, c.ID)
		if _, done := p.Fill["domain"]; !done && cs[0].Domain == "" && c.Domain != "" {
			p.Fill["domain"] = c.Domain
		}
	}
	var err error
	p.Customers, p.CustomersActive, _, err = st.CountCompanyCustomers(ctx, ids, 0)
	return p, err
}

// PreviewCompanyMerge says what a company merge will do, changing nothing.
func (s *Service) PreviewCompanyMerge(ctx context.Context, actor *crm.User, primaryID int64, secondaryIDs []int64) (*CompanyMergePlan, error) {
	cs, err := s.loadCompanyMerge(ctx, s.Store, actor, primaryID, secondaryIDs)
	if err != nil {
		return nil, err
	}
	return s.companyPlan(ctx, s.Store, cs)
}

// MergeCompanies merges the secondaries into the primary in one
// transaction: their customers move to it (each with an entry in its
// activity), they are archived pointing at it, and both sides get an entry
// in their company log. It cannot be undone, so it needs confirm.
//
// Merges run as if one after the other: the transaction first locks every
// company involved (in id order), then reads, checks and plans inside it,
// so of two merges sharing a company the second sees the first's result and
// is refused with a conflict saying why.
func (s *Service) MergeCompanies(ctx context.Context, actor *crm.User, primaryID int64, secondaryIDs []int64, confirm bool) (*crm.CompanyState, *CompanyMergePlan, error) {
	if err := checkCompanyMergeIDs(primaryID, secondaryIDs); err != nil {
		return nil, nil, err
	}
	now := s.now()
	step := func(name string) error {
		if s.mergeFault != nil {
			return s.mergeFault(name)
		}
		return nil
	}
	var plan *CompanyMergePlan
	err := s.Store.InTx(ctx, func(tx crm.Store) error {
		if err := tx.LockCompanies(ctx, append([]int64{primaryID}, secondaryIDs...)); err != nil {
			return err
		}
		cs, err := s.loadCompanyMerge(ctx, tx, actor, primaryID, secondaryIDs)
		if err != nil {
			return err
		}
		if !confirm {
			return crm.Invalid("confirm", "A merge cannot be undone: send \"confirm\": true after looking at the preview.")
		}
		if plan, err = s.companyPlan(ctx, tx, cs); err != nil {
			return err
		}
		moved, err := tx.MergeCompanies(ctx, primaryID, secondaryIDs, plan.Fill["domain"], now)
		if err != nil {
			return err
		}
		if err := step("company moved"); err != nil {
			return err
		}
		b := func(v any) json.RawMessage { j, _ := json.Marshal(v); return j }
		names := map[int64]string{}
		for _, c := range cs {
			names[c.ID] = c.Name
		}
		to := map[string]any{"id": primaryID, "name": cs[0].Name}
		acts := make([]crm.Activity, 0, len(moved))
		perCompany := map[int64]int{}
		for _, m := range moved {
			perCompany[m.FromCompany]++
			acts = append(acts, crm.Activity{CustomerID: m.CustomerID, Actor: ref(actor), Kind: crm.ActUpdated, At: now,
				Data: b(map[string]any{"field": "company", "from": map[string]any{"id": m.FromCompany, "name": names[m.FromCompany]}, "to": to, "company_merge": true})})
		}
		if err := tx.AddActivities(ctx, acts); err != nil {
			return err
		}
		if err := step("company logged customers"); err != nil {
			return err
		}
		var clog []crm.CompanyActivity
		var fromNames []string
		for _, c := range cs[1:] {
			fromNames = append(fromNames, c.Name)
			clog = append(clog, crm.CompanyActivity{CompanyID: c.ID, Actor: ref(actor), Kind: crm.CompanyActMergedInto, At: now,
				Data: b(map[string]any{"into": primaryID, "into_name": cs[0].Name, "customers": perCompany[c.ID]})})
		}
		clog = append(clog, crm.CompanyActivity{CompanyID: primaryID, Actor: ref(actor), Kind: crm.CompanyActMergedFrom, At: now,
			Data: b(map[string]any{"from": secondaryIDs, "from_names": fromNames, "customers": len(moved), "filled": plan.Fill})})
		return tx.AddCompanyActivity(ctx, clog)
	})
	if err != nil {
		return nil, nil, err
	}
	c, err := s.Store.GetCompanyState(ctx, primaryID)
	return c, plan, err
}

// CompanyDuplicates lists groups of possible duplicate companies, a page
// after the cursor ("" from the start; the page's next otherwise).
func (s *Service) CompanyDuplicates(ctx context.Context, cursor string, limit int) (groups []crm.CompanyGroup, next string, err error) {
	after, err := ParseCompanyGroupCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	if err := s.Store.RefreshCompanyKeys(ctx); err != nil {
		return nil, "", err
	}
	groups, err = s.Store.CompanyDuplicateGroups(ctx, after, limit)
	if err != nil {
		return nil, "", err
	}
	if len(groups) == limit {
		last := groups[len(groups)-1]
		next = last.Reason + ":" + last.Key
	}
	return groups, next, nil
}

// ParseCompanyGroupCursor reads a cursor "domain:KEY" or "name:KEY"; "" is the start.
func ParseCompanyGroupCursor(c string) (crm.CompanyGroupKey, error) {
	if c == "" {
		return crm.CompanyGroupKey{}, nil
	}
	reason, key, ok := strings.Cut(c, ":")
	if !ok || (reason != crm.SameDomain && reason != crm.SameName) || key == "" || len(c) > 600 {
		return crm.CompanyGroupKey{}, crm.Invalid("after", "%q is not a position in the list of possible duplicate companies.", c)
	}
	return crm.CompanyGroupKey{Reason: reason, Key: key}, nil
}

// CompanyDuplicatesOf returns the groups of possible duplicates a company
// belongs to (none when it is archived).
func (s *Service) CompanyDuplicatesOf(ctx context.Context, id int64) ([]crm.CompanyGroup, error) {
	if err := s.Store.RefreshCompanyKeys(ctx); err != nil {
		return nil, err
	}
	return s.Store.CompanyGroupsOf(ctx, id)
}

// CompanyState returns a company with its archive state.
func (s *Service) CompanyState(ctx context.Context, id int64) (*crm.CompanyState, error) {
	return s.Store.GetCompanyState(ctx, id)
}

// CompanyEntry is one entry of a company's log with its sentence.
type CompanyEntry struct {
	crm.CompanyActivity
	Text string `json:"text"`
}

// CompanyLog returns a company's log, newest first.
func (s *Service) CompanyLog(ctx context.Context, id int64, limit int) ([]CompanyEntry, error) {
	list, err := s.Store.ListCompanyActivity(ctx, id, limit)
	if err != nil {
		return nil, err
	}
	out := make([]CompanyEntry, len(list))
	for i, a := range list {
		out[i] = CompanyEntry{CompanyActivity: a, Text: DescribeCompany(a)}
	}
	return out, nil
}

// DescribeCompany writes a company log entry as a sentence.
func DescribeCompany(a crm.CompanyActivity) string {
	who := "Someone"
	if a.Actor != nil {
		who = a.Actor.Name
	}
	var d map[string]any
	_ = json.Unmarshal(a.Data, &d)
	moved := func() string {
		n, _ := d["customers"].(float64)
		return plural(int(n), "customer") + " moved"
	}
	switch a.Kind {
	case crm.CompanyActMergedInto:
		name, _ := d["into_name"].(string)
		return fmt.Sprintf("%s merged this company into %s (%s)", who, name, moved())
	case crm.CompanyActMergedFrom:
		var names []string
		if ns, ok := d["from_names"].([]any); ok {
			for _, n := range ns {
				names = append(names, fmt.Sprint(n))
			}
		}
		s := fmt.Sprintf("%s merged %s into this company (%s)", who, strings.Join(names, ", "), moved())
		if f, ok := d["filled"].(map[string]any); ok {
			if dom, ok := f["domain"].(string); ok && dom != "" {
				s += "; its domain became " + dom
			}
		}
		return s
	}
	return fmt.Sprintf("%s: %s", who, a.Kind)
}
