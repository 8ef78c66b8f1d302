package storetest

import (
	"cmp"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
)

// CompaniesTableBruteForce checks FindCompanies against a plain scan in Go:
// every filter combination with every sort, walking all cursors, and the
// total; also the owners of each company and its count of active customers.
func CompaniesTableBruteForce(t *testing.T, s crm.Store) {
	users := []*crm.User{newUser(t, s, "ann@example.com", crm.RoleMember), newUser(t, s, "bob@example.com", crm.RoleMember),
		newUser(t, s, "cy@example.com", crm.RoleAdmin), newUser(t, s, "dee@example.com", crm.RoleMember), newUser(t, s, "eve@example.com", crm.RoleMember)}
	names := []string{"Acme", "ACME Labs", "acorn_ltd", "Beta AG", "Öl AG", "Ölwerk", "Zeta", "Mac Foods", "Delta 100%", "Bacon & Co",
		"Gamma", "Alpha", "Acre", "Lacquer", "Omega", "Sigma", "Theta", "Kappa", "Ion", "Io", "Xi", "Ac",
		"Rho", "Tau", "Upsilon", "Phi"}
	domains := []string{"acme.com", "", "acorn.io", "beta.de", "", "oel.de", "zeta.io", "macfoods.com", "", "bacon.co",
		"gamma.io", "", "acre.io", "lacquer.fr", "", "sigma.com", "theta.io", "", "ion.io", "io.io", "", "ac.ac",
		"rho.de", "", "upsilon.io", "phi.de"}
	countries := []string{"DE", "", "FR", "DE", "AT", "", "FR", "US", "DE", "", "US", "FR", "", "DE", "GB", "", "DE", "FR", "", "US", "AT", "DE",
		"DE", "DE", "DE", "DE"}
	var cos []crm.Company
	for i, n := range names {
		// created: some companies share a time, to test the keyset's ties
		c := &crm.Company{Name: n, Domain: domains[i], Country: countries[i], CreatedAt: t0.Add(time.Duration(i/3) * 24 * time.Hour)}
		must(t, s.CreateCompany(ctx, c))
		cos = append(cos, *c)
	}
	// customers: i-th company gets i%5 customers, some archived, owners varied
	type cust struct {
		company  int64
		owner    *int64
		archived bool
	}
	var custs []cust
	for i, c := range cos {
		for k := range i % 5 {
			var owner *int64
			if (i+k)%4 != 0 {
				owner = &users[(i*k+k)%len(users)].ID
			}
			id, err := s.CreateCustomer(ctx, crm.NewCustomer{FullName: fmt.Sprintf("C %d %d", i, k), CompanyID: &c.ID, OwnerID: owner, CreatedAt: t0})
			must(t, err)
			archived := (i+k)%3 == 0
			if archived {
				at := t0.Add(time.Hour)
				must(t, s.SetArchived(ctx, id, &at, nil, at))
			}
			custs = append(custs, cust{c.ID, owner, archived})
		}
	}
	// an archived company is never listed
	gone := &crm.Company{Name: "Archived Acme", Domain: "gone-acme.com", Country: "DE", CreatedAt: t0}
	must(t, s.CreateCompany(ctx, gone))
	archiveCompany(t, s, gone.ID)

	active := map[int64]int{}
	ownerIDs := map[int64]map[int64]bool{}
	for _, c := range custs {
		if c.archived {
			continue
		}
		active[c.company]++
		if c.owner != nil {
			if ownerIDs[c.company] == nil {
				ownerIDs[c.company] = map[int64]bool{}
			}
			ownerIDs[c.company][*c.owner] = true
		}
	}
	for i := range cos {
		cos[i].CustomersActive = active[cos[i].ID]
		got, err := s.GetCompany(ctx, cos[i].ID)
		must(t, err)
		if got.CustomersActive != cos[i].CustomersActive || got.Country != cos[i].Country || got.Domain != cos[i].Domain {
			t.Fatalf("company %s: got %+v, want %d active customers", cos[i].Name, got, cos[i].CustomersActive)
		}
	}

	// owners: distinct, the first three by name, and how many more
	ids := make([]int64, len(cos))
	for i, c := range cos {
		ids[i] = c.ID
	}
	owners, err := s.CompanyOwners(ctx, ids, 3)
	must(t, err)
	userName := map[int64]string{}
	for _, u := range users {
		userName[u.ID] = u.Name
	}
	for _, c := range cos {
		var want []string
		for id := range ownerIDs[c.ID] {
			want = append(want, userName[id])
		}
		slices.Sort(want)
		var got []string
		for _, u := range owners[c.ID].First {
			got = append(got, u.Name)
		}
		more := max(0, len(want)-3)
		if len(want) > 3 {
			want = want[:3]
		}
		if !slices.Equal(got, want) || owners[c.ID].More != more {
			t.Fatalf("owners of %s: got %v +%d, want %v +%d", c.Name, got, owners[c.ID].More, want, more)
		}
	}

	day := func(n int) *time.Time { d := t0.Truncate(24*time.Hour).AddDate(0, 0, n); return &d }
	qs := []string{"", "ac", ".io", "ö", "_", "100%", "nothing"}
	countrySets := [][]string{nil, {"DE"}, {"FR", "US"}}
	hases := []*bool{nil, ptr(true), ptr(false)}
	ranges := [][2]*time.Time{{nil, nil}, {day(2), nil}, {nil, day(3)}, {day(1), day(4)}}
	combos := 0
	for _, q := range qs {
		for _, cs := range countrySets {
			for _, has := range hases {
				for _, r := range ranges {
					f := crm.CompanyFilter{Q: q, Countries: cs, HasCustomers: has, CreatedFrom: r[0], CreatedTo: r[1]}
					var want []crm.Company
					for _, c := range cos {
						if companyMatches(c, f) {
							want = append(want, c)
						}
					}
					for _, key := range crm.CompanySortKeys {
						for _, desc := range []bool{false, true} {
							sortKey := key
							if desc {
								sortKey = "-" + key
							}
							combos++
							checkCompanyWalk(t, s, f, sortKey, want, 4)
							if key == "name" || key == "country" {
								// pages of 1: the SQLite store reads few
								// matches (under 4 pages' worth) and walks
								// many differently; with pages of 4 nearly
								// every filter here is few
								checkCompanyWalk(t, s, f, sortKey, want, 1)
							}
						}
					}
				}
			}
		}
	}
	if combos == 0 {
		t.Fatal("no combination ran")
	}
	// the exact-name filter of pickers
	page, err := s.FindCompanies(ctx, crm.CompanyQuery{Filter: crm.CompanyFilter{Name: "acme labs"}})
	must(t, err)
	if len(page.Items) != 1 || page.Items[0].Name != "ACME Labs" || page.Total != 1 {
		t.Fatalf("by name: %+v", page)
	}
	if _, err := s.FindCompanies(ctx, crm.CompanyQuery{Cursor: "nonsense"}); crm.CodeOf(err) != crm.CodeInvalid {
		t.Fatalf("a bad cursor: %v", err)
	}
}

