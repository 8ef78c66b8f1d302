package server_test

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// Add and edit a company through the API: the domain is normalised, a bad
// or taken one is refused on its field naming the company that has it, and
// the list answers the contract's shape with its filters (issue 13).
func TestCompaniesAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		_, tok := e.user("ada@example.com", crm.RoleMember)
		st, acme := e.api("POST", "/api/v1/companies", tok, `{"name":"Acme GmbH","domain":"HTTPS://WWW.Acme.COM/about?x=1","country":"Germany"}`)
		if st != http.StatusCreated || acme["domain"] != "acme.com" || acme["country"] != "DE" || acme["customers_active"] != float64(0) {
			t.Fatalf("create: %d %v", st, acme)
		}
		fieldErr := func(st int, body map[string]any, field, want string) {
			t.Helper()
			e, _ := body["error"].(map[string]any)
			if st != http.StatusBadRequest || e["field"] != field || !strings.Contains(fmt.Sprint(e["message"]), want) {
				t.Fatalf("want a %s error saying %q: %d %v", field, want, st, body)
			}
		}
		st, body := e.api("POST", "/api/v1/companies", tok, `{"name":"Other","domain":"acme.com"}`)
		fieldErr(st, body, "domain", "Acme GmbH already has the domain acme.com")
		st, body = e.api("POST", "/api/v1/companies", tok, `{"name":"Other","domain":"http://acme.com:8080/"}`)
		fieldErr(st, body, "domain", "Acme GmbH")
		st, body = e.api("POST", "/api/v1/companies", tok, `{"name":"Other","domain":"not a domain"}`)
		fieldErr(st, body, "domain", `"not a domain" is not a domain`)
		st, body = e.api("POST", "/api/v1/companies", tok, `{"name":"acme gmbh"}`)
		fieldErr(st, body, "name", "already exists")
		st, body = e.api("POST", "/api/v1/companies", tok, `{"name":""}`)
		fieldErr(st, body, "name", "Enter the company's name")
		st, body = e.api("POST", "/api/v1/companies", tok, `{"name":"Other","country":"Atlantis"}`)
		fieldErr(st, body, "country", "Atlantis")

		st, other := e.api("POST", "/api/v1/companies", tok, `{"name":"Other","domain":"other.io"}`)
		if st != http.StatusCreated {
			t.Fatalf("create other: %d %v", st, other)
		}
		oid := int64(other["id"].(float64))
		st, body = e.api("PATCH", fmt.Sprintf("/api/v1/companies/%d", oid), tok, `{"domain":"www.acme.com"}`)
		fieldErr(st, body, "domain", "Acme GmbH already has the domain acme.com")
		st, body = e.api("PATCH", fmt.Sprintf("/api/v1/companies/%d", oid), tok, `{"name":"Other Ltd","country":"fr"}`)
		if st != http.StatusOK || body["name"] != "Other Ltd" || body["country"] != "FR" || body["domain"] != "other.io" {
			t.Fatalf("edit: %d %v", st, body)
		}

		// customers count as active ones, and the customer list filters by company
		for i, co := range []any{acme["id"], acme["id"], oid} {
			if st, b := e.api("POST", "/api/v1/customers", tok, fmt.Sprintf(`{"full_name":"P%d","company_id":%v}`, i, co)); st != http.StatusCreated {
				t.Fatalf("customer: %d %v", st, b)
			}
		}
		st, list := e.api("GET", "/api/v1/companies?has_customers=true&sort=-customers_active", tok, "")
		items, _ := list["items"].([]any)
		if st != http.StatusOK || list["total"] != float64(2) || len(items) != 2 {
			t.Fatalf("list: %d %v", st, list)
		}
		first := items[0].(map[string]any)
		for _, k := range []string{"id", "name", "domain", "country", "customers_active", "created_at"} {
			if _, ok := first[k]; !ok {
				t.Fatalf("a listed company has no %s: %v", k, first)
			}
		}
		if first["name"] != "Acme GmbH" || first["customers_active"] != float64(2) {
			t.Fatalf("most active first: %v", first)
		}
		if st, l := e.api("GET", "/api/v1/companies?country=FR", tok, ""); st != 200 || l["total"] != float64(1) {
			t.Fatalf("by country: %d %v", st, l)
		}
		if st, l := e.api("GET", "/api/v1/companies?q=ACME.C", tok, ""); st != 200 || l["total"] != float64(1) {
			t.Fatalf("by domain: %d %v", st, l)
		}
		if st, l := e.api("GET", "/api/v1/companies?sort=owner", tok, ""); st != 400 || errCode(l) != "invalid" {
			t.Fatalf("a bad sort: %d %v", st, l)
		}
		both := fmt.Sprintf("/api/v1/customers?company=%v&company=%d", acme["id"], oid)
		if st, l := e.api("GET", both, tok, ""); st != 200 || l["total"] != float64(3) {
			t.Fatalf("customers of two companies: %d %v", st, l)
		}
		if st, l := e.api("GET", "/api/v1/customers?company=999999", tok, ""); st != 400 || errCode(l) != "invalid" {
			t.Fatalf("an unknown company: %d %v", st, l)
		}

		// the export honours the filter
		b := e.signedIn("ada@example.com")
		st, _, csvText := b.get("/api/v1/companies/export.csv?has_customers=true&sort=-customers_active")
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(csvText, "\ufeff"))).ReadAll()
		if st != 200 || err != nil || len(rows) != 3 || !slices.Equal(rows[0], []string{"id", "name", "domain", "country", "customers_active", "owners", "created_at"}) ||
			rows[1][1] != "Acme GmbH" || rows[1][4] != "2" {
			t.Fatalf("export: %d %v %q", st, err, csvText)
		}
		// the page: the table, a drawer opened beside it, the chip of a company filter
		st, _, html := b.get("/crm/companies?q=acme&open=" + fmt.Sprint(oid))
		if st != 200 || !strings.Contains(html, "Acme GmbH") || !strings.Contains(html, `data-company-id="`+fmt.Sprint(oid)+`"`) {
			t.Fatalf("page: %d", st)
		}
		st, _, html = b.get("/crm/customers?" + url.Values{"company": {fmt.Sprint(oid)}}.Encode())
		if st != 200 || !strings.Contains(html, "Company: Other Ltd") {
			t.Fatalf("customer table by company: %d", st)
		}
		if st, _, html = b.get("/crm/companies?has_customers=maybe"); st != 400 || !strings.Contains(html, "Has active customers is yes or no") {
			t.Fatalf("a bad filter on the page: %d", st)
		}
	})
}

// Many people adding a company with the same domain at once: exactly one
// wins, every other is told on the domain field which company has it (the
// unique index decides; the service's look-up only words the refusal).
func TestCompanyDomainRace(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		_, tok := e.user("ada@example.com", crm.RoleMember)
		for round := range 10 {
			const n = 6
			type answer struct {
				st   int
				body map[string]any
			}
			answers := make(chan answer, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					st, body := e.api("POST", "/api/v1/companies", tok, fmt.Sprintf(`{"name":"Racer %d-%d","domain":"race%d.example"}`, round, i, round))
					answers <- answer{st, body}
				})
			}
			wg.Wait()
			close(answers)
			won := 0
			for a := range answers {
				switch a.st {
				case http.StatusCreated:
					won++
				case http.StatusBadRequest:
					e, _ := a.body["error"].(map[string]any)
					if e["field"] != "domain" || !strings.Contains(fmt.Sprint(e["message"]), "already has the domain") {
						t.Fatalf("round %d: refused for another reason: %v", round, a.body)
					}
				default:
					t.Fatalf("round %d: %d %v", round, a.st, a.body)
				}
			}
			if won != 1 {
				t.Fatalf("round %d: %d companies got the domain", round, won)
			}
		}
	})
}
