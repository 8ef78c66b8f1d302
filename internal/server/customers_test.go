package server_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/seed"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// seeded fills db with n demo customers and returns the demo admin's token.
func (e *env) seeded(n int) (string, *crm.User) {
	e.t.Helper()
	_, err := seed.Run(context.Background(), e.db, seed.Options{Customers: n, Seed: 7, Now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
		HashPassword: func(p string) (string, error) { return e.acc.HashPassword(p) }})
	if err != nil {
		e.t.Fatal(err)
	}
	u, err := e.db.GetUserByEmail(context.Background(), seed.DemoAdminEmail)
	if err != nil {
		e.t.Fatal(err)
	}
	tok, _, err := e.acc.CreateToken(context.Background(), nil, u.ID, "t")
	if err != nil {
		e.t.Fatal(err)
	}
	return tok, u
}

// allIDs pages through the API and returns every id, checking no repeats.
func (e *env) allIDs(token string, v url.Values) ([]int64, int) {
	e.t.Helper()
	var ids []int64
	seen := map[int64]bool{}
	v = maps.Clone(v)
	v.Del("cursor")
	v.Set("limit", "500")
	total := -1
	for {
		st, body := e.api("GET", "/api/v1/customers?"+v.Encode(), token, "")
		if st != 200 {
			e.t.Fatalf("list %s: %d %v", v.Encode(), st, body)
		}
		if total < 0 {
			total = int(body["total"].(float64))
		}
		for _, it := range body["items"].([]any) {
			id := int64(it.(map[string]any)["id"].(float64))
			if seen[id] {
				e.t.Fatalf("%s: customer %d repeated", v.Encode(), id)
			}
			seen[id] = true
			ids = append(ids, id)
		}
		next, _ := body["next_cursor"].(string)
		if next == "" {
			return ids, total
		}
		v.Set("cursor", next)
	}
}

// brute is the filter meaning, written out plainly over whole customers.
func brute(all []crm.Customer, me int64, segMembers map[int64]bool, f func(c crm.Customer) bool) []int64 {
	var out []int64
	for _, c := range all {
		if f(c) {
			out = append(out, c.ID)
		}
	}
	slices.Sort(out)
	return out
}

