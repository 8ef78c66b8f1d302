package server_test

import (
	"encoding/csv"
	"html"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/seed"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

var (
	anchorTag = regexp.MustCompile(`<a\s[^>]*>`)
	hrefAttr  = regexp.MustCompile(`\shref="([^"]*)"`)
	classAttr = regexp.MustCompile(`\sclass="([^"]*)"`)
	backField = regexp.MustCompile(`name="back" value="([^"]*)"`)
)

// tableLink is one link of the customer table page.
type tableLink struct {
	href, class string
	u           *url.URL
}

// tableLinks are the page's links to the table, a drawer or the export, and
// the column form's way back.
func tableLinks(t *testing.T, page string) []tableLink {
	t.Helper()
	var out []tableLink
	add := func(raw, class string) {
		href := html.UnescapeString(raw)
		u, err := url.Parse(href)
		if err != nil {
			t.Fatalf("link %q: %v", href, err)
		}
		if strings.HasPrefix(u.Path, "/crm/customers") && !strings.HasPrefix(u.Path, "/crm/customers/columns") || u.Path == "/api/v1/customers/export.csv" {
			out = append(out, tableLink{href, class, u})
		}
	}
	for _, a := range anchorTag.FindAllString(page, -1) {
		m := hrefAttr.FindStringSubmatch(a)
		if m == nil {
			continue
		}
		class := ""
		if c := classAttr.FindStringSubmatch(a); c != nil {
			class = c[1]
		}
		add(m[1], class)
	}
	for _, m := range backField.FindAllStringSubmatch(page, -1) {
		add(m[1], "back")
	}
	return out
}

// filterPairs are the key=value pairs of a link's filter (not its page, order or size).
func filterPairs(v url.Values) []string {
	var out []string
	for k, vals := range v {
		if k == "sort" || k == "limit" || k == "cursor" || k == "before" {
			continue
		}
		for _, x := range vals {
			out = append(out, k+"="+x)
		}
	}
	slices.Sort(out)
	return out
}

// TestEveryTableLinkKeepsTheFilter renders the customer table with filters,
// a search, a sort and a small page, and follows every link built from that
// state: each is a well-formed query of list parameters that the server
// accepts, the export answers the CSV of exactly the filtered customers, and
// sort, page and drawer links keep the whole filter while a chip's × drops
// exactly its own value (issue 12, item 1).
func TestEveryTableLinkKeepsTheFilter(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		tok, _ := e.seeded(600)
		b := e.browser()
		if st, _, _ := b.post("/login", "/login", url.Values{"email": {seed.DemoAdminEmail}, "password": {seed.DemoPassword}}); st != 303 {
			t.Fatalf("sign-in: %d", st)
		}

		// A filter with a repeated key and a country, and a search word taken
		// from a customer it matches, so the view is narrow but not empty.
		filter := url.Values{"country": {"DE", "FR"}, "tag": {"VIP", "Newsletter", "Trial"}}
		st, body := e.api("GET", "/api/v1/customers?limit=1&"+filter.Encode(), tok, "")
		items, _ := body["items"].([]any)
		if st != 200 || len(items) == 0 {
			t.Fatalf("no customer in %s: %d %v", filter.Encode(), st, body)
		}
		name := items[0].(map[string]any)["full_name"].(string)
		filter.Set("q", strings.Fields(name)[0])

		views := []url.Values{filter, {}}
		paged := url.Values{"sort": {"name"}, "limit": {"2"}, "owner": {"none"}, "has_inbound": {"false"}}
		for k, v := range filter {
			if k != "q" {
				paged[k] = v
			}
		}
		views[1] = paged
		for i := 0; i < len(views); i++ { // the paged view adds its second page
			view := views[i]
			want, _ := e.allIDs(tok, view)
			slices.Sort(want)
			if len(want) == 0 {
				t.Fatalf("%s matches nobody: pick another filter", view.Encode())
			}
			st, _, page := b.get("/crm/customers?" + view.Encode())
			if st != 200 {
				t.Fatalf("page %s: %d", view.Encode(), st)
			}
			links := tableLinks(t, page)
			pairs := filterPairs(view)
			kinds := map[string]int{}
			for _, l := range links {
				q := l.u.Query()
				for k := range q {
					if !slices.Contains(customers.QueryKeys, k) && k != "tab" {
						t.Fatalf("link %q (%s): %q is not a list parameter", l.href, l.class, k)
					}
				}
				if strings.Contains(l.class, "sort") && q.Get("sort") == "score" && !view.Has("score_product") {
					q.Del("score_product") // a Score header names the product it sorts by; no score range is on
				}
				got := filterPairs(q)
				switch {
				case l.u.Path == "/api/v1/customers/export.csv":
					kinds["export"]++
					if !slices.Equal(got, pairs) {
						t.Fatalf("export link %q has the filter %v, want %v", l.href, got, pairs)
					}
					ids := exportIDs(t, b, l.href)
					slices.Sort(ids)
					if !slices.Equal(ids, want) {
						t.Fatalf("export %q: %d customers %v, want the %d filtered %v", l.href, len(ids), ids, len(want), want)
					}
					continue
				case strings.Contains(l.class, "chip-x"):
					kinds["chip"]++
					if len(got) != len(pairs)-1 {
						t.Fatalf("chip link %q keeps %v of %v: it must drop one value", l.href, got, pairs)
					}
					for _, p := range got {
						if !slices.Contains(pairs, p) {
							t.Fatalf("chip link %q adds %s", l.href, p)
						}
					}
				case l.u.Path == "/crm/customers" && len(got) == 0 && !q.Has("cursor"):
					kinds["clear"]++ // "Clear filters", and "Clear all" that keeps only the order
				default:
					switch {
					case strings.Contains(l.class, "sort"):
						kinds["sort"]++
					case q.Has("cursor"):
						kinds["page"]++
						if !view.Has("cursor") && !q.Has("before") {
							views = append(views, q)
						}
					case l.u.Path != "/crm/customers":
						kinds["drawer"]++
					default:
						kinds[l.class]++
					}
					if !slices.Equal(got, pairs) {
						t.Fatalf("link %q (%s) has the filter %v, want %v", l.href, l.class, got, pairs)
					}
					if q.Get("limit") != view.Get("limit") && !strings.Contains(l.class, "page-size") { // a page-size link changes just that
						t.Fatalf("link %q (%s) loses the page size %q", l.href, l.class, view.Get("limit"))
					}
				}
				// every table link opens a page the server accepts
				st, _, linked := b.get(l.href)
				if st != 200 || strings.Contains(linked, `id="filter-errors"`) {
					t.Fatalf("link %q (%s): %d, filter errors: %v", l.href, l.class, st, strings.Contains(linked, `id="filter-errors"`))
				}
			}
			t.Logf("view %s: %d customers, links %v", view.Encode(), len(want), kinds)
			if kinds["export"] != 1 || kinds["chip"] != len(pairs) || kinds["sort"] == 0 || kinds["drawer"] == 0 || kinds["back"] != 1 {
				t.Fatalf("view %s: links found %v (want an export, a chip per filter value (%d), sort headers, drawer rows and the column form's way back)", view.Encode(), kinds, len(pairs))
			}
			if view.Get("limit") != "" && len(want) > 2 && kinds["page"] == 0 {
				t.Fatalf("view %s: no page link among %v", view.Encode(), kinds)
			}
		}
	})
}

// exportIDs downloads an export as the page's user and returns its ids.
func exportIDs(t *testing.T, b *browser, href string) []int64 {
	t.Helper()
	res, err := b.c.Get(b.e.srv.URL + href)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export %q: %d %s", href, res.StatusCode, res.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(res.Body).ReadAll()
	if err != nil {
		t.Fatalf("export %q: %v", href, err)
	}
	col := -1
	if len(rows) > 0 {
		col = slices.Index(rows[0], "id")
	}
	if col < 0 {
		t.Fatalf("export %q: no id column in %v", href, rows)
	}
	var ids []int64
	for _, r := range rows[1:] {
		id, err := strconv.ParseInt(r[col], 10, 64)
		if err != nil {
			t.Fatalf("export %q: row %v", href, r)
		}
		ids = append(ids, id)
	}
	return ids
}