func companyMatches(c crm.Company, f crm.CompanyFilter) bool {
	if q := crm.NameKey(f.Q); q != "" && !strings.Contains(crm.NameKey(c.Name), q) && !strings.Contains(c.Domain, q) {
		return false
	}
	if len(f.Countries) > 0 && !slices.Contains(f.Countries, c.Country) {
		return false
	}
	if f.HasCustomers != nil && *f.HasCustomers != (c.CustomersActive > 0) {
		return false
	}
	if f.CreatedFrom != nil && c.CreatedAt.Before(*f.CreatedFrom) {
		return false
	}
	if f.CreatedTo != nil && !c.CreatedAt.Before(*f.CreatedTo) {
		return false
	}
	return true
}

// companyOrder is the table's order in Go: the key (empty text last in both
// directions), then the id, in the direction asked.
func companyOrder(key string, desc bool) func(a, b crm.Company) int {
	return func(a, b crm.Company) int {
		var c int
		switch key {
		case "name":
			c = strings.Compare(crm.NameKey(a.Name), crm.NameKey(b.Name))
		case "domain", "country":
			av, bv := a.Domain, b.Domain
			if key == "country" {
				av, bv = a.Country, b.Country
			}
			if (av == "") != (bv == "") {
				if av == "" {
					return 1 // empty last, whatever the direction
				}
				return -1
			}
			c = strings.Compare(av, bv)
		case "customers_active":
			c = cmp.Compare(a.CustomersActive, b.CustomersActive)
		case "created":
			c = a.CreatedAt.Compare(b.CreatedAt)
		}
		if c == 0 {
			c = cmp.Compare(a.ID, b.ID)
		}
		if desc {
			c = -c
		}
		return c
	}
}

