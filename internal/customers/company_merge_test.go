package customers_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// companyWith makes a company with n customers (owned by owner, nil:
// unclaimed) and returns its id and theirs.
func companyWith(t *testing.T, svc *customers.Service, admin *crm.User, name, domain string, n int, owner *crm.User) (int64, []int64) {
	t.Helper()
	co, err := svc.CreateCompany(ctx, admin, customers.CompanyInput{Name: name, Domain: domain})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := range n {
		nc := customers.NewCustomer{FullName: fmt.Sprintf("%s person %d", name, i), CompanyID: &co.ID}
		if owner != nil {
			nc.OwnerID = &owner.ID
		}
		c, err := svc.Create(ctx, admin, nc)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	return co.ID, ids
}

// companySnap is everything a company merge may change, as text.
func companySnap(t *testing.T, db *store.DB, companies, custs []int64) string {
	t.Helper()
	var b strings.Builder
	for _, id := range companies {
		c, err := db.GetCompanyState(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		l, _ := db.ListCompanyActivity(ctx, id, 500)
		fmt.Fprintf(&b, "co %d %q %q %d %v %v log %d|", c.ID, c.Name, c.Domain, c.Customers, c.ArchivedAt, c.MergedInto, len(l))
	}
	for _, id := range custs {
		c, err := db.GetCustomer(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := db.ListActivity(ctx, id, 0, 500)
		fmt.Fprintf(&b, "cu %d %v %s act %d|", c.ID, c.Company, c.UpdatedAt, len(a))
	}
	return b.String()
}

// TestCompanyMerge: the preview says what the merge then does; every
// customer moves, each with an activity entry the change feed reads; the
// merged company is archived pointing at the kept one; both keep a log
// entry; the kept company's empty domain is filled; a member may merge only
// companies whose customers are theirs or unclaimed.
func TestCompanyMerge(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		svc := customers.New(db)
		admin := mkUser(t, db, "boss@example.com", crm.RoleAdmin)
		mia := mkUser(t, db, "mia@example.com", crm.RoleMember)
		keep, onKeep := companyWith(t, svc, admin, "Acme", "", 2, nil)
		dup, onDup := companyWith(t, svc, admin, "ACME, Inc.", "acme.com", 5, mia)
		gone := onDup[4]
		if _, err := svc.Archive(ctx, admin, gone); err != nil {
			t.Fatal(err)
		}

		// both are listed as possible duplicates, by name
		groups, _, err := svc.CompanyDuplicates(ctx, "", 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(groups) != 1 || groups[0].Reason != crm.SameName || groups[0].Key != "acme" || len(groups[0].Companies) != 2 ||
			groups[0].Companies[1].CustomersActive != 4 {
			t.Fatalf("groups %+v", groups)
		}

		// a member with someone else's customers in the merged company: refused
		other := mkUser(t, db, "other@example.com", crm.RoleMember)
		if _, err := svc.PreviewCompanyMerge(ctx, other, keep, []int64{dup}); crm.CodeOf(err) != crm.CodeForbidden || !strings.Contains(err.Error(), "5 customers") {
			t.Fatalf("member preview of others' customers: %v", err)
		}
		if _, _, err := svc.MergeCompanies(ctx, other, keep, []int64{dup}, true); crm.CodeOf(err) != crm.CodeForbidden {
			t.Fatalf("member merge of others' customers: %v", err)
		}
		if _, _, err := svc.MergeCompanies(ctx, mia, keep, []int64{dup}, false); crm.CodeOf(err) != crm.CodeInvalid {
			t.Fatalf("merge without confirm: %v", err)
		}

		plan, err := svc.PreviewCompanyMerge(ctx, mia, keep, []int64{dup}) // all hers: allowed
		if err != nil {
			t.Fatal(err)
		}
		if plan.Customers != 5 || plan.CustomersActive != 4 || plan.Fill["domain"] != "acme.com" || plan.Primary.ID != keep || len(plan.Secondaries) != 1 {
			t.Fatalf("plan %+v", plan)
		}
		kept, done, err := svc.MergeCompanies(ctx, mia, keep, []int64{dup}, true)
		if err != nil {
			t.Fatal(err)
		}
		if kept.Domain != "acme.com" || kept.Customers != 6 || kept.ArchivedAt != nil || done.Customers != plan.Customers {
			t.Fatalf("kept %+v, plan %+v", kept, done)
		}
		st, _ := db.GetCompanyState(ctx, dup)
		if st.ArchivedAt == nil || st.MergedInto == nil || *st.MergedInto != keep {
			t.Fatalf("merged company %+v", st)
		}
		for _, id := range slices.Concat(onKeep, onDup) {
			c, err := db.GetCustomer(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if c.Company == nil || c.Company.ID != keep || c.Company.Name != "Acme" {
				t.Fatalf("customer %d company %+v", id, c.Company)
			}
		}
		for _, id := range onDup {
			acts, _ := db.ListActivity(ctx, id, 0, 1)
			var d map[string]any
			_ = json.Unmarshal(acts[0].Data, &d)
			if acts[0].Kind != crm.ActUpdated || d["field"] != "company" || acts[0].Actor == nil || acts[0].Actor.ID != mia.ID {
				t.Fatalf("customer %d last activity %+v", id, acts[0])
			}
			if s := customers.Describe(acts[0]); s != "Name of mia@example.com merged the company ACME, Inc. into Acme" {
				t.Fatalf("sentence %q", s)
			}
		}
		if acts, _ := db.ListActivity(ctx, onKeep[0], 0, 10); len(acts) != 1 { // created only
			t.Fatalf("a customer of the kept company got entries %+v", acts)
		}
		logKeep, _ := svc.CompanyLog(ctx, keep, 10)
		logDup, _ := svc.CompanyLog(ctx, dup, 10)
		if len(logKeep) != 1 || logKeep[0].Text != "Name of mia@example.com merged ACME, Inc. into this company (5 customers moved); its domain became acme.com" {
			t.Fatalf("kept company's log %+v", logKeep)
		}
		if len(logDup) != 1 || logDup[0].Text != "Name of mia@example.com merged this company into Acme (5 customers moved)" {
			t.Fatalf("merged company's log %+v", logDup)
		}
		// no longer a possible duplicate; merging it again is a conflict
		if groups, _, _ := svc.CompanyDuplicates(ctx, "", 50); len(groups) != 0 {
			t.Fatalf("groups after the merge %+v", groups)
		}
		if _, _, err := svc.MergeCompanies(ctx, admin, keep, []int64{dup}, true); crm.CodeOf(err) != crm.CodeConflict || !strings.Contains(err.Error(), "already been merged into Acme") {
			t.Fatalf("merge again: %v", err)
		}
		if _, err := svc.PreviewCompanyMerge(ctx, admin, dup, []int64{keep}); crm.CodeOf(err) != crm.CodeConflict {
			t.Fatalf("merge into the merged one: %v", err)
		}
		for name, tc := range map[string]struct {
			primary int64
			secs    []int64
			code    crm.Code
		}{
			"none":      {keep, nil, crm.CodeInvalid},
			"itself":    {keep, []int64{keep}, crm.CodeInvalid},
			"twice":     {keep, []int64{dup, dup}, crm.CodeInvalid},
			"missing":   {keep, []int64{99999}, crm.CodeNotFound},
			"no keeper": {99999, []int64{keep}, crm.CodeNotFound},
		} {
			if _, err := svc.PreviewCompanyMerge(ctx, admin, tc.primary, tc.secs); crm.CodeOf(err) != tc.code {
				t.Errorf("%s: %v", name, err)
			}
		}
	})
}

// TestCompanyMergeFailureHalfwayChangesNothing fails a merge of a company
// with many customers after each of its steps: nothing changes (customers,
// their activity, both companies and their logs).
func TestCompanyMergeFailureHalfwayChangesNothing(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		svc := customers.New(db)
		admin := mkUser(t, db, "boss@example.com", crm.RoleAdmin)
		keep, onKeep := companyWith(t, svc, admin, "Globex", "", 1, nil)
		dup, onDup := companyWith(t, svc, admin, "Globex GmbH", "globex.de", 60, nil)
		cos, custs := []int64{keep, dup}, slices.Concat(onKeep, onDup)
		before := companySnap(t, db, cos, custs)
		boom := errors.New("disk full")
		for _, step := range []string{"company moved", "company logged customers"} {
			customers.SetMergeFault(svc, step, boom)
			if _, _, err := svc.MergeCompanies(ctx, admin, keep, []int64{dup}, true); !errors.Is(err, boom) {
				t.Fatalf("merge failing after %s: %v", step, err)
			}
			if after := companySnap(t, db, cos, custs); after != before {
				t.Fatalf("a merge that failed after %q changed rows:\nbefore %s\nafter  %s", step, before, after)
			}
			if p, _ := svc.List(ctx, crm.CustomerQuery{Filter: crm.CustomerFilter{Q: "globex gmbh"}, Limit: 100}); p.Total != 60 {
				t.Fatalf("search after a failed merge finds %d", p.Total)
			}
		}
		customers.SetMergeFault(svc, "", nil)
		if _, _, err := svc.MergeCompanies(ctx, admin, keep, []int64{dup}, true); err != nil {
			t.Fatal(err)
		}
		if after := companySnap(t, db, cos, custs); after == before {
			t.Fatal("the merge changed nothing")
		}
	})
}

// TestConcurrentCompanyMerges sends two conflicting company merges at the
// same moment, many rounds of each shape (a swapped pair, a shared
// secondary): exactly one succeeds, the other is refused with a conflict,
// and no company ends merged into an archived one (no cycle, no chain).
func TestConcurrentCompanyMerges(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		svc := customers.New(db)
		admin := mkUser(t, db, "boss@example.com", crm.RoleAdmin)
		shapes := []struct {
			name string
			reqs func(a, b, c int64) [2]mergeReq
		}{
			{"swapped pair", func(a, b, c int64) [2]mergeReq { return [2]mergeReq{{a, []int64{b}}, {b, []int64{a}}} }},
			{"shared secondary", func(a, b, c int64) [2]mergeReq { return [2]mergeReq{{a, []int64{c}}, {b, []int64{c}}} }},
			{"same request", func(a, b, c int64) [2]mergeReq { return [2]mergeReq{{a, []int64{b, c}}, {a, []int64{c, b}}} }},
		}
		rounds := 15
		for _, sh := range shapes {
			for round := range rounds {
				var ids [3]int64
				var custs []int64
				for i := range ids {
					var cs []int64
					ids[i], cs = companyWith(t, svc, admin, fmt.Sprintf("%s %d co %d", sh.name, round, i), "", 2, nil)
					custs = append(custs, cs...)
				}
				reqs := sh.reqs(ids[0], ids[1], ids[2])
				var errs [2]error
				together(
					func() { _, _, errs[0] = svc.MergeCompanies(ctx, admin, reqs[0].primary, reqs[0].secs, true) },
					func() { _, _, errs[1] = svc.MergeCompanies(ctx, admin, reqs[1].primary, reqs[1].secs, true) },
				)
				ok := 0
				for _, err := range errs {
					switch {
					case err == nil:
						ok++
					case crm.CodeOf(err) != crm.CodeConflict:
						t.Fatalf("%s round %d: %v", sh.name, round, err)
					}
				}
				if ok != 1 {
					t.Fatalf("%s round %d: %d merges succeeded (%v)", sh.name, round, ok, errs)
				}
				for _, id := range ids {
					st, err := db.GetCompanyState(ctx, id)
					if err != nil {
						t.Fatal(err)
					}
					if st.MergedInto == nil {
						continue
					}
					into, _ := db.GetCompanyState(ctx, *st.MergedInto)
					if st.ArchivedAt == nil || into.ArchivedAt != nil || into.MergedInto != nil {
						t.Fatalf("%s round %d: %+v merged into %+v", sh.name, round, st, into)
					}
				}
				for _, id := range custs {
					c, _ := db.GetCustomer(ctx, id)
					st, _ := db.GetCompanyState(ctx, c.Company.ID)
					if st.ArchivedAt != nil {
						t.Fatalf("%s round %d: customer %d left on the archived company %s", sh.name, round, id, st.Name)
					}
				}
			}
		}
	})
}

