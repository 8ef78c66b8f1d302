package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// world is what the simulated people know of the data: the values they pick
// filters and searches from, all read from the server at the start.
type world struct {
	users     []int64
	tags      []string
	segments  []int64
	products  []string
	countries []string
	languages []string
	companies []int64
	months    []time.Time // the first day of each month customers were created in
	customers []int64     // a sample of customer ids (drawers, tags, notes)
	searches  []string    // what people type into the search box
	unclaimed []int64     // unclaimed customers, one reserved per person for claim/unclaim
}

var sortKeys = []string{"name", "email", "company", "owner", "score", "created", "updated", "country", "language"}

type apiCustomer struct {
	ID           int64  `json:"id"`
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name"`
	FullName     string `json:"full_name"`
	PrimaryEmail string `json:"primary_email"`
	Company      *struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"company"`
	Country   string    `json:"country"`
	Language  string    `json:"language"`
	CreatedAt time.Time `json:"created_at"`
}

type customerPage struct {
	Items      []apiCustomer `json:"items"`
	NextCursor string        `json:"next_cursor"`
}

// discover reads the world from the server as s, reserving `reserve`
// unclaimed customers.
func discover(ctx context.Context, t *target, s *session, reserve int, rng *rand.Rand) (*world, error) {
	w := &world{}
	var users struct {
		Items []struct {
			ID     int64 `json:"id"`
			Active bool  `json:"active"`
		} `json:"items"`
	}
	if err := t.getJSON(ctx, s, "/api/v1/users", &users); err != nil {
		return nil, err
	}
	for _, u := range users.Items {
		if u.Active {
			w.users = append(w.users, u.ID)
		}
	}
	var tags struct {
		Items []struct {
			Name      string `json:"name"`
			Customers int    `json:"customers"`
		} `json:"items"`
	}
	if err := t.getJSON(ctx, s, "/api/v1/tags?limit=100", &tags); err != nil {
		return nil, err
	}
	for _, tg := range tags.Items {
		if tg.Customers > 0 && tg.Name != loadTag {
			w.tags = append(w.tags, tg.Name)
		}
	}
	var segs struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	if err := t.getJSON(ctx, s, "/api/v1/segments", &segs); err != nil {
		return nil, err
	}
	for _, sg := range segs.Items {
		w.segments = append(w.segments, sg.ID)
	}
	var prods struct {
		Items []struct {
			Key string `json:"key"`
		} `json:"items"`
	}
	if err := t.getJSON(ctx, s, "/api/v1/products", &prods); err != nil {
		return nil, err
	}
	for _, p := range prods.Items {
		w.products = append(w.products, p.Key)
	}

	// the oldest and newest customers bound the months
	var newest, oldest customerPage
	if err := t.getJSON(ctx, s, "/api/v1/customers?limit=1&sort=-created", &newest); err != nil {
		return nil, err
	}
	if err := t.getJSON(ctx, s, "/api/v1/customers?limit=1&sort=created", &oldest); err != nil {
		return nil, err
	}
	if len(newest.Items) == 0 || len(oldest.Items) == 0 {
		return nil, fmt.Errorf("the database has no customers: seed it first (go run ./cmd/crm seed --customers 1000000 --db ...)")
	}
	for m := monthOf(oldest.Items[0].CreatedAt); !m.After(newest.Items[0].CreatedAt); m = m.AddDate(0, 1, 0) {
		w.months = append(w.months, m)
	}

	// a sample of customers: several orders and random months, so names,
	// e-mails and companies come from all over the data
	seen := map[int64]bool{}
	countries, languages, companies := map[string]bool{}, map[string]bool{}, map[int64]bool{}
	var sample []apiCustomer
	queries := []string{"sort=-created", "sort=name", "sort=-name", "sort=email", "sort=company", "sort=country"}
	for range 6 {
		m := w.months[rng.IntN(len(w.months))]
		queries = append(queries, "created_from="+m.Format(time.DateOnly)+"&created_to="+m.AddDate(0, 0, 6).Format(time.DateOnly))
	}
	for _, q := range queries {
		var p customerPage
		if err := t.getJSON(ctx, s, "/api/v1/customers?limit=200&"+q, &p); err != nil {
			return nil, err
		}
		for _, c := range p.Items {
			if seen[c.ID] {
				continue
			}
			seen[c.ID] = true
			sample = append(sample, c)
			w.customers = append(w.customers, c.ID)
			if c.Country != "" {
				countries[c.Country] = true
			}
			if c.Language != "" {
				languages[c.Language] = true
			}
			if c.Company != nil {
				companies[c.Company.ID] = true
			}
		}
	}
	w.countries, w.languages = sortedKeys(countries), sortedKeys(languages)
	for id := range companies {
		w.companies = append(w.companies, id)
	}
	slices.Sort(w.companies)
	for _, c := range sample {
		w.searches = append(w.searches, searchesFor(c)...)
	}

	// unclaimed customers, one per person, for claim and unclaim
	path := "/api/v1/customers?owner=none&limit=500&sort=-created"
	for len(w.unclaimed) < reserve {
		var p customerPage
		if err := t.getJSON(ctx, s, path, &p); err != nil {
			return nil, err
		}
		for _, c := range p.Items {
			w.unclaimed = append(w.unclaimed, c.ID)
		}
		if p.NextCursor == "" {
			break
		}
		path = "/api/v1/customers?owner=none&limit=500&sort=-created&cursor=" + url.QueryEscape(p.NextCursor)
	}
	if len(w.unclaimed) < reserve {
		return nil, fmt.Errorf("only %d unclaimed customers for %d people", len(w.unclaimed), reserve)
	}
	return w, nil
}

func monthOf(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC) }

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// searchesFor is what a person looking for c types: a first name and the
// start of the last name, the start of a last name, the start or the whole
// of an e-mail address, the start of the company's name.
func searchesFor(c apiCustomer) []string {
	var out []string
	if c.FirstName != "" && c.LastName != "" {
		out = append(out, strings.ToLower(c.FirstName+" "+prefix(c.LastName, 3)))
	}
	if utf8.RuneCountInString(c.LastName) >= 4 {
		out = append(out, strings.ToLower(prefix(c.LastName, 4)))
	}
	if local, _, ok := strings.Cut(c.PrimaryEmail, "@"); ok && len(local) >= 6 {
		out = append(out, local[:6])
	}
	if c.PrimaryEmail != "" && c.ID%4 == 0 {
		out = append(out, c.PrimaryEmail)
	}
	if c.Company != nil {
		if first := strings.Fields(c.Company.Name); len(first) > 0 && utf8.RuneCountInString(first[0]) >= 3 {
			out = append(out, strings.ToLower(prefix(first[0], 5)))
		}
	}
	return out
}

func prefix(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		r = r[:n]
	}
	return string(r)
}

// tableQuery is a table page with random filters and a random sort, as
// people click them in the Filters panel and on column headers.
func (w *world) tableQuery(rng *rand.Rand, me int64) url.Values {
	v := url.Values{}
	n := 0
	switch r := rng.Float64(); {
	case r < 0.3:
		n = 0
	case r < 0.7:
		n = 1
	case r < 0.9:
		n = 2
	default:
		n = 3
	}
	filters := []func(){
		func() {
			switch rng.IntN(3) {
			case 0:
				v.Set("owner", "me")
			case 1:
				v.Set("owner", "none")
			default:
				v.Set("owner", strconv.FormatInt(pick(rng, w.users), 10))
			}
		},
		func() {
			if len(w.tags) == 0 {
				return
			}
			v.Add("tag", pick(rng, w.tags))
			if rng.IntN(4) == 0 {
				v.Add("tag", pick(rng, w.tags))
				if rng.IntN(2) == 0 {
					v.Set("tag_mode", "all")
				}
			}
		},
		func() {
			if len(w.segments) > 0 {
				v.Set("segment", strconv.FormatInt(pick(rng, w.segments), 10))
			}
		},
		func() {
			if len(w.countries) > 0 {
				v.Add("country", pick(rng, w.countries))
			}
		},
		func() {
			if len(w.languages) > 0 {
				v.Add("language", pick(rng, w.languages))
			}
		},
		func() { v.Set("has_inbound", []string{"true", "false"}[rng.IntN(2)]) },
		func() {
			if len(w.products) == 0 {
				return
			}
			v.Set("score_product", pick(rng, w.products))
			lo := rng.IntN(80)
			v.Set("score_min", strconv.Itoa(lo))
			v.Set("score_max", strconv.Itoa(min(100, lo+10+rng.IntN(20))))
		},
		func() {
			m := pick(rng, w.months)
			v.Set("created_from", m.Format(time.DateOnly))
			v.Set("created_to", m.AddDate(0, 1, -1).Format(time.DateOnly))
		},
		func() {
			if len(w.companies) > 0 {
				v.Set("company", strconv.FormatInt(pick(rng, w.companies), 10))
			}
		},
	}
	for _, i := range rng.Perm(len(filters))[:n] {
		filters[i]()
	}
	if rng.IntN(2) == 0 {
		s := pick(rng, sortKeys)
		if rng.IntN(2) == 0 {
			s = "-" + s
		}
		v.Set("sort", s)
	}
	switch rng.IntN(10) {
	case 0:
		v.Set("limit", "25")
	case 1:
		v.Set("limit", "100")
	}
	_ = me
	return v
}

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }
