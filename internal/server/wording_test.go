package server_test

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// visibleText is a page without its tags and attributes: what a reader sees.
func visibleText(page string) string {
	page = regexp.MustCompile(`(?s)<(script|style|datalist)\b.*?</(script|style|datalist)>`).ReplaceAllString(page, " ")
	return html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(page, " "))
}

// TestWordsPeopleUse (issue 17, item 4): the pages show every stored key in
// words (suppression reasons, channels, deal stages, roles), phone numbers in
// international format, times in the reader's time zone in one date style,
// plurals that agree, filter errors in plain language, and not-found pages
// that say what was not found.
func TestWordsPeopleUse(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin, tok := e.user("ada@example.com", crm.RoleAdmin)
		st, c := e.api("POST", "/api/v1/customers", tok, `{"full_name":"Petra Wort","company_name":"Wort GmbH","contact":{"channel":"phone","value":"+493012345678"}}`)
		if st != 201 {
			t.Fatalf("create: %d %v", st, c)
		}
		id := int64(c["id"].(float64))
		st, k := e.api("POST", fmt.Sprintf("/api/v1/customers/%d/contacts", id), tok, `{"channel":"email","value":"petra@example.com"}`)
		if st != 201 && st != 200 {
			t.Fatalf("add e-mail: %d %v", st, k)
		}
		if st, r := e.api("POST", fmt.Sprintf("/api/v1/customers/%d/contacts", id), tok, `{"channel":"linkedin","value":"petra-wort"}`); st != 201 && st != 200 {
			t.Fatalf("add LinkedIn: %d %v", st, r)
		}
		if st, r := e.api("POST", fmt.Sprintf("/api/v1/contacts/%d/suppress", int64(k["id"].(float64))), tok, `{"reason":"do_not_contact","note":"asked by phone"}`); st != 200 {
			t.Fatalf("suppress: %d %v", st, r)
		}
		if st, r := e.api("POST", fmt.Sprintf("/api/v1/customers/%d/deals", id), tok, `{"title":"Pilot","amount":120000,"currency":"EUR","stage":"negotiation"}`); st != 201 && st != 200 {
			t.Fatalf("deal: %d %v", st, r)
		}

		b := e.signedIn("ada@example.com")
		st, _, page := b.get(fmt.Sprintf("/crm/customers/%d", id))
		if st != 200 {
			t.Fatalf("drawer page: %d", st)
		}
		seen := visibleText(page)
		mustContain(t, "drawer", seen, "Suppressed (Do not contact)", "E-mail", "Phone", "LinkedIn", "Admin")
		mustContain(t, "drawer", html.UnescapeString(page), `value="+49 30 12345678"`) // the phone field, in international format
		for _, key := range []string{"do_not_contact", "linkedin ", " email ", "+493012345678"} {
			if strings.Contains(seen, key) {
				t.Errorf("the drawer shows the stored key %q", key)
			}
		}
		st, _, page = b.get(fmt.Sprintf("/crm/customers/%d?tab=records", id))
		if st != 200 || !strings.Contains(page, `<option value="negotiation" selected>Negotiation</option>`) {
			t.Errorf("the deal stage is not shown as Negotiation (%d)", st)
		}
		_, _, add := b.get("/crm/customers")
		mustContain(t, "add customer", html.UnescapeString(add), `<option value="email" data-placeholder="name@example.com">E-mail</option>`,
			`<option value="phone" data-placeholder="+49 30 1234567">Phone</option>`)
		if st, _, _ := b.post("/crm/customers", "/crm/customers/columns", url.Values{"col": {"name", "phone"}, "back": {"/crm/customers"}}); st != 303 {
			t.Fatalf("columns: %d", st)
		}
		_, _, list := b.get("/crm/customers")
		mustContain(t, "table", visibleText(list), "+49 30 12345678")

		// One date style, in the reader's time zone: the chosen one, else the browser's (cookie), else UTC.
		added := func(b *browser) string {
			_, _, p := b.get(fmt.Sprintf("/crm/customers/%d", id))
			m := regexp.MustCompile(`Added ([^·]+?) ·`).FindStringSubmatch(p)
			if m == nil {
				t.Fatal("the drawer says nothing of when the customer was added")
			}
			return m[1]
		}
		if got := added(b); !regexp.MustCompile(`^\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d UTC$`).MatchString(got) {
			t.Errorf("added %q: not the date style, or not UTC without a zone", got)
		}
		u, _ := url.Parse(e.srv.URL)
		b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "tz", Value: url.QueryEscape("America/Sao_Paulo")}})
		if got := added(b); !strings.HasSuffix(got, " -03") {
			t.Errorf("with the browser in São Paulo, added %q", got)
		}
		if st, _, _ := b.post("/settings", "/settings/timezone", url.Values{"timezone": {"Asia/Tokyo"}}); st != 303 {
			t.Fatalf("save time zone: %d", st)
		}
		if v, _ := db.GetUserPref(t.Context(), admin.ID, "timezone"); v != "Asia/Tokyo" {
			t.Fatalf("the time zone kept is %q", v)
		}
		if got := added(b); !strings.HasSuffix(got, " JST") {
			t.Errorf("with Asia/Tokyo chosen, added %q", got)
		}
		if st, _, p := b.post("/settings", "/settings/timezone", url.Values{"timezone": {"Mars/Olympus"}}); st != 422 || !strings.Contains(p, "is not a time zone") {
			t.Errorf("a made-up time zone: %d", st)
		}

		// Plurals: the company drawer counts its one customer in the singular.
		co := regexp.MustCompile(`href="/crm/companies/(\d+)"`).FindStringSubmatch(page)
		if co == nil {
			t.Fatal("no company link")
		}
		_, _, cp := b.get("/crm/companies/" + co[1])
		mustContain(t, "company", cp, "1 active customer<")

		// Filter errors in plain language.
		st, _, fp := b.get("/crm/customers?score_product=x&score_min=80&score_max=20")
		if st != 400 {
			t.Fatalf("bad filter: %d", st)
		}
		mustContain(t, "filter error", fp, "The minimum score is higher than the maximum")
		if strings.Contains(fp, "score_min:") {
			t.Error("the filter error names the parameter, not the thing")
		}

		// Not found says what, never "Not built yet".
		for path, want := range map[string]string{"/crm/customers/999999": "Customer not found", "/crm/companies/999999": "Company not found", "/no/such/page": "Page not found"} {
			st, _, p := b.get(path)
			if st != 404 || !strings.Contains(p, want) || strings.Contains(p, "Not built yet") {
				t.Errorf("%s: %d, want %q", path, st, want)
			}
		}
	})
}