func checkCompanyWalk(t *testing.T, s crm.Store, f crm.CompanyFilter, sortKey string, want []crm.Company, limit int) {
	t.Helper()
	want = slices.Clone(want)
	slices.SortStableFunc(want, companyOrder(strings.TrimPrefix(sortKey, "-"), strings.HasPrefix(sortKey, "-")))
	var got []int64
	cursor := ""
	for pages := 0; ; pages++ {
		page, err := s.FindCompanies(ctx, crm.CompanyQuery{Filter: f, Sort: sortKey, Limit: limit, Cursor: cursor})
		if err != nil {
			t.Fatalf("%+v sort %s: %v", f, sortKey, err)
		}
		if page.Total != len(want) {
			t.Fatalf("%+v sort %s: total %d, want %d", f, sortKey, page.Total, len(want))
		}
		if len(page.Items) > limit || (page.NextCursor != "" && len(page.Items) != limit) {
			t.Fatalf("%+v sort %s: a page of %d, next %q", f, sortKey, len(page.Items), page.NextCursor)
		}
		for _, c := range page.Items {
			got = append(got, c.ID)
		}
		if page.NextCursor == "" {
			break
		}
		if pages > len(want) {
			t.Fatalf("%+v sort %s: the pages never end", f, sortKey)
		}
		cursor = page.NextCursor
	}
	wantIDs := make([]int64, len(want))
	for i, c := range want {
		wantIDs[i] = c.ID
	}
	if !slices.Equal(got, wantIDs) {
		var names []string
		for _, c := range want {
			names = append(names, c.Name)
		}
		t.Fatalf("%+v sort %s:\n got %v\nwant %v (%v)", f, sortKey, got, wantIDs, names)
	}
}

// archiveCompany archives a company as the company merge does (its store
// method belongs to that work; the table only reads archived_at).
func archiveCompany(t *testing.T, s crm.Store, id int64) {
	t.Helper()
	d, ok := s.(interface{ DB() *sql.DB })
	if !ok {
		t.Fatalf("%T has no database to archive a company in", s)
	}
	_, err := d.DB().ExecContext(ctx, `UPDATE companies SET archived_at = $1 WHERE id = $2`, t0, id)
	must(t, err)
}