// TestCustomerWritesFollowACompanyMerge: a customer written with the id or
// the name of a company merged since (a form opened before the merge, a
// script, an import) is put in the company it was merged into, never in the
// archived one; the edit's log names that company.
func TestCustomerWritesFollowACompanyMerge(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		svc := customers.New(db)
		admin := mkUser(t, db, "boss@example.com", crm.RoleAdmin)
		keep, _ := companyWith(t, svc, admin, "Keep Ltd", "", 1, nil)
		gone, _ := companyWith(t, svc, admin, "Gone Ltd", "", 1, nil)
		other, moved := companyWith(t, svc, admin, "Other Ltd", "", 1, nil)
		if _, _, err := svc.MergeCompanies(ctx, admin, keep, []int64{gone}, true); err != nil {
			t.Fatal(err)
		}
		created, err := svc.Create(ctx, admin, customers.NewCustomer{FullName: "New Person", CompanyID: &gone})
		if err != nil {
			t.Fatal(err)
		}
		edited, err := svc.Update(ctx, admin, moved[0], customers.Patch{CompanyID: ptr(&gone)})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []*crm.Customer{created, edited} {
			if c.Company == nil || c.Company.ID != keep {
				t.Fatalf("%s is in %+v, not in Keep Ltd (%d)", c.FullName, c.Company, keep)
			}
		}
		log, err := db.ListActivity(ctx, edited.ID, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(log) == 0 || !strings.Contains(string(log[0].Data), "Keep Ltd") || strings.Contains(string(log[0].Data), "Gone Ltd") {
			t.Fatalf("the edit's log entry: %s", log[0].Data)
		}
		// the store on its own, as an import writes: by name and by id
		var imported []crm.ImportedCustomer
		err = db.InTx(ctx, func(tx crm.Store) error {
			ids, err := tx.EnsureCompanies(ctx, []string{"gone ltd"}, time.Now())
			if err != nil {
				return err
			}
			if ids["gone ltd"] != keep {
				t.Errorf("the name of the merged company finds %d, not %d", ids["gone ltd"], keep)
			}
			imported = []crm.ImportedCustomer{{Customer: crm.NewCustomer{FullName: "Imported Person", CompanyID: &gone, CreatedAt: time.Now()},
				CompanyName: "Gone Ltd", Activity: "{}"}}
			return tx.InsertImported(ctx, imported, time.Now())
		})
		if err != nil {
			t.Fatal(err)
		}
		c, err := db.GetCustomer(ctx, imported[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Company == nil || c.Company.ID != keep {
			t.Fatalf("the imported customer is in %+v", c.Company)
		}
		// and is found by its company's name, not by the file's
		for q, want := range map[string]int{"imported keep": 1, "imported gone": 0} {
			pg, err := db.FindCustomers(ctx, crm.CustomerQuery{Filter: crm.CustomerFilter{Q: q}, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			if pg.Total != want {
				t.Errorf("a search for %q finds %d, want %d", q, pg.Total, want)
			}
		}
		// the merged company itself is no longer edited: refused, naming
		// the one to edit instead, and left as it was
		newName := "Gone Renamed"
		if _, err := svc.UpdateCompany(ctx, admin, gone, &newName, nil, nil); crm.CodeOf(err) != crm.CodeConflict || !strings.Contains(err.Error(), "Keep Ltd") {
			t.Errorf("an edit of the merged company: %v", err)
		}
		if st, _ := db.GetCompanyState(ctx, gone); st.Name != "Gone Ltd" {
			t.Errorf("the merged company was renamed to %q", st.Name)
		}
		// an id that is no company is refused beside the field
		none := other + 1000
		if _, err := svc.Update(ctx, admin, moved[0], customers.Patch{CompanyID: ptr(&none)}); crm.CodeOf(err) != crm.CodeInvalid {
			t.Fatalf("no such company: %v", err)
		}
	})
}

// TestCustomerWritesMeetACompanyMerge runs customer writes into a company
// at the moment it is merged into another, many rounds: an edit, a new
// customer and an imported one, each with the id the user saw before the
// merge. Whatever the order, every write succeeds and every customer ends in
// the merge's primary. Before the writes locked the company's row they
// could land in the secondary after its customers had moved.
func TestCustomerWritesMeetACompanyMerge(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		svc := customers.New(db)
		admin := mkUser(t, db, "boss@example.com", crm.RoleAdmin)
		for round := range 25 {
			keep, _ := companyWith(t, svc, admin, fmt.Sprintf("Keep %d", round), "", 1, nil)
			gone, goneCusts := companyWith(t, svc, admin, fmt.Sprintf("Gone %d", round), "", 1, nil)
			_, elsewhere := companyWith(t, svc, admin, fmt.Sprintf("Else %d", round), "", 1, nil)
			var errs [4]error
			var created *crm.Customer
			imported := []crm.ImportedCustomer{{Customer: crm.NewCustomer{FullName: fmt.Sprintf("Imported %d", round), CompanyID: &gone,
				CreatedAt: time.Now()}, Activity: "{}"}}
			together(
				func() { _, _, errs[0] = svc.MergeCompanies(ctx, admin, keep, []int64{gone}, true) },
				func() { _, errs[1] = svc.Update(ctx, admin, elsewhere[0], customers.Patch{CompanyID: ptr(&gone)}) },
				func() {
					created, errs[2] = svc.Create(ctx, admin, customers.NewCustomer{FullName: fmt.Sprintf("New %d", round), CompanyID: &gone})
				},
				func() { errs[3] = db.InsertImported(ctx, imported, time.Now()) },
			)
			for i, err := range errs {
				if err != nil {
					t.Fatalf("round %d: write %d: %v", round, i, err)
				}
			}
			for _, id := range []int64{goneCusts[0], elsewhere[0], created.ID, imported[0].ID} {
				c, err := db.GetCustomer(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if c.Company == nil || c.Company.ID != keep {
					t.Fatalf("round %d: %s is in %+v, not in the merge's primary %d", round, c.FullName, c.Company, keep)
				}
			}
			st, err := db.GetCompanyState(ctx, gone)
			if err != nil {
				t.Fatal(err)
			}
			if st.Customers != 0 {
				t.Fatalf("round %d: the archived company has %d customers", round, st.Customers)
			}
		}
	})
}

func ptr[T any](v T) *T { return &v }

// TestSwappingCustomersBetweenCompanies: two edits at once, one moving a
// customer from X to Y and the other one from Y to X, many rounds. Each
// locks both companies (the kept customer counts), and when one locked the
// company joined before the one left, the two deadlocked (PostgreSQL
// refused one with 40P01).
func TestSwappingCustomersBetweenCompanies(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		svc := customers.New(db)
		admin := mkUser(t, db, "boss@example.com", crm.RoleAdmin)
		x, inX := companyWith(t, svc, admin, "X Ltd", "", 1, nil)
		y, inY := companyWith(t, svc, admin, "Y Ltd", "", 1, nil)
		for round := range 30 {
			var errs [2]error
			together(
				func() { _, errs[0] = svc.Update(ctx, admin, inX[0], customers.Patch{CompanyID: ptr(&y)}) },
				func() { _, errs[1] = svc.Update(ctx, admin, inY[0], customers.Patch{CompanyID: ptr(&x)}) },
			)
			for _, err := range errs {
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
			}
			inX, inY = inY, inX
			for _, co := range []int64{x, y} {
				if got, err := db.GetCompany(ctx, co); err != nil || got.CustomersActive != 1 {
					t.Fatalf("round %d: company %d counts %+v (%v)", round, co, got, err)
				}
			}
		}
	})
}