func TestListMatchesBruteForce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		tok, admin := e.seeded(1500)
		ctx := context.Background()

		page, err := db.FindCustomers(ctx, crm.CustomerQuery{Filter: crm.CustomerFilter{Archived: crm.ArchivedAll}, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		var all []crm.Customer
		for {
			all = append(all, page.Items...)
			if page.NextCursor == "" {
				break
			}
			if page, err = db.FindCustomers(ctx, crm.CustomerQuery{Filter: crm.CustomerFilter{Archived: crm.ArchivedAll}, Limit: 500, Cursor: page.NextCursor}); err != nil {
				t.Fatal(err)
			}
		}
		if len(all) != 1500 {
			t.Fatalf("loaded %d customers", len(all))
		}
		segs, _ := db.ListSegments(ctx)
		products, _ := db.ListProducts(ctx)
		seg, prod := segs[0].ID, products[0].Key
		// pick real values from the data so every filter selects something
		var someOwner int64
		var someTag, otherTag, someCountry, someLang string
		for _, c := range all {
			if c.Owner != nil && c.Owner.ID != admin.ID && someOwner == 0 {
				someOwner = c.Owner.ID
			}
			if len(c.Tags) >= 2 && someTag == "" {
				someTag, otherTag = c.Tags[0], c.Tags[1]
			}
			if c.Country != "" && someCountry == "" {
				someCountry, someLang = c.Country, c.Language
			}
		}
		active := func(c crm.Customer) bool { return c.ArchivedAt == nil }
		hasTag := func(c crm.Customer, t string) bool {
			return slices.ContainsFunc(c.Tags, func(x string) bool { return strings.EqualFold(x, t) })
		}
		from := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
		to := time.Date(2025, 8, 31, 0, 0, 0, 0, time.UTC)
		inRange := func(c crm.Customer) bool { return !c.CreatedAt.Before(from) && c.CreatedAt.Before(to.AddDate(0, 0, 1)) }
		score := func(c crm.Customer, lo, hi int) bool { s, ok := c.Scores[prod]; return ok && s >= lo && s <= hi }
		mid := all[len(all)/2]
		nameWord := strings.ToLower(strings.Fields(mid.FullName)[0])
		var lastPrefix, companyWord, phone, twoWords string
		for _, c := range all {
			if f := strings.Fields(c.FullName); c.Owner == nil && c.ArchivedAt == nil && len(f) > 1 && len([]rune(f[1])) > 3 {
				twoWords = f[0] + " " + string([]rune(f[1])[:3]) // "Maria Sch": a first name and the start of a last name
				break
			}
		}
		for _, c := range all[len(all)/3:] {
			if f := strings.Fields(c.FullName); lastPrefix == "" && len(f) > 1 && len([]rune(f[1])) > 4 {
				lastPrefix = string([]rune(f[1])[:4])
			}
			if c.Company != nil && companyWord == "" {
				companyWord = strings.Fields(c.Company.Name)[0]
			}
			if c.PrimaryPhone != "" && phone == "" && c.ArchivedAt == nil {
				p := c.PrimaryPhone // typed the way people do: with spaces
				phone = p[:3] + " " + p[3:6] + " " + p[6:]
			}
		}

		cases := []struct {
			query string
			want  func(c crm.Customer) bool
		}{
			{"", active},
			{"owner=me", func(c crm.Customer) bool { return active(c) && c.Owner != nil && c.Owner.ID == admin.ID }},
			{"owner=none", func(c crm.Customer) bool { return active(c) && c.Owner == nil }},
			{fmt.Sprintf("owner=%d", someOwner), func(c crm.Customer) bool { return active(c) && c.Owner != nil && c.Owner.ID == someOwner }},
			{"tag=" + url.QueryEscape(someTag), func(c crm.Customer) bool { return active(c) && hasTag(c, someTag) }},
			{"tag=" + url.QueryEscape(someTag) + "&tag=" + url.QueryEscape(otherTag), func(c crm.Customer) bool {
				return active(c) && (hasTag(c, someTag) || hasTag(c, otherTag))
			}},
			{"tag_mode=all&tag=" + url.QueryEscape(someTag) + "&tag=" + url.QueryEscape(otherTag), func(c crm.Customer) bool {
				return active(c) && hasTag(c, someTag) && hasTag(c, otherTag)
			}},
			{fmt.Sprintf("segment=%d", seg), func(c crm.Customer) bool { return active(c) && slices.Contains(c.Segments, seg) }},
			{"country=" + someCountry, func(c crm.Customer) bool { return active(c) && c.Country == someCountry }},
			{"country=" + someCountry + "&country=US", func(c crm.Customer) bool { return active(c) && (c.Country == someCountry || c.Country == "US") }},
			{"language=" + someLang, func(c crm.Customer) bool { return active(c) && c.Language == someLang }},
			{"has_inbound=true", func(c crm.Customer) bool { return active(c) && c.HasInbound }},
			{"has_inbound=false", func(c crm.Customer) bool { return active(c) && !c.HasInbound }},
			{"score_product=" + prod + "&score_min=40&score_max=70", func(c crm.Customer) bool { return active(c) && score(c, 40, 70) }},
			{"score_product=" + prod + "&score_min=90", func(c crm.Customer) bool { return active(c) && score(c, 90, 100) }},
			{"created_from=2025-06-01&created_to=2025-08-31", func(c crm.Customer) bool { return active(c) && inRange(c) }},
			{"archived=true", func(c crm.Customer) bool { return c.ArchivedAt != nil }},
			{"archived=all", func(c crm.Customer) bool { return true }},
			{"q=" + url.QueryEscape(nameWord), func(c crm.Customer) bool { return active(c) && matchesSearch(c, nameWord) }},
			{"q=" + url.QueryEscape(mid.PrimaryEmail), func(c crm.Customer) bool { return active(c) && matchesSearch(c, mid.PrimaryEmail) }},
			{"q=" + url.QueryEscape(lastPrefix), func(c crm.Customer) bool { return active(c) && matchesSearch(c, lastPrefix) }},
			{"q=" + url.QueryEscape(companyWord), func(c crm.Customer) bool { return active(c) && matchesSearch(c, companyWord) }},
			{"q=" + url.QueryEscape(phone), func(c crm.Customer) bool { return active(c) && matchesSearch(c, phone) }},
			{"q=" + url.QueryEscape(twoWords) + "&owner=none", func(c crm.Customer) bool {
				return active(c) && c.Owner == nil && matchesSearch(c, twoWords)
			}},
			{"owner=me&has_inbound=false&country=" + someCountry, func(c crm.Customer) bool {
				return active(c) && c.Owner != nil && c.Owner.ID == admin.ID && !c.HasInbound && c.Country == someCountry
			}},
			{"archived=all&owner=none&tag=" + url.QueryEscape(someTag) + "&score_product=" + prod + "&score_min=20", func(c crm.Customer) bool {
				return c.Owner == nil && hasTag(c, someTag) && score(c, 20, 100)
			}},
		}
		for _, tc := range cases {
			if len(brute(all, admin.ID, nil, tc.want)) == 0 {
				t.Errorf("%s selects no customer in the seeded data: the comparison would prove nothing", tc.query)
			}
			v, _ := url.ParseQuery(tc.query)
			for _, sort := range []string{"", "name", "-email"} {
				if sort != "" {
					v.Set("sort", sort)
				}
				got, total := e.allIDs(tok, v)
				slices.Sort(got)
				want := brute(all, admin.ID, nil, tc.want)
				if !slices.Equal(got, want) || total != len(want) {
					t.Errorf("%s (sort %q): API gave %d customers (total %d), brute force %d", tc.query, sort, len(got), total, len(want))
				}
			}
		}
	})
}