// CustomersActiveMaintained checks each company's count of active customers
// after every kind of write that changes a customer's company or state.
func CustomersActiveMaintained(t *testing.T, s crm.Store) {
	u := newUser(t, s, "own@example.com", crm.RoleAdmin)
	a := &crm.Company{Name: "A Corp", CreatedAt: t0}
	b := &crm.Company{Name: "B Corp", Domain: "b.com", CreatedAt: t0}
	must(t, s.CreateCompany(ctx, a))
	must(t, s.CreateCompany(ctx, b))
	check := func(step string) {
		t.Helper()
		for _, co := range []*crm.Company{a, b} {
			got, err := s.GetCompany(ctx, co.ID)
			must(t, err)
			// the count the table shows against the customer list's own count
			page, err := s.FindCustomers(ctx, crm.CustomerQuery{Filter: crm.CustomerFilter{CompanyIDs: []int64{co.ID}, Archived: crm.ArchivedActive}})
			must(t, err)
			if got.CustomersActive != page.Total || got.Customers != page.Total {
				t.Fatalf("%s: %s has customers_active %d, the customer list counts %d", step, co.Name, got.CustomersActive, page.Total)
			}
			list, err := s.FindCompanies(ctx, crm.CompanyQuery{Filter: crm.CompanyFilter{Name: co.Name}})
			must(t, err)
			if len(list.Items) != 1 || list.Items[0].CustomersActive != page.Total {
				t.Fatalf("%s: the table shows %+v for %s, want %d", step, list.Items, co.Name, page.Total)
			}
		}
	}
	var ids []int64
	for i := range 6 {
		id, err := s.CreateCustomer(ctx, crm.NewCustomer{FullName: fmt.Sprint("P", i), CompanyID: &a.ID, CreatedAt: t0})
		must(t, err)
		ids = append(ids, id)
	}
	noCo, err := s.CreateCustomer(ctx, crm.NewCustomer{FullName: "Nobody's", CreatedAt: t0})
	must(t, err)
	check("create")

	must(t, s.UpdateCustomer(ctx, ids[0], crm.CustomerPatch{CompanyID: ptr(&b.ID)}, t0))
	must(t, s.UpdateCustomer(ctx, noCo, crm.CustomerPatch{CompanyID: ptr(&b.ID)}, t0))
	must(t, s.UpdateCustomer(ctx, ids[1], crm.CustomerPatch{CompanyID: ptr[*int64](nil)}, t0))
	name := "Renamed"
	must(t, s.UpdateCustomer(ctx, ids[2], crm.CustomerPatch{FullName: &name}, t0)) // no company change
	check("edit company")

	at := t0.Add(time.Hour)
	must(t, s.SetArchived(ctx, ids[2], &at, nil, at))
	check("archive")
	must(t, s.SetArchived(ctx, ids[2], nil, nil, at))
	check("restore")

	done, err := s.BulkSetArchived(ctx, []int64{ids[2], ids[3], ids[0]}, &at, crm.OwnerExpectation{Any: true}, at)
	must(t, err)
	if len(done) != 3 {
		t.Fatalf("bulk archive did %v", done)
	}
	check("bulk archive")
	// archiving the archived changes nothing
	_, err = s.BulkSetArchived(ctx, []int64{ids[2], ids[3]}, &at, crm.OwnerExpectation{Any: true}, at)
	must(t, err)
	check("bulk archive again")
	_, err = s.BulkSetArchived(ctx, []int64{ids[3]}, nil, crm.OwnerExpectation{Any: true}, at)
	must(t, err)
	check("bulk restore")
	_, err = s.BulkUnarchive(ctx, []int64{ids[2], ids[0]}, at, at)
	must(t, err)
	check("undo of a bulk archive")

	// merge: a customer of A into one of B; the secondary is archived
	must(t, s.MergeInto(ctx, ids[0], []int64{ids[4]}, at))
	check("merge")

	// import: new customers of both companies, and of none
	rows := []crm.ImportedCustomer{
		{Customer: crm.NewCustomer{FullName: "Imp 1", CompanyID: &a.ID, OwnerID: &u.ID, CreatedAt: t0}, CompanyName: a.Name},
		{Customer: crm.NewCustomer{FullName: "Imp 2", CompanyID: &b.ID, CreatedAt: t0}, CompanyName: b.Name},
		{Customer: crm.NewCustomer{FullName: "Imp 3", CompanyID: &b.ID, CreatedAt: t0}, CompanyName: b.Name},
		{Customer: crm.NewCustomer{FullName: "Imp 4", CreatedAt: t0}},
	}
	must(t, s.InsertImported(ctx, rows, at))
	check("import")

	// a failed transaction changes no count
	err = s.InTx(ctx, func(tx crm.Store) error {
		if _, err := tx.BulkSetArchived(ctx, []int64{rows[1].ID, rows[2].ID}, &at, crm.OwnerExpectation{Any: true}, at); err != nil {
			return err
		}
		return fmt.Errorf("injected")
	})
	if err == nil || err.Error() != "injected" {
		t.Fatalf("rolled back: %v", err)
	}
	check("rolled back")
}

// ImportFillsCompanyCountry checks that an import gives a company without a
// country the most common country of its customers, and never overwrites one.
func ImportFillsCompanyCountry(t *testing.T, s crm.Store) {
	ids, err := s.EnsureCompanies(ctx, []string{"Fresh GmbH", "Set Ltd"}, t0)
	must(t, err)
	fresh, set := ids[crm.NameKey("Fresh GmbH")], ids[crm.NameKey("Set Ltd")]
	co, err := s.GetCompany(ctx, set)
	must(t, err)
	co.Country = "GB"
	must(t, s.UpdateCompany(ctx, co))
	var rows []crm.ImportedCustomer
	for i, c := range []string{"DE", "AT", "DE", "", "AT", "DE"} {
		rows = append(rows, crm.ImportedCustomer{Customer: crm.NewCustomer{FullName: fmt.Sprint("F", i), CompanyID: &fresh, Country: c, CreatedAt: t0}},
			crm.ImportedCustomer{Customer: crm.NewCustomer{FullName: fmt.Sprint("S", i), CompanyID: &set, Country: c, CreatedAt: t0}})
	}
	must(t, s.InsertImported(ctx, rows, t0))
	if got, _ := s.GetCompany(ctx, fresh); got.Country != "DE" || got.CustomersActive != 6 {
		t.Fatalf("fresh company %+v", got)
	}
	if got, _ := s.GetCompany(ctx, set); got.Country != "GB" {
		t.Fatalf("a set country was overwritten: %+v", got)
	}
}

