package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
)

// countDriver is a store whose count of one set and row conditions can be
// told to drive from the rows on small data (sqlstore.Store.SetCountDrive).
type countDriver interface {
	SetCountDrive(bigSet, fewRows int)
}

// CountDrivesFromRows checks that a list of one set (a score range, a tag, a
// segment) and row conditions (a company, an owner, a language) returns the
// same customers, total and pages whether its count reads the set first or
// drives from the rows (a large set and few rows, countFromRows): the same
// filters on two stores over the same data, one told to drive from the rows
// whenever the set has more than 2 members and the rows are at most 12.
func CountDrivesFromRows(t *testing.T, s crm.Store) {
	d, ok := s.(countDriver)
	if !ok {
		t.Fatalf("%T cannot be told how to count", s)
	}
	owner := newUser(t, s, "drive@example.com", crm.RoleMember)
	co := &crm.Company{Name: "Drive Co", CreatedAt: t0, UpdatedAt: t0}
	must(t, s.CreateCompany(ctx, co))
	prod := &crm.Product{Key: "crm", Name: "CRM"}
	must(t, s.CreateProduct(ctx, prod))
	tags, err := s.EnsureTags(ctx, []string{"vip"}, t0)
	must(t, err)
	seg := &crm.Segment{Name: "Drive segment", CreatedAt: t0, UpdatedAt: t0}
	must(t, s.CreateSegment(ctx, seg))
	var ids, members []int64
	for i := range 60 {
		n := crm.NewCustomer{FullName: fmt.Sprintf("Driven %02d", (i*7)%60), Language: []string{"de", "fr", "en"}[i%3],
			CreatedAt: t0.Add(time.Duration(i) * time.Minute)}
		if i%6 == 0 {
			n.CompanyID = &co.ID
		}
		if i%5 == 0 {
			n.OwnerID = &owner.ID
		}
		id, err := s.CreateCustomer(ctx, n)
		must(t, err)
		ids = append(ids, id)
		if i%4 != 3 {
			score := (i * 37) % 100
			must(t, s.SetScore(ctx, id, prod.ID, &score, t0))
		}
		if i%2 == 0 {
			_, err := s.BulkAddTag(ctx, []int64{id}, tags[0].ID, t0)
			must(t, err)
		}
		if i%3 != 1 {
			members = append(members, id)
		}
	}
	_, err = s.AddSegmentMembers(ctx, seg.ID, members, t0)
	must(t, err)
	must(t, s.SetArchived(ctx, ids[12], ptr(t0), nil, t0)) // in the company, scored, tagged

	filters := map[string]crm.CustomerFilter{
		"company and score range":   {CompanyIDs: []int64{co.ID}, ScoreProduct: "crm", ScoreMin: ptr(10), ScoreMax: ptr(90)},
		"owner and score minimum":   {Owner: "user", OwnerID: owner.ID, ScoreProduct: "crm", ScoreMin: ptr(20)},
		"company and tag":           {CompanyIDs: []int64{co.ID}, Tags: []string{"vip"}},
		"owner and segment":         {Owner: "user", OwnerID: owner.ID, SegmentID: seg.ID},
		"company, archived too":     {CompanyIDs: []int64{co.ID}, Archived: crm.ArchivedAll, ScoreProduct: "crm", ScoreMin: ptr(0)},
		"many rows (set first)":     {Languages: []string{"de", "fr"}, ScoreProduct: "crm", ScoreMax: ptr(70)},
		"no score in range":         {CompanyIDs: []int64{co.ID}, ScoreProduct: "crm", ScoreMin: ptr(101)},
		"a tag that does not exist": {CompanyIDs: []int64{co.ID}, Tags: []string{"nobody"}},
	}
	sorts := []string{"", "name", "-score", "owner", "created"}
	type result struct {
		total int
		exact bool
		pages [][]int64
	}
	read := func(f crm.CustomerFilter, sort string) result {
		var r result
		q := crm.CustomerQuery{Filter: f, Sort: sort, Limit: 3}
		for n := 0; n < 30; n++ {
			pg, err := s.FindCustomers(ctx, q)
			must(t, err)
			r.total, r.exact = pg.Total, pg.TotalExact
			r.pages = append(r.pages, idsOf(pg.Items))
			if pg.NextCursor == "" {
				break
			}
			q.Cursor = pg.NextCursor
		}
		return r
	}
	want := map[string]result{}
	for name, f := range filters {
		for _, sort := range sorts {
			want[name+" "+sort] = read(f, sort)
		}
	}
	d.SetCountDrive(2, 12)
	t.Cleanup(func() { d.SetCountDrive(30000, 20000) })
	for name, f := range filters {
		for _, sort := range sorts {
			got, exp := read(f, sort), want[name+" "+sort]
			if got.total != exp.total || got.exact != exp.exact || fmt.Sprint(got.pages) != fmt.Sprint(exp.pages) {
				t.Errorf("%s, sort %q: driven from the rows %d %v %v, set first %d %v %v", name, sort,
					got.total, got.exact, got.pages, exp.total, exp.exact, exp.pages)
			}
		}
	}
	// and the rows-first count is the filter's: the company's scored customers in range
	all, err := s.FindCustomers(ctx, crm.CustomerQuery{Filter: filters["company and score range"], Limit: 100})
	must(t, err)
	var exp []int64
	for i, id := range ids {
		if score := (i * 37) % 100; i%6 == 0 && i%4 != 3 && i != 12 && score >= 10 && score <= 90 {
			exp = append(exp, id)
		}
	}
	got := idsOf(all.Items)
	slices.Sort(got)
	if fmt.Sprint(got) != fmt.Sprint(exp) || all.Total != len(exp) || len(exp) < 3 {
		t.Errorf("company and score range: %v (total %d), want %v", got, all.Total, exp)
	}
}