// matchesSearch is the meaning of q (crm.MatchesSearch), computed from the
// customer's own fields rather than from anything the store indexed.
func matchesSearch(c crm.Customer, q string) bool {
	company := ""
	if c.Company != nil {
		company = c.Company.Name
	}
	return crm.MatchesSearch(crm.SearchText(c.FullName, c.PrimaryEmail, c.PrimaryPhone, company), crm.SearchTerms(q))
}

func TestListRefusesBadInput(t *testing.T) {
	e := newEnv(t, testdb.Open(t, "sqlite"))
	tok, _ := e.seeded(50)
	for q, field := range map[string]string{
		"owner=someone":           "owner",
		"owner=999999":            "owner",
		"has_inbound=maybe":       "has_inbound",
		"country=XX":              "country",
		"language=klingon":        "language",
		"created_from=2025-13-45": "created_from",
		"created_from=2025-05-01&created_to=2025-04-01": "created_from",
		"score_product=crm&score_min=80&score_max=20":   "score_min",
		"score_min=10":                   "score_product",
		"score_product=nope&score_min=1": "score_product",
		"sort=shoe_size":                 "sort",
		"archived=maybe":                 "archived",
		"tag_mode=some":                  "tag_mode",
		"limit=100000":                   "limit",
		"segment=424242":                 "segment",
		"cursor=garbage":                 "cursor",
		"colour=red":                     "colour",
	} {
		st, body := e.api("GET", "/api/v1/customers?"+q, tok, "")
		if st != http.StatusBadRequest || errCode(body) != "invalid" {
			t.Errorf("%s: %d %v", q, st, body)
			continue
		}
		if f := body["error"].(map[string]any)["field"]; f != field {
			t.Errorf("%s: field %v, want %s (%v)", q, f, field, body)
		}
	}
}

