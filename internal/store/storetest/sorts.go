package storetest

import (
	"cmp"
	"database/sql"
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
		// filters that leave one value of a sort key (walked in id order) or none
		{"no owner", crm.CustomerFilter{Owner: crm.OwnerNone}, "crm"},
		{"one country", crm.CustomerFilter{Countries: []string{"DE"}}, "crm"},
		{"one language", crm.CustomerFilter{Languages: []string{"de"}}, "crm"},
		{"one company", crm.CustomerFilter{CompanyIDs: []int64{companies[1].ID}}, "crm"},
		// a score range: a score sort of its product walks the range alone
		{"score range", crm.CustomerFilter{ScoreProduct: "crm", ScoreMin: ptr(2), ScoreMax: ptr(7)}, "crm"},
		{"score minimum and country", crm.CustomerFilter{ScoreProduct: "crm", ScoreMin: ptr(3), Countries: []string{"DE", "FR"}}, "crm"},
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

// SearchFoldsAndExactFirst checks search folding through a store (issue 12,
// item 9): "weiss", "weiß" and "WEISS" find the same customers, and a whole
// e-mail address or phone number shows the customer holding it first.
func SearchFoldsAndExactFirst(t *testing.T, s crm.Store) {
	add := func(name, email, phone string, at time.Duration) int64 {
		t.Helper()
		id, err := s.CreateCustomer(ctx, crm.NewCustomer{FullName: name, CreatedAt: t0.Add(at)})
		must(t, err)
		if email != "" {
			must(t, s.AddContact(ctx, &crm.Contact{CustomerID: id, Channel: crm.ChannelEmail, Value: email}, t0))
		}
		if phone != "" {
			must(t, s.AddContact(ctx, &crm.Contact{CustomerID: id, Channel: crm.ChannelPhone, Value: phone}, t0))
		}
		return id
	}
	exact := add("Anna Weiß", "anna.weiss@example.com", "+4930123456", 0)
	add("Anna Weissmann", "anna.weissmann@example.com", "+49301234567", time.Hour) // newer: first by default
	add("Bernd WEISS", "", "", 2*time.Hour)
	add("Jørgen Æbelø", "", "", 3*time.Hour)
	add("Carl Schwarz", "", "", 4*time.Hour)
	find := func(q string) []int64 {
		t.Helper()
		pg, err := s.FindCustomers(ctx, crm.CustomerQuery{Filter: crm.CustomerFilter{Q: q}})
		must(t, err)
		return idsOf(pg.Items)
	}
	ids := func(q string) string {
		got := find(q)
		slices.Sort(got)
		return fmt.Sprint(got)
	}
	if a, b, c := ids("weiss"), ids("weiß"), ids("WEISS"); a != b || a != c || len(find("weiss")) != 3 {
		t.Fatalf(`"weiss" finds %s, "weiß" %s, "WEISS" %s; want the same 3`, a, b, c)
	}
	if a, b := ids("jorgen aebelo"), ids("JØRGEN ÆBELØ"); a != b || len(find("jorgen aebelo")) != 1 {
		t.Fatalf(`"jorgen aebelo" finds %s, "JØRGEN ÆBELØ" %s`, a, b)
	}
	for _, q := range []string{"anna.weiss@example.com", "+49 30 123456"} {
		got := find(q)
		if len(got) < 2 || got[0] != exact {
			t.Fatalf("%q: %v, want customer %d first of at least 2", q, got, exact)
		}
	}
	// a one-letter term with a longer one (the start of an e-mail address):
	// every term still has to start a word of the customer
	bob := add("Bob Smith", "b.smith@ex.org", "", 6*time.Hour)
	carl := add("Carl Smith", "c.smith@ex.org", "", 7*time.Hour)
	if got := ids("c.smith"); got != fmt.Sprint([]int64{carl}) {
		t.Fatalf(`"c.smith" finds %s, want only Carl Smith (%d)`, got, carl)
	}
	if got := ids("smith b"); got != fmt.Sprint([]int64{bob}) {
		t.Fatalf(`"smith b" finds %s, want only Bob Smith (%d)`, got, bob)
	}
	if got := ids("o smith"); got != fmt.Sprint([]int64{bob, carl}) { // org
		t.Fatalf(`"o smith" finds %s, want both Smiths`, got)
	}
	if got := ids("x smith"); got != "[]" {
		t.Fatalf(`"x smith" finds %s, want nobody`, got)
	}

	// paging past the first page leaves the exact match out
	add("Anna Weiss-Ober", "anna.weiss@example.com.au", "", 5*time.Hour)
	q := crm.CustomerQuery{Filter: crm.CustomerFilter{Q: "anna.weiss@example.com"}, Limit: 2}
	pg, err := s.FindCustomers(ctx, q)
	must(t, err)
	if len(pg.Items) != 2 || pg.Items[0].ID != exact || pg.NextCursor == "" || pg.Total != 3 {
		t.Fatalf("first page of two: %v of %d, next %q", idsOf(pg.Items), pg.Total, pg.NextCursor)
	}
	q.Cursor = pg.NextCursor
	next, err := s.FindCustomers(ctx, q)
	must(t, err)
	if len(next.Items) != 1 || next.Items[0].ID == exact || next.Items[0].ID == pg.Items[1].ID || next.Offset != 2 || next.PrevCursor == "" {
		t.Fatalf("second page of two: %v at %d", idsOf(next.Items), next.Offset)
	}
	q.Cursor, q.Before = next.PrevCursor, true
	back, err := s.FindCustomers(ctx, q)
	must(t, err)
	if fmt.Sprint(idsOf(back.Items)) != fmt.Sprint(idsOf(pg.Items)) || back.Offset != 0 {
		t.Fatalf("back to the first page: %v at %d, want %v", idsOf(back.Items), back.Offset, idsOf(pg.Items))
	}
}

// SortKeysAndFoldMigration checks migration 00015 on a database the engine's
// test migrated up to 00012 (db): customers written then (search text folded
// the old way, "weiß" kept as it was) get their company and owner sort keys,
// and opening the store folds their search text anew.
// index, when not nil, adds a customer's text to the engine's search index
// as the store of then did.
func SortKeysAndFoldMigration(t *testing.T, db *sql.DB, index func(id int64, text string), open func() crm.Store) {
	t.Helper()
	exec := func(q string, args ...any) int64 {
		t.Helper()
		var id int64
		if err := db.QueryRowContext(ctx, q+` RETURNING id`, args...).Scan(&id); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return id
	}
	u := exec(`INSERT INTO users (email, name, role, created_at, updated_at) VALUES ('m@example.com', 'Ölaf Ohm', 'member', $1, $1)`, t0)
	co := exec(`INSERT INTO companies (name, name_key, created_at, updated_at) VALUES ('Zeta AG', 'zeta ag', $1, $1)`, t0)
	old := exec(`INSERT INTO customers (full_name, name_key, company_id, owner_id, search_text, created_at, updated_at)
		VALUES ('Anna Weiß', 'anna weiß', $1, $2, 'anna weiß zeta ag', $3, $3)`, co, u, t0)
	plain := exec(`INSERT INTO customers (full_name, name_key, search_text, created_at, updated_at) VALUES ('Bob Weiss', 'bob weiss', 'bob weiss', $1, $1)`, t0)
	if index != nil {
		index(old, "anna weiß zeta ag")
		index(plain, "bob weiss")
	}
	s := open()
	pg, err := s.FindCustomers(ctx, crm.CustomerQuery{Filter: crm.CustomerFilter{Q: "weiss"}})
	must(t, err)
	if got := idsOf(pg.Items); len(got) != 2 {
		t.Fatalf(`"weiss" after the migration finds %v, want %d and %d`, got, old, plain)
	}
	for _, sort := range []string{"company", "-owner"} {
		pg, err := s.FindCustomers(ctx, crm.CustomerQuery{Sort: sort})
		must(t, err)
		if got := idsOf(pg.Items); len(got) != 2 || got[0] != old {
			t.Fatalf("%s after the migration: %v, want %d first (the other has none)", sort, got, old)
		}
	}
	var key string
	must(t, s.(interface{ DB() *sql.DB }).DB().QueryRowContext(ctx, `SELECT owner_key FROM customers WHERE id = $1`, old).Scan(&key))
	if key != crm.NameKey("Ölaf Ohm") {
		t.Fatalf("owner key %q, want %q", key, crm.NameKey("Ölaf Ohm"))
	}
}
