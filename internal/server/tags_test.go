package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// manyTags adds the tags tag-1 ... tag-n that are missing, in one set-based statement.
func manyTags(t *testing.T, db *store.DB, n int) {
	t.Helper()
	start := time.Now()
	_, err := db.SQL.ExecContext(t.Context(),
		`WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $1)
		 INSERT INTO tags (name, name_key, created_at) SELECT 'tag-' || n, 'tag-' || n, $2 FROM seq WHERE true ON CONFLICT DO NOTHING`,
		n, time.Now().UTC().Truncate(time.Microsecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d tags inserted in %v", n, time.Since(start).Round(time.Millisecond))
}

// The customer table costs the same with 50,000 tags as with none: the tag
// picker asks for the tags it shows as the user types (GET /api/v1/tags?q=).
func TestCustomerPageFlatInTags(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		_, tok := e.user("boss@example.com", crm.RoleAdmin)
		for i := range 5 {
			if st, body := e.api("POST", "/api/v1/customers", tok, fmt.Sprintf(`{"full_name":"Person %d","tags":["tag-%d"]}`, i, i+1)); st != http.StatusCreated {
				t.Fatalf("create customer: %d %v", st, body)
			}
		}
		b := e.signedIn("boss@example.com")
		page := func(path string) string {
			t.Helper()
			st, _, html := b.get(path)
			if st != http.StatusOK {
				t.Fatalf("GET %s: %d", path, st)
			}
			return html
		}
		before := page("/crm/customers")

		manyTags(t, db, 50_000)
		start := time.Now()
		after := page("/crm/customers")
		t.Logf("customer page: %d bytes with 5 tags, %d bytes with 50,000 (%v)", len(before), len(after), time.Since(start).Round(time.Millisecond))
		if len(after) > len(before)*11/10 {
			t.Fatalf("the customer page grew from %d to %d bytes with 50,000 tags", len(before), len(after))
		}

		// The tags of the current filter still show, by name, from the URL.
		filtered := page("/crm/customers?tag=tag-2&tag=tag-3&tag_mode=any")
		mustContain(t, "filtered page", filtered, `Tag: tag-2`, `Tag: tag-3`, `name="tag" value="tag-2"`, `name="tag" value="tag-3"`)
		if len(filtered) > len(before)*11/10 {
			t.Fatalf("the filtered page has %d bytes, the unfiltered one had %d", len(filtered), len(before))
		}
		if n := strings.Count(filtered, `<tr data-id=`); n != 2 {
			t.Fatalf("tag-2 or tag-3 lists %d customers, want 2", n)
		}

		// The search: at most the limit, only names starting with q, in name order, any case.
		search := func(q string, limit int) []map[string]any {
			t.Helper()
			path := "/api/v1/tags?q=" + url.QueryEscape(q)
			if limit > 0 {
				path += fmt.Sprintf("&limit=%d", limit)
			}
			st, body := e.api("GET", path, tok, "")
			if st != http.StatusOK {
				t.Fatalf("GET %s: %d %v", path, st, body)
			}
			var out []map[string]any
			for _, it := range body["items"].([]any) {
				out = append(out, it.(map[string]any))
			}
			return out
		}
		names := func(items []map[string]any) string {
			var s []string
			for _, it := range items {
				s = append(s, it["name"].(string))
			}
			return strings.Join(s, " ")
		}
		if got := names(search("TAG-4999", 20)); got != "tag-4999 tag-49990 tag-49991 tag-49992 tag-49993 tag-49994 tag-49995 tag-49996 tag-49997 tag-49998 tag-49999" {
			t.Fatalf("q=TAG-4999: %s", got)
		}
		if got := search("tag-", 20); len(got) != 20 || names(got) != "tag-1 tag-10 tag-100 tag-1000 tag-10000 tag-10001 tag-10002 tag-10003 tag-10004 tag-10005 tag-10006 tag-10007 tag-10008 tag-10009 tag-1001 tag-10010 tag-10011 tag-10012 tag-10013 tag-10014" {
			t.Fatalf("q=tag-&limit=20: %d items: %s", len(got), names(got))
		}
		if got := search("", 7); len(got) != 7 {
			t.Fatalf("no q, limit 7: %d items", len(got))
		}
		if got := search("tag-3", 1); names(got) != "tag-3" || got[0]["customers"] != float64(1) {
			t.Fatalf("q=tag-3&limit=1: %v", got)
		}
		if got := search("nothing-", 20); len(got) != 0 {
			t.Fatalf("q=nothing-: %v", got)
		}
		// LIKE's wildcards are plain characters here
		if got := search("tag_", 20); len(got) != 0 {
			t.Fatalf("q=tag_: %v", got)
		}
		if got := search("%", 20); len(got) != 0 {
			t.Fatalf("q=%%: %v", got)
		}
		for _, bad := range []string{"limit=0", "limit=1001", "q=" + strings.Repeat("x", 201)} {
			if st, body := e.api("GET", "/api/v1/tags?"+bad, tok, ""); st != http.StatusUnprocessableEntity && st != http.StatusBadRequest {
				t.Errorf("%s: %d %v", bad, st, body)
			}
		}
	})
}
