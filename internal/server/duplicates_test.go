package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// A new customer whose e-mail another customer already has: the API still
// creates it by default (SPEC section 9: values may be shared), refuses it
// with the holders when asked to check_duplicates, and the lookup names
// them as a form types the value (normalised: case, spaces, the phone's
// country); archived customers are not named.
func TestCreateChecksDuplicatesOnlyWhenAsked(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		_, tok := e.user("mia@example.com", crm.RoleMember)
		st, first := e.api("POST", "/api/v1/customers", tok, `{"full_name": "Jana Novak", "company_name": "Novak s.r.o.", "contact": {"channel": "email", "value": "jana@example.com"}}`)
		if st != 201 {
			t.Fatalf("create %d %v", st, first)
		}
		gone, _ := e.customerWithEmail("Jana Archived", "jana@example.com")
		if st, b := e.api("POST", "/api/v1/customers/"+fmt.Sprint(gone)+"/archive", tok, ""); st != 200 {
			t.Fatalf("archive %d %v", st, b)
		}
		st, body := e.api("POST", "/api/v1/customers", tok, `{"full_name": "Jana N.", "contact": {"channel": "email", "value": " JANA@Example.com "}, "check_duplicates": true}`)
		errBody, _ := body["error"].(map[string]any)
		matches, _ := errBody["matches"].([]any)
		if st != 409 || errCode(body) != "conflict" || errBody["field"] != "contact" || len(matches) != 1 {
			t.Fatalf("checked create answered %d %v", st, body)
		}
		m := matches[0].(map[string]any)
		if m["id"] != first["id"] || m["full_name"] != "Jana Novak" || m["primary_email"] != "jana@example.com" || m["company"].(map[string]any)["name"] != "Novak s.r.o." ||
			!strings.Contains(errBody["message"].(string), "Jana Novak already has this e-mail address") {
			t.Fatalf("match %v, message %q", m, errBody["message"])
		}
		if ks, _ := db.FindContactsByValue(t.Context(), crm.ChannelEmail, "jana@example.com"); len(ks) != 2 {
			t.Fatalf("a refused create added a customer: %d hold the address", len(ks))
		}
		st, lookup := e.api("GET", "/api/v1/contacts/lookup?channel=email&value=%20Jana@EXAMPLE.com", tok, "")
		cs, _ := lookup["customers"].([]any)
		if st != 200 || lookup["value"] != "jana@example.com" || len(cs) != 1 || cs[0].(map[string]any)["id"] != first["id"] {
			t.Fatalf("lookup %d %v", st, lookup)
		}
		if st, lookup := e.api("GET", "/api/v1/contacts/lookup?channel=email&value=nobody@example.com", tok, ""); st != 200 || len(lookup["customers"].([]any)) != 0 {
			t.Fatalf("lookup of a new address %d %v", st, lookup)
		}
		// the same request without the flag: added, as scripts expect
		if st, b := e.api("POST", "/api/v1/customers", tok, `{"full_name": "Jana N.", "contact": {"channel": "email", "value": "jana@example.com"}}`); st != 201 || b["primary_email"] != "jana@example.com" {
			t.Fatalf("unchecked create %d %v", st, b)
		}
		// a phone typed as locals do is found with the country
		if st, b := e.api("POST", "/api/v1/customers", tok, `{"full_name": "Paul Berger", "country": "DE", "contact": {"channel": "phone", "value": "+49 30 1234567"}}`); st != 201 {
			t.Fatalf("create %d %v", st, b)
		}
		st, lookup = e.api("GET", "/api/v1/contacts/lookup?channel=phone&value=030%201234567&country=DE", tok, "")
		if cs, _ := lookup["customers"].([]any); st != 200 || len(cs) != 1 || cs[0].(map[string]any)["full_name"] != "Paul Berger" {
			t.Fatalf("phone lookup %d %v", st, lookup)
		}
		if st, b := e.api("GET", "/api/v1/contacts/lookup?channel=fax&value=1", tok, ""); st != 400 {
			t.Fatalf("lookup of a channel that does not exist %d %v", st, b)
		}
	})
}