// CompanyDomainUnique checks that the store refuses a second listed company
// with a domain, and finds a company by domain.
func CompanyDomainUnique(t *testing.T, s crm.Store) {
	a := &crm.Company{Name: "First", Domain: "first.com", CreatedAt: t0}
	must(t, s.CreateCompany(ctx, a))
	wantCode(t, s.CreateCompany(ctx, &crm.Company{Name: "Second", Domain: "first.com", CreatedAt: t0}), crm.CodeConflict)
	b := &crm.Company{Name: "Second", Domain: "second.com", CreatedAt: t0}
	must(t, s.CreateCompany(ctx, b))
	b.Domain = "first.com"
	wantCode(t, s.UpdateCompany(ctx, b), crm.CodeConflict)
	got, err := s.FindCompanyByDomain(ctx, "first.com")
	must(t, err)
	if got.ID != a.ID {
		t.Fatalf("by domain: %+v", got)
	}
	if _, err := s.FindCompanyByDomain(ctx, "nobody.com"); crm.CodeOf(err) != crm.CodeNotFound {
		t.Fatalf("unknown domain: %v", err)
	}
	// an archived company frees its domain
	archiveCompany(t, s, a.ID)
	must(t, s.UpdateCompany(ctx, b))
	// companies without a domain are many
	must(t, s.CreateCompany(ctx, &crm.Company{Name: "None 1", CreatedAt: t0}))
	must(t, s.CreateCompany(ctx, &crm.Company{Name: "None 2", CreatedAt: t0}))
}

// CompanyFilterEverywhere checks that the customer filter by several
// companies means the same in the list, its count, the ids "select all
// matching" bulk work walks and the export.
func CompanyFilterEverywhere(t *testing.T, s crm.Store) {
	var cos []*crm.Company
	for _, n := range []string{"One", "Two", "Three"} {
		c := &crm.Company{Name: n, CreatedAt: t0}
		must(t, s.CreateCompany(ctx, c))
		cos = append(cos, c)
	}
	want := map[int64]bool{}
	for i := range 30 {
		nc := crm.NewCustomer{FullName: fmt.Sprint("K", i), CreatedAt: t0.Add(time.Duration(i) * time.Minute)}
		if i%4 != 3 {
			nc.CompanyID = &cos[i%4].ID
		}
		id, err := s.CreateCustomer(ctx, nc)
		must(t, err)
		archived := i%5 == 0
		if archived {
			must(t, s.SetArchived(ctx, id, &t0, nil, t0))
		}
		if (i%4 == 0 || i%4 == 2) && !archived {
			want[id] = true
		}
	}
	f := crm.CustomerFilter{CompanyIDs: []int64{cos[0].ID, cos[2].ID}, Archived: crm.ArchivedActive}
	got := map[int64]bool{}
	cursor := ""
	for {
		page, err := s.FindCustomers(ctx, crm.CustomerQuery{Filter: f, Sort: "name", Limit: 4, Cursor: cursor})
		must(t, err)
		if page.Total != len(want) {
			t.Fatalf("count %d, want %d", page.Total, len(want))
		}
		for _, c := range page.Items {
			if c.Company == nil || (c.Company.ID != cos[0].ID && c.Company.ID != cos[2].ID) {
				t.Fatalf("listed a customer of another company: %+v", c)
			}
			got[c.ID] = true
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	ids, err := s.CustomerIDs(ctx, f, 0, 1000)
	must(t, err)
	exported := map[int64]bool{}
	must(t, s.ExportCustomers(ctx, f, 7, func(cs []crm.Customer) error {
		for _, c := range cs {
			exported[c.ID] = true
		}
		return nil
	}))
	if len(got) != len(want) || len(ids) != len(want) || len(exported) != len(want) {
		t.Fatalf("list %d, bulk ids %d, export %d; want %d", len(got), len(ids), len(exported), len(want))
	}
	for _, id := range ids {
		if !want[id] || !got[id] || !exported[id] {
			t.Fatalf("customer %d: wanted %v, listed %v, exported %v", id, want[id], got[id], exported[id])
		}
	}
}
