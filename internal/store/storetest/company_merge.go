package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
)

func newCompany(t *testing.T, s crm.Store, name, domain string) *crm.Company {
	t.Helper()
	c := &crm.Company{Name: name, Domain: domain, CreatedAt: t0}
	err := s.CreateCompany(ctx, c)
	if crm.CodeOf(err) == crm.CodeConflict && domain != "" {
		// a domain is unique among active companies (as written: the
		// service normalises it first); the seeded sets draw domains at
		// random, so a taken one is left out
		c = &crm.Company{Name: name, CreatedAt: t0}
		err = s.CreateCompany(ctx, c)
	}
	must(t, err)
	return c
}

func customersOf(t *testing.T, s crm.Store, companyID int64) []int64 {
	t.Helper()
	p, err := s.FindCustomers(ctx, crm.CustomerQuery{Filter: crm.CustomerFilter{CompanyIDs: []int64{companyID}, Archived: crm.ArchivedAll}, Sort: "name", Limit: 500})
	must(t, err)
	var ids []int64
	for _, c := range p.Items {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	return ids
}

func searchIDs(t *testing.T, s crm.Store, q string) []int64 {
	t.Helper()
	p, err := s.FindCustomers(ctx, crm.CustomerQuery{Filter: crm.CustomerFilter{Q: q, Archived: crm.ArchivedAll}, Sort: "name", Limit: 500})
	must(t, err)
	var ids []int64
	for _, c := range p.Items {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	return ids
}

// companySnapshot is what a company merge may change, to compare before
// and after one that failed.
type companySnapshot struct {
	Companies map[int64]crm.CompanyState
	Customers map[int64][]int64
	Searches  map[string][]int64
	BySort    []int64
	Log       map[int64]int
}

func snapshotCompanies(t *testing.T, s crm.Store, ids []int64, words []string) companySnapshot {
	t.Helper()
	snap := companySnapshot{Companies: map[int64]crm.CompanyState{}, Customers: map[int64][]int64{}, Searches: map[string][]int64{}, Log: map[int64]int{}}
	for _, id := range ids {
		c, err := s.GetCompanyState(ctx, id)
		must(t, err)
		c.UpdatedAt = time.Time{}
		snap.Companies[id] = *c
		snap.Customers[id] = customersOf(t, s, id)
		l, err := s.ListCompanyActivity(ctx, id, 500)
		must(t, err)
		snap.Log[id] = len(l)
	}
	for _, w := range words {
		snap.Searches[w] = searchIDs(t, s, w)
	}
	p, err := s.FindCustomers(ctx, crm.CustomerQuery{Filter: crm.CustomerFilter{Archived: crm.ArchivedAll}, Sort: "company", Limit: 500})
	must(t, err)
	for _, c := range p.Items {
		snap.BySort = append(snap.BySort, c.ID)
	}
	return snap
}

// CompanyMerge checks the store's part of a company merge: every customer
// of the merged companies (archived ones too) ends on the kept one, by
// company, by the company sort (company_key) and by search (its name is in
// their search text); the merged companies are archived pointing at the
// kept one, as are those merged into them before; the kept one's empty
// domain is filled; the log entries are kept. A merge whose transaction
// fails halfway, or that meets a company archived meanwhile, changes
// nothing.
func CompanyMerge(t *testing.T, s crm.Store) {
	keep := newCompany(t, s, "Zeta Works", "")
	b := newCompany(t, s, "Quorra Inc", "quorra.example")
	c := newCompany(t, s, "Quorra Ltd", "")
	old := newCompany(t, s, "Quorra Old", "")
	mid := newCompany(t, s, "Mid Co", "")
	var onKeep, onB, onC, onOld, onMid []int64
	add := func(list *[]int64, co *crm.Company, name string) int64 {
		id, err := s.CreateCustomer(ctx, crm.NewCustomer{FullName: name, CompanyID: &co.ID, CreatedAt: t0})
		must(t, err)
		*list = append(*list, id)
		return id
	}
	for i := range 3 {
		add(&onKeep, keep, fmt.Sprintf("Keeper %d", i))
		add(&onMid, mid, fmt.Sprintf("Middle %d", i))
	}
	for i := range 40 {
		add(&onB, b, fmt.Sprintf("Bee %d", i))
	}
	add(&onC, c, "Cee One")
	gone := add(&onC, c, "Cee Archived")
	must(t, s.SetArchived(ctx, gone, &t0, nil, t0))
	add(&onOld, old, "Olga Old")

	// old was merged into c before
	must(t, s.InTx(ctx, func(tx crm.Store) error {
		must(t, tx.LockCompanies(ctx, []int64{c.ID, old.ID}))
		moved, err := tx.MergeCompanies(ctx, c.ID, []int64{old.ID}, "", t0)
		if len(moved) != 1 || moved[0] != (crm.MovedCustomer{CustomerID: onOld[0], FromCompany: old.ID}) {
			t.Errorf("first merge moved %+v", moved)
		}
		return err
	}))
	onC = append(onC, onOld...)

	// Zeta Works takes in both (its empty domain filled).
	boom := errors.New("injected failure")
	must(t, s.InTx(ctx, func(tx crm.Store) error {
		if _, err := tx.MergeCompanies(ctx, keep.ID, []int64{b.ID, c.ID}, "quorra.example", t0.Add(time.Hour)); err != nil {
			return err
		}
		return tx.AddCompanyActivity(ctx, []crm.CompanyActivity{{CompanyID: keep.ID, Kind: crm.CompanyActMergedFrom, At: t0}})
	}))
	// The merge's result.
	for _, id := range []int64{b.ID, c.ID, old.ID} {
		st, err := s.GetCompanyState(ctx, id)
		must(t, err)
		if st.ArchivedAt == nil || st.MergedInto == nil || *st.MergedInto != keep.ID {
			t.Fatalf("company %s after the merge: %+v", st.Name, st)
		}
		if got := customersOf(t, s, id); len(got) != 0 {
			t.Fatalf("company %s still has customers %v", st.Name, got)
		}
	}
	kept, err := s.GetCompanyState(ctx, keep.ID)
	must(t, err)
	if kept.ArchivedAt != nil || kept.Domain != "quorra.example" || kept.Customers != len(onKeep)+len(onB)+len(onC)-1 {
		t.Fatalf("kept company %+v", kept)
	}
	want := slices.Sorted(slices.Values(slices.Concat(onKeep, onB, onC)))
	if got := customersOf(t, s, keep.ID); !reflect.DeepEqual(got, want) {
		t.Fatalf("customers of the kept company %v, want %v", got, want)
	}
	// the company sort: Mid Co's customers, then every one of Zeta Works's
	// in id order (a moved customer with its old company's key would sort
	// before them)
	p, err := s.FindCustomers(ctx, crm.CustomerQuery{Filter: crm.CustomerFilter{Archived: crm.ArchivedAll, IDs: slices.Concat(want, onMid)}, Sort: "company", Limit: 500})
	must(t, err)
	var bySort []int64
	for _, x := range p.Items {
		bySort = append(bySort, x.ID)
	}
	if wantSort := slices.Concat(onMid, want); !reflect.DeepEqual(bySort, wantSort) {
		t.Fatalf("sorted by company %v, want %v", bySort, wantSort)
	}
	if got := searchIDs(t, s, "zeta"); !reflect.DeepEqual(got, want) {
		t.Fatalf("search for the kept company's name finds %v, want %v", got, want)
	}
	if got := searchIDs(t, s, "quorra"); len(got) != 0 {
		t.Fatalf("search for the merged companies' name still finds %v", got)
	}
	l, err := s.ListCompanyActivity(ctx, keep.ID, 10)
	must(t, err)
	if len(l) != 1 || l[0].Kind != crm.CompanyActMergedFrom || !l[0].At.Equal(t0) {
		t.Fatalf("kept company's log %+v", l)
	}
	// a merged company's name leads to the kept one; pickers list it no more
	if got, err := s.FindCompanyByName(ctx, "QUORRA inc"); err != nil || got.ID != keep.ID {
		t.Fatalf("find a merged company by name: %+v %v", got, err)
	}
	ids, err := s.EnsureCompanies(ctx, []string{"Quorra Ltd", "Quorra Old"}, t0)
	must(t, err)
	if ids[crm.NameKey("Quorra Ltd")] != keep.ID || ids[crm.NameKey("Quorra Old")] != keep.ID {
		t.Fatalf("ensure merged companies: %v, want %d", ids, keep.ID)
	}
	if list, _ := s.ListCompanies(ctx, "quorra", 10); len(list) != 0 {
		t.Fatalf("merged companies listed: %+v", list)
	}
	// a company no longer active: conflict
	must(t, s.InTx(ctx, func(tx crm.Store) error {
		_, err := tx.MergeCompanies(ctx, keep.ID, []int64{b.ID}, "", t0)
		wantCode(t, err, crm.CodeConflict)
		_, err = tx.MergeCompanies(ctx, b.ID, []int64{mid.ID}, "", t0)
		wantCode(t, err, crm.CodeConflict)
		return nil
	}))

	// Failures: after every write of a merge (the transaction fails), and
	// a secondary archived meanwhile (the store refuses): nothing changes.
	x := newCompany(t, s, "Xeno", "")
	y := newCompany(t, s, "Yarrow", "yarrow.example")
	var onX, onY []int64
	for i := range 30 {
		add(&onX, x, fmt.Sprintf("Xavier %d", i))
		add(&onY, y, fmt.Sprintf("Yolanda %d", i))
	}
	set := []int64{keep.ID, x.ID, y.ID, mid.ID}
	words := []string{"zeta", "xeno", "yarrow", "xavier"}
	before := snapshotCompanies(t, s, set, words)
	err = s.InTx(ctx, func(tx crm.Store) error {
		if _, err := tx.MergeCompanies(ctx, x.ID, []int64{y.ID}, "yarrow.example", t0.Add(time.Hour)); err != nil {
			return err
		}
		if err := tx.AddCompanyActivity(ctx, []crm.CompanyActivity{{CompanyID: x.ID, Kind: crm.CompanyActMergedFrom, At: t0}}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("failed merge: %v", err)
	}
	if after := snapshotCompanies(t, s, set, words); !reflect.DeepEqual(after, before) {
		t.Fatalf("a failed merge changed things:\n before %+v\n after  %+v", before, after)
	}
	err = s.InTx(ctx, func(tx crm.Store) error {
		_, err := tx.MergeCompanies(ctx, x.ID, []int64{y.ID, b.ID}, "", t0.Add(time.Hour)) // b is merged already
		return err
	})
	wantCode(t, err, crm.CodeConflict)
	if after := snapshotCompanies(t, s, set, words); !reflect.DeepEqual(after, before) {
		t.Fatalf("a refused merge changed things:\n before %+v\n after  %+v", before, after)
	}
}

// CompanyDuplicates checks the groups of possible duplicate companies
// against a brute force over a seeded set: every group of two or more
// active companies sharing a domain key or a name key, domain groups
// first, each by key, with every member up to the cap (oldest first) and
// its active customers; archived companies never count; a page of any size
// continues where the last stopped; a rename or a new domain moves a
// company between groups once the keys are refreshed (the database marks
// them stale whoever writes).
func CompanyDuplicates(t *testing.T, s crm.Store) {
	r := rand.New(rand.NewPCG(13, 20))
	stems := []string{"Acme", "ACME", "Acmé", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay", "Zörg", "Soylent"}
	forms := []string{"", " Inc", " Inc.", ", Inc.", " GmbH", " S.A.", " Ltd", " LLC", " Corp", " AG", " BV", " & Co. KG", " SARL", " Group"}
	domains := []string{"", "", "", "acme.com", "www.acme.com", "https://ACME.com/", "globex.io", "initech.net", "hooli.xyz"}
	type co struct {
		id           int64
		name, domain string
		archived     bool
		active       int
	}
	var cos []*co
	seen := map[string]bool{}
	for len(cos) < 150 {
		name := stems[r.IntN(len(stems))] + forms[r.IntN(len(forms))]
		if r.IntN(5) == 0 {
			name += fmt.Sprintf(" %d", r.IntN(4))
		}
		if seen[crm.NameKey(name)] {
			continue
		}
		seen[crm.NameKey(name)] = true
		c := newCompany(t, s, name, domains[r.IntN(len(domains))])
		cos = append(cos, &co{id: c.ID, name: c.Name, domain: c.Domain})
	}
	// customers, some archived
	for _, c := range cos {
		for range r.IntN(3) {
			id, err := s.CreateCustomer(ctx, crm.NewCustomer{FullName: "P", CompanyID: &c.id, CreatedAt: t0})
			must(t, err)
			if r.IntN(3) == 0 {
				must(t, s.SetArchived(ctx, id, &t0, nil, t0))
			} else {
				c.active++
			}
		}
	}
	// a few companies archived by merges into a fresh company
	sink := newCompany(t, s, "Sink Holding", "")
	cos = append(cos, &co{id: sink.ID, name: sink.Name})
	var merged []int64
	for _, c := range cos[:10] {
		if r.IntN(2) == 0 {
			c.archived = true
			merged = append(merged, c.id)
		}
	}
	must(t, s.InTx(ctx, func(tx crm.Store) error {
		_, err := tx.MergeCompanies(ctx, sink.ID, merged, "", t0)
		return err
	}))
	for _, c := range cos {
		if c.archived {
			cos[len(cos)-1].active += c.active
			c.active = 0
		}
	}
	check := func(label string) {
		t.Helper()
		must(t, s.RefreshCompanyKeys(ctx))
		var want []crm.CompanyGroup
		for _, reason := range []string{crm.SameDomain, crm.SameName} {
			groups := map[string][]*co{}
			for _, c := range cos {
				k := crm.CompanyNameKey(c.name)
				if reason == crm.SameDomain {
					k = crm.CompanyDomainKey(c.domain)
				}
				if !c.archived && k != "" {
					groups[k] = append(groups[k], c)
				}
			}
			var keys []string
			for k, g := range groups {
				if len(g) > 1 {
					keys = append(keys, k)
				}
			}
			sort.Strings(keys)
			for _, k := range keys {
				g := crm.CompanyGroup{Reason: reason, Key: k, Total: len(groups[k])}
				for i, c := range groups[k] {
					if i < crm.MaxGroupMembers {
						g.Companies = append(g.Companies, crm.CompanyMember{ID: c.id, Name: c.name, Domain: c.domain, CustomersActive: c.active, CreatedAt: t0})
					}
				}
				want = append(want, g)
			}
		}
		if len(want) < 5 {
			t.Fatalf("%s: the seed made only %d groups", label, len(want))
		}
		for _, size := range []int{1, 3, 200} {
			var got []crm.CompanyGroup
			after := crm.CompanyGroupKey{}
			for range 1000 {
				page, err := s.CompanyDuplicateGroups(ctx, after, size)
				must(t, err)
				got = append(got, page...)
				if len(page) < size {
					break
				}
				last := page[len(page)-1]
				after = crm.CompanyGroupKey{Reason: last.Reason, Key: last.Key}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s, pages of %d:\n got  %+v\n want %+v", label, size, got, want)
			}
		}
		// the groups of one company
		for _, c := range cos[:40] {
			got, err := s.CompanyGroupsOf(ctx, c.id)
			must(t, err)
			var wantOf []crm.CompanyGroup
			for _, g := range want {
				if slices.ContainsFunc(g.Companies, func(m crm.CompanyMember) bool { return m.ID == c.id }) {
					wantOf = append(wantOf, g)
				}
			}
			if !reflect.DeepEqual(got, wantOf) {
				t.Fatalf("%s: groups of %q: got %+v, want %+v", label, c.name, got, wantOf)
			}
		}
	}
	check("seeded")

	// renames and domains written by the store's own updates
	for _, c := range cos[20:35] {
		name := stems[r.IntN(len(stems))] + forms[r.IntN(len(forms))] + fmt.Sprintf(" r%d", c.id)
		if r.IntN(2) == 0 {
			name = stems[r.IntN(len(stems))] + " " + []string{"Inc", "gmbh", "S.A.R.L."}[r.IntN(3)]
		}
		if seen[crm.NameKey(name)] {
			continue
		}
		seen[crm.NameKey(name)] = true
		c.name = name
		c.domain = domains[r.IntN(len(domains))]
		err := s.UpdateCompany(ctx, &crm.Company{ID: c.id, Name: c.name, Domain: c.domain, UpdatedAt: t0})
		if crm.CodeOf(err) == crm.CodeConflict && c.domain != "" { // a taken domain (unique among active companies) is left out
			c.domain = ""
			err = s.UpdateCompany(ctx, &crm.Company{ID: c.id, Name: c.name, UpdatedAt: t0})
		}
		must(t, err)
	}
	check("after renames")
}