// hashBounder is a store whose score sort over row conditions can be told
// when to check the walked scores against a hash of the matches' ids
// (sqlstore.Store.SetHashBound; PostgreSQL plans by it, SQLite ignores it).
type hashBounder interface {
	SetHashBound(n int64)
}

// ScoreSortHashedOrNot checks that a score sort of row conditions (an
// owner, no owner, a language) returns the same pages and the same exact
// total whether its matches are few enough to be hashed or not: on small
// data they always are, so the store is told a bound of 1, then of 5. The
// count stops at the bound when it decides; the total shown must not (it
// did below about 30,000 customers, where the bound is under CountCap).
func ScoreSortHashedOrNot(t *testing.T, s crm.Store) {
	h, ok := s.(hashBounder)
	if !ok {
		t.Fatalf("%T cannot be told when to hash", s)
	}
	owner := newUser(t, s, "hash@example.com", crm.RoleMember)
	prod := &crm.Product{Key: "crm", Name: "CRM"}
	must(t, s.CreateProduct(ctx, prod))
	want := map[string]int{}
	for i := range 40 {
		n := crm.NewCustomer{FullName: fmt.Sprintf("Hashed %02d", (i*11)%40), Language: []string{"de", "fr"}[i%2],
			CreatedAt: t0.Add(time.Duration(i) * time.Minute)}
		if i%3 != 0 {
			n.OwnerID = &owner.ID
		}
		id, err := s.CreateCustomer(ctx, n)
		must(t, err)
		if i%5 != 4 {
			score := (i * 29) % 100
			must(t, s.SetScore(ctx, id, prod.ID, &score, t0))
		}
		if i == 7 {
			must(t, s.SetArchived(ctx, id, ptr(t0), nil, t0)) // owned, scored, "fr"
			continue
		}
		if i%3 != 0 {
			want["owner"]++
		} else {
			want["no owner"]++
		}
		if i%2 == 0 {
			want["language"]++
		}
		if i%3 != 0 && i%2 == 0 {
			want["owner and language"]++
		}
	}
	filters := map[string]crm.CustomerFilter{
		"owner":              {Owner: "user", OwnerID: owner.ID},
		"no owner":           {Owner: "none"},
		"language":           {Languages: []string{"de"}},
		"owner and language": {Owner: "user", OwnerID: owner.ID, Languages: []string{"de"}},
	}
	type result struct {
		total int
		exact bool
		pages string
	}
	read := func(f crm.CustomerFilter, sort string) result {
		var r result
		var pages [][]int64
		q := crm.CustomerQuery{Filter: f, Sort: sort, Limit: 4}
		for n := 0; n < 30; n++ {
			pg, err := s.FindCustomers(ctx, q)
			must(t, err)
			r.total, r.exact = pg.Total, pg.TotalExact
			pages = append(pages, idsOf(pg.Items))
			if pg.NextCursor == "" {
				break
			}
			q.Cursor = pg.NextCursor
		}
		r.pages = fmt.Sprint(pages)
		return r
	}
	sorts := []string{"score", "-score"}
	hashed := map[string]result{}
	for name, f := range filters {
		for _, sort := range sorts {
			r := read(f, sort)
			if r.total != want[name] || !r.exact {
				t.Errorf("%s, sort %s: total %d (exact %v), want %d", name, sort, r.total, r.exact, want[name])
			}
			hashed[name+" "+sort] = r
		}
	}
	t.Cleanup(func() { h.SetHashBound(0) })
	for _, bound := range []int64{1, 5} {
		h.SetHashBound(bound)
		for name, f := range filters {
			for _, sort := range sorts {
				if got, exp := read(f, sort), hashed[name+" "+sort]; got != exp {
					t.Errorf("bound %d, %s, sort %s: %d %v %s, hashed %d %v %s", bound, name, sort,
						got.total, got.exact, got.pages, exp.total, exp.exact, exp.pages)
				}
			}
		}
	}
}