func TestPagingWhileCustomersAreAdded(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		tok, _ := e.seeded(300)
		for _, sort := range []string{"-created", "name"} {
			seen := map[int64]bool{}
			before, _ := e.allIDs(tok, url.Values{"sort": {sort}})
			v := url.Values{"sort": {sort}, "limit": {"25"}}
			added := 0
			for {
				st, body := e.api("GET", "/api/v1/customers?"+v.Encode(), tok, "")
				if st != 200 {
					t.Fatalf("%d %v", st, body)
				}
				for _, it := range body["items"].([]any) {
					id := int64(it.(map[string]any)["id"].(float64))
					if seen[id] {
						t.Fatalf("%s: customer %d shown twice", sort, id)
					}
					seen[id] = true
				}
				// someone adds customers between every page
				for range 3 {
					added++
					if st, b := e.api("POST", "/api/v1/customers", tok, fmt.Sprintf(`{"full_name":"Added %03d"}`, added)); st != 201 {
						t.Fatalf("add: %d %v", st, b)
					}
				}
				next, _ := body["next_cursor"].(string)
				if next == "" {
					break
				}
				v.Set("cursor", next)
			}
			for _, id := range before {
				if !seen[id] {
					t.Fatalf("%s: customer %d, present from the start, was skipped", sort, id)
				}
			}
		}
	})
}

func TestCreateCustomerAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin, tok := e.user("boss@example.com", crm.RoleAdmin)
		member, mtok := e.user("mia@example.com", crm.RoleMember)
		st, c := e.api("POST", "/api/v1/customers", tok, `{"full_name":"Zoë Müller","contact":{"channel":"email","value":" Zoe@Example.COM "},
			"company_name":"Globex","owner_id":`+fmt.Sprint(member.ID)+`,"tags":["VIP","new"],"language":"de","country":"de","timezone":"Europe/Berlin"}`)
		if st != 201 {
			t.Fatalf("create: %d %v", st, c)
		}
		company, _ := c["company"].(map[string]any)
		owner, _ := c["owner"].(map[string]any)
		contacts, _ := c["contacts"].([]any)
		if c["primary_email"] != "zoe@example.com" || company["name"] != "Globex" || owner["email"] != "mia@example.com" ||
			c["country"] != "DE" || len(contacts) != 1 || fmt.Sprint(c["tags"]) != "[new VIP]" || c["archived_at"] != nil || c["merged_into"] != nil {
			t.Fatalf("created %v", c)
		}
		for _, k := range []string{"id", "full_name", "first_name", "last_name", "avatar_url", "segments", "scores", "custom", "has_inbound", "created_at", "updated_at"} {
			if _, ok := c[k]; !ok {
				t.Errorf("customer JSON has no %s", k)
			}
		}
		// the same company name, in another case, is the same company
		_, c2 := e.api("POST", "/api/v1/customers", tok, `{"full_name":"Second","company_name":"GLOBEX"}`)
		if c2["company"].(map[string]any)["id"] != company["id"] {
			t.Fatalf("company not reused: %v", c2["company"])
		}
		// unclaimed when owner_id is omitted
		if _, c3 := e.api("POST", "/api/v1/customers", tok, `{"full_name":"Nobody's"}`); c3["owner"] != nil {
			t.Fatalf("owner %v", c3["owner"])
		}
		bad := map[string]string{
			`{"full_name":""}`: "full_name",
			`{"full_name":"A","contact":{"channel":"email","value":"not-mail"}}`: "contact",
			`{"full_name":"A","contact":{"channel":"phone","value":"12"}}`:       "contact",
			`{"full_name":"A","country":"XX"}`:                                   "country",
			`{"full_name":"A","timezone":"Mars/Olympus"}`:                        "timezone",
			`{"full_name":"A","company_id":99999}`:                               "company",
			`{"full_name":"A","custom":{"nope":1}}`:                              "custom.nope",
			`{"full_name":"A","owner_id":` + fmt.Sprint(admin.ID) + `}`:          "owner", // a member giving it to someone else
		}
		for body, field := range bad {
			token := tok
			if field == "owner" {
				token = mtok
			}
			st, b := e.api("POST", "/api/v1/customers", token, body)
			if st != 400 && !(field == "owner" && st == 403) {
				t.Errorf("%s: %d %v", body, st, b)
				continue
			}
			if f := b["error"].(map[string]any)["field"]; f != field {
				t.Errorf("%s: field %v want %s: %v", body, f, field, b)
			}
		}
	})
}