// The duplicates API lists one entry per pair with every shared value, and
// a pair marked as not duplicates is gone from it and from the page.
func TestDuplicatesAPIAndNotDuplicate(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		_, tok := e.user("mia@example.com", crm.RoleMember)
		a, _ := e.customerWithEmail("Ann Lee", "ann@example.com")
		b, _ := e.customerWithEmail("Ann Lee", "ann@example.com")
		c, _ := e.customerWithEmail("Ann Li", "ann.li@example.com")
		for _, id := range []int64{a, b, c} {
			if st, body := e.api("POST", fmt.Sprintf("/api/v1/customers/%d/contacts", id), tok, `{"channel": "phone", "value": "+4930555000"}`); st != 201 {
				t.Fatalf("add phone %d %v", st, body)
			}
		}
		st, body := e.api("GET", "/api/v1/duplicates", tok, "")
		items, _ := body["items"].([]any)
		if st != 200 || len(items) != 3 {
			t.Fatalf("duplicates %d %v", st, body)
		}
		first := items[0].(map[string]any)
		reasons := first["reasons"].([]any)
		if first["a"].(map[string]any)["id"] != float64(a) || first["b"].(map[string]any)["id"] != float64(b) || len(reasons) != 2 ||
			reasons[0].(map[string]any)["value"] != "ann@example.com" || reasons[1].(map[string]any)["value"] != "+4930555000" {
			t.Fatalf("first pair %v", first)
		}
		if st, body := e.api("GET", "/api/v1/duplicates?limit=1&after="+fmt.Sprintf("%d-%d", a, b), tok, ""); st != 200 || len(body["items"].([]any)) != 1 || body["next_cursor"] != fmt.Sprintf("%d-%d", a, c) {
			t.Fatalf("second page %d %v", st, body)
		}
		if st, body := e.api("GET", "/api/v1/duplicates?after=9-3", tok, ""); st != 400 {
			t.Fatalf("a bad cursor %d %v", st, body)
		}
		mark := func(body string) int {
			req := e.req("POST", "/api/v1/duplicates/not-duplicate", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", "application/json")
			st, _, _ := e.do(req)
			return st
		}
		if st := mark(fmt.Sprintf(`{"customer_ids": [%d, %d]}`, b, a)); st != http.StatusNoContent {
			t.Fatalf("not a duplicate: %d", st)
		}
		for body, want := range map[string]int{fmt.Sprintf(`{"customer_ids": [%d, %d]}`, a, a): 400, `{"customer_ids": [1, 99999]}`: 404, fmt.Sprintf(`{"customer_ids": [%d]}`, a): 400} {
			if st := mark(body); st != want {
				t.Fatalf("%s: %d, want %d", body, st, want)
			}
		}
		_, body = e.api("GET", "/api/v1/duplicates", tok, "")
		if items := body["items"].([]any); len(items) != 2 || items[0].(map[string]any)["b"].(map[string]any)["id"] != float64(c) {
			t.Fatalf("after the mark %v", body)
		}
		br := e.browser()
		br.post("/login", "/login", map[string][]string{"email": {"mia@example.com"}, "password": {"correct horse"}})
		st, _, page := br.get("/crm/duplicates")
		if st != 200 || strings.Contains(page, fmt.Sprintf(`data-pair="%d-%d"`, a, b)) || !strings.Contains(page, fmt.Sprintf(`data-pair="%d-%d"`, a, c)) {
			t.Fatalf("page %d shows the marked pair or not the others", st)
		}
		if st, _, _ := br.get("/crm/duplicates?after=x"); st != 400 {
			t.Fatalf("a bad cursor on the page: %d", st)
		}
	})
}
