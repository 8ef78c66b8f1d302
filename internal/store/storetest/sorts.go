package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
)

// SortsEmptyLast checks every sort of the customer list (issue 12, item 7)
// both ways against a sort in Go over a seeded set: customers with a value in
// order of (value, id), then those without one in id order, in both
// directions; keyset pages forwards and backwards return exactly that, with
// each page's position. The company and owner sort keys are written where a
// company or an owner changes (a rename, a bulk owner change, an import), and
// the set is checked after those changes.
func SortsEmptyLast(t *testing.T, s crm.Store) {
	users := make([]*crm.User, 3)
	for i, name := range []string{"Zed Zimmer", "anna Adams", "Bob Brown"} {
		users[i] = &crm.User{Email: fmt.Sprintf("u%d@example.com", i), Name: name, Role: crm.RoleMember, Active: true, CreatedAt: t0}
		must(t, s.CreateUser(ctx, users[i]))
	}
	companies := make([]*crm.Company, 3)
	for i, name := range []string{"Globex", "acme", "Initech"} {
		companies[i] = &crm.Company{Name: name, CreatedAt: t0, UpdatedAt: t0}
		must(t, s.CreateCompany(ctx, companies[i]))
	}
	prods := make([]*crm.Product, 2)
	for i, key := range []string{"crm", "erp"} {
		prods[i] = &crm.Product{Key: key, Name: key, Position: i}
		must(t, s.CreateProduct(ctx, prods[i]))
	}
	tags, err := s.EnsureTags(ctx, []string{"vip"}, t0)
	must(t, err)
	countries := []string{"DE", "", "FR", "AT"}
	var ids []int64
	for i := range 30 {
		n := crm.NewCustomer{FullName: fmt.Sprintf("Customer %02d", (i*7)%11), Country: countries[i%4], Language: []string{"de", "", "en"}[i%3],
			CreatedAt: t0.Add(time.Duration((i*13)%17) * time.Hour)}
		if i%4 != 3 {
			n.CompanyID = &companies[i%3].ID
		}
		if i%5 != 4 {
			n.OwnerID = &users[i%3].ID
		}
		id, err := s.CreateCustomer(ctx, n)
		must(t, err)
		ids = append(ids, id)
		if i%3 != 2 {
			must(t, s.AddContact(ctx, &crm.Contact{CustomerID: id, Channel: crm.ChannelEmail, Value: fmt.Sprintf("c%d@example.com", (i*5)%9)}, t0))
		}
		if i%4 != 1 {
			score := (i * 37) % 10
			must(t, s.SetScore(ctx, id, prods[0].ID, &score, t0))
		}
		if i%3 == 0 {
			score := (i * 11) % 7
			must(t, s.SetScore(ctx, id, prods[1].ID, &score, t0))
		}
		if i%2 == 0 {
			_, err := s.BulkAddTag(ctx, []int64{id}, tags[0].ID, t0)
			must(t, err)
		}
	}
	must(t, s.SetArchived(ctx, ids[7], ptr(t0), nil, t0))

	// changes the keys must follow
	companies[0].Name = "Umbrella"
	must(t, s.UpdateCompany(ctx, companies[0]))
	_, err = s.UpdateUser(ctx, users[2].ID, crm.UserPatch{Name: ptr("Ærnie Ernst")}, t0)
	must(t, err)
	_, err = s.BulkSetOwner(ctx, ids[10:14], &users[1].ID, crm.OwnerExpectation{Any: true}, t0)
	must(t, err)
	_, err = s.SetOwner(ctx, ids[15], nil, crm.OwnerExpectation{Any: true}, t0)
	must(t, err)
	must(t, s.UpdateCustomer(ctx, ids[16], crm.CustomerPatch{CompanyID: ptr[*int64](nil)}, t0))
	must(t, s.UpdateCustomer(ctx, ids[17], crm.CustomerPatch{CompanyID: ptr(&companies[2].ID)}, t0))
	imported := []crm.ImportedCustomer{
		{Customer: crm.NewCustomer{FullName: "Imported One", CompanyID: &companies[1].ID, OwnerID: &users[0].ID, CreatedAt: t0}, CompanyName: "ACME"},
		{Customer: crm.NewCustomer{FullName: "Imported Two", CreatedAt: t0}},
	}
	must(t, s.InsertImported(ctx, imported, t0))

	all, err := s.FindCustomers(ctx, crm.CustomerQuery{Limit: 500})
	must(t, err)
	if len(all.Items) != 31 {
		t.Fatalf("%d active customers, want 31", len(all.Items))
	}
	type keyFn func(c crm.Customer) (string, int, bool) // text or score, has a value
	text := func(f func(c crm.Customer) string) keyFn {
		return func(c crm.Customer) (string, int, bool) { v := f(c); return v, 0, v != "" }
	}
	score := func(product string) keyFn {
		return func(c crm.Customer) (string, int, bool) { v, ok := c.Scores[product]; return "", v, ok }
	}
	keys := map[string]keyFn{
		"name":  text(func(c crm.Customer) string { return crm.NameKey(c.FullName) }),
		"email": text(func(c crm.Customer) string { return c.PrimaryEmail }),
		"company": text(func(c crm.Customer) string {
			if c.Company == nil {
				return ""
			}
			return crm.NameKey(c.Company.Name)
		}),
		"owner": text(func(c crm.Customer) string {
			if c.Owner == nil {
				return ""
			}
			return crm.NameKey(c.Owner.Name)
		}),
		"country":  text(func(c crm.Customer) string { return c.Country }),
		"language": text(func(c crm.Customer) string { return c.Language }),
		"created":  text(func(c crm.Customer) string { return c.CreatedAt.UTC().Format(time.RFC3339Nano) }),
		"updated":  text(func(c crm.Customer) string { return c.UpdatedAt.UTC().Format(time.RFC3339Nano) }),
		"score":    score("crm"),
	}
	for _, k := range crm.SortKeys {
		if keys[k] == nil {
			t.Fatalf("sort %q is not checked here", k)
		}
	}
	want := func(items []crm.Customer, key keyFn, desc bool) []int64 {
		sorted := slices.Clone(items)
		slices.SortStableFunc(sorted, func(a, b crm.Customer) int {
			as, an, aok := key(a)
			bs, bn, bok := key(b)
			if aok != bok { // empty values last, whichever the direction
				if aok {
					return -1
				}
				return 1
			}
			c := cmp.Or(cmp.Compare(as, bs), cmp.Compare(an, bn), cmp.Compare(a.ID, b.ID))
			if desc {
				c = -c
			}
			return c
		})
		return idsOf(sorted)
	}
	type variant struct {
		name   string
		f      crm.CustomerFilter
		scores string // the product a score sort orders by
	}
	variants := []variant{
		{"all", crm.CustomerFilter{}, "crm"},
		{"tag (few: read by id)", crm.CustomerFilter{Tags: []string{"vip"}}, "crm"},
		{"search", crm.CustomerFilter{Q: "customer"}, "crm"},
		{"second product", crm.CustomerFilter{ScoreProduct: "erp"}, "erp"},
		{"owner", crm.CustomerFilter{Owner: "user", OwnerID: users[1].ID}, "crm"},
	}
	for _, v := range variants {
		matching, err := s.FindCustomers(ctx, crm.CustomerQuery{Filter: v.f, Limit: 500})
		must(t, err)
		if len(matching.Items) < 5 {
			t.Fatalf("%s: only %d customers match", v.name, len(matching.Items))
		}
		for key, fn := range keys {
			if key == "score" {
				fn = score(v.scores)
			}
			for _, desc := range []bool{false, true} {
				sort := key
				if desc {
					sort = "-" + key
				}
				name := v.name + " " + sort
				exp := want(matching.Items, fn, desc)
				// forwards, page by page
				var got []int64
				var prevs []string
				q := crm.CustomerQuery{Filter: v.f, Sort: sort, Limit: 4}
				for n := 0; ; n++ {
					pg, err := s.FindCustomers(ctx, q)
					must(t, err)
					if pg.Offset != 4*n {
						t.Fatalf("%s: page %d starts at %d, want %d", name, n+1, pg.Offset, 4*n)
					}
					got = append(got, idsOf(pg.Items)...)
					prevs = append(prevs, pg.PrevCursor)
					if pg.NextCursor == "" || n > 20 {
						break
					}
					q.Cursor = pg.NextCursor
				}
				if fmt.Sprint(got) != fmt.Sprint(exp) {
					t.Fatalf("%s:\n got  %v\n want %v", name, got, exp)
				}
				// backwards from the last page to the first
				for n := len(prevs) - 1; n > 0; n-- {
					pg, err := s.FindCustomers(ctx, crm.CustomerQuery{Filter: v.f, Sort: sort, Limit: 4, Cursor: prevs[n], Before: true})
					must(t, err)
					from := 4 * (n - 1)
					if fmt.Sprint(idsOf(pg.Items)) != fmt.Sprint(exp[from:from+4]) || pg.Offset != from {
						t.Fatalf("%s: back to page %d: %v at %d, want %v at %d", name, n, idsOf(pg.Items), pg.Offset, exp[from:from+4], from)
					}
				}
			}
		}
	}
}
