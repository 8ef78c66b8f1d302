package server_test

import (
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/acme/crm/internal/accounts"
	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/server"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// do sends a request and returns the status, the headers and the body.
func (e *env) do(req *http.Request) (int, http.Header, string) {
	e.t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

func (e *env) req(method, path string, body io.Reader) *http.Request {
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	return req
}

// Behind a trusted proxy each client is throttled by its own address; the
// X-Forwarded-For of anyone else is never believed.
func TestThrottleBehindTrustedProxy(t *testing.T) {
	db := testdb.Open(t, "sqlite")
	e := newEnv(t, db, func(d *server.Deps) {
		d.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}
	})
	e.user("mia@example.com", crm.RoleMember)
	login := func(xff, password string) int {
		form := url.Values{"email": {"mia@example.com"}, "password": {password}}
		b := e.browser()
		_, _, page := b.get("/login")
		form.Set("csrf_token", csrfField.FindStringSubmatch(page)[1])
		req := e.req("POST", "/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", xff)
		res, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	// the guesser sends a made-up address first; the proxies append the real one
	for range accounts.MaxFailures {
		if st := login("1.2.3.4, 198.51.100.7, 10.0.0.2", "guess"); st != 401 {
			t.Fatalf("guess: %d", st)
		}
	}
	if st := login("5.6.7.8, 198.51.100.7, 10.0.0.2", "correct horse"); st != 429 {
		t.Fatalf("the guesser changed its made-up address and got through: %d", st)
	}
	if st := login("203.0.113.9, 10.0.0.2", "correct horse"); st != 303 {
		t.Fatalf("another client behind the same proxy is locked out: %d", st)
	}

	// without trusted proxies the header is ignored: the peer is the client
	plain := newEnv(t, testdb.Open(t, "sqlite"))
	plain.user("mia@example.com", crm.RoleMember)
	e = plain
	for i := range accounts.MaxFailures {
		if st := login(fmt.Sprintf("198.51.100.%d", i), "guess"); st != 401 {
			t.Fatalf("guess: %d", st)
		}
	}
	if st := login("203.0.113.9", "correct horse"); st != 429 {
		t.Fatalf("an untrusted X-Forwarded-For was believed: %d", st)
	}
}

// location sends req with b's cookies without following (nor parsing, as
// Go's client would refuse a control character) the Location it answers.
func (b *browser) location(req *http.Request) (int, string) {
	b.t.Helper()
	for _, c := range b.c.Jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		b.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode, res.Header.Get("Location")
}

// ?next= only ever leads to a page of this site, however a browser would read it.
func TestLoginNextStaysOnSite(t *testing.T) {
	e := newEnv(t, testdb.Open(t, "sqlite"))
	e.user("mia@example.com", crm.RoleMember)
	b := e.signedIn("mia@example.com")
	signIn := func(next string) (int, string) {
		a := e.browser()
		_, _, page := a.get("/login")
		form := url.Values{"email": {"mia@example.com"}, "password": {"correct horse"}, "next": {next},
			"csrf_token": {csrfField.FindStringSubmatch(page)[1]}}
		req := e.req("POST", "/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return a.location(req)
	}
	bad := []string{
		"/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "\t//evil.example", "/\x7f/evil.example",
		"//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example", "\\/evil.example", "/x\\..\\\\evil.example",
		"https://evil.example", "https:/evil.example", "javascript:alert(1)", "evil.example", " /evil", "/\u00a0/evil",
		"/%09/../\t/evil.example", "", "/a/../\t/evil.example", "/./\t/evil.example",
	}
	for _, next := range bad {
		if _, loc := b.location(e.req("GET", "/login?next="+url.QueryEscape(next), nil)); loc != "/crm/customers" {
			t.Errorf("GET /login?next=%q (signed in) -> %q", next, loc)
		}
		if st, loc := signIn(next); st != 303 || loc != "/crm/customers" {
			t.Errorf("sign-in with next=%q -> %d %q", next, st, loc)
		}
	}
	for _, next := range []string{"/settings?tab=tokens", "/crm/customers?q=ann+berg&tag=vip", "/crm/customers/12#notes", "/crm/%2F%2Fx"} {
		if _, loc := b.location(e.req("GET", "/login?next="+url.QueryEscape(next), nil)); loc != next {
			t.Errorf("GET /login?next=%q -> %q", next, loc)
		}
		if _, loc := signIn(next); loc != next {
			t.Errorf("sign-in with next=%q -> %q", next, loc)
		}
	}
}

// NUL and invalid UTF-8 are refused with a 400 naming the field, before any
// handler or database sees them: the same answer on both engines.
func TestInvalidTextRefused(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		_, tok := e.user("ada@example.com", crm.RoleAdmin)
		cid, kid := e.customerWithEmail("Ann Berg", "ann@example.com")
		c := fmt.Sprint(cid)
		type tc struct{ method, path, body, field string }
		// X marks where the bad text goes
		cases := []tc{
			{"POST", "/api/v1/customers", `{"full_name":"AnnX"}`, "full_name"},
			{"POST", "/api/v1/customers", `{"full_name":"Ann","contact":{"channel":"email","value":"aX@example.com"}}`, "contact.value"},
			{"PATCH", "/api/v1/customers/" + c, `{"last_name":"BX"}`, "last_name"},
			{"PATCH", "/api/v1/customers/" + c, `{"custom":{"kX":"v"}}`, "custom"},
			{"POST", "/api/v1/customers/" + c + "/tags", `{"names":["vip","vX"]}`, "names[1]"},
			{"POST", "/api/v1/tags", `{"name":"X"}`, "name"},
			{"POST", "/api/v1/segments", `{"name":"fairX"}`, "name"},
			{"POST", "/api/v1/companies", `{"name":"AcmeX"}`, "name"},
			{"POST", "/api/v1/customers/" + c + "/notes", `{"body":"X"}`, "body"},
			{"POST", "/api/v1/customers/" + c + "/deals", `{"title":"X","amount":100,"currency":"EUR","stage":"lead"}`, "title"},
			{"POST", "/api/v1/customers/" + c + "/tasks", `{"title":"callX"}`, "title"},
			{"POST", "/api/v1/customers/" + c + "/contacts", `{"channel":"phone","value":"+49 30X"}`, "value"},
			{"POST", fmt.Sprintf("/api/v1/contacts/%d/suppress", kid), `{"reason":"manual","note":"X"}`, "note"},
			{"POST", "/api/v1/customers/" + c + "/send", `{"channel":"email","subject":"HiX","body":"b"}`, "subject"},
			{"POST", "/api/v1/customers/bulk", `{"action":"tag","ids":[` + c + `],"tags":["X"]}`, "tags[0]"},
			{"POST", "/api/v1/customers/bulk", `{"action":"tag","filter":{"tag":["X"]},"tags":["t"]}`, "filter.tag[0]"},
			{"POST", "/api/v1/users", `{"email":"x@example.com","name":"X","role":"member","password":"long enough"}`, "name"},
			{"GET", "/api/v1/companies?q=X", "", "q"},
			{"GET", "/api/v1/customers?tag=vip&tag=X", "", "tag"},
			{"GET", "/api/v1/customers/export.csv?tag=X", "", "tag"},
			{"DELETE", "/api/v1/customers/" + c + "/tags/X", "", "path"},
		}
		for _, bad := range []struct{ name, json, query string }{{"NUL", `\u0000`, "%00"}, {"invalid UTF-8", "\xff", "%FF"}} {
			for _, k := range cases {
				path := strings.Replace(k.path, "X", bad.query, 1)
				req := e.req(k.method, path, strings.NewReader(strings.Replace(k.body, "X", bad.json, 1)))
				req.Header.Set("Authorization", "Bearer "+tok)
				if k.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				st, h, body := e.do(req)
				if st != 400 || !strings.HasPrefix(h.Get("Content-Type"), "application/json") ||
					!strings.Contains(body, `"code":"invalid"`) || !strings.Contains(body, `"field":"`+k.field+`"`) {
					t.Errorf("%s in %s %s: %d %s %s", bad.name, k.method, path, st, h.Get("Content-Type"), body)
				}
			}
			// the same without a Content-Type (huma reads JSON anyway)
			req := e.req("POST", "/api/v1/segments", strings.NewReader(`{"name":"`+bad.json+`"}`))
			req.Header.Set("Authorization", "Bearer "+tok)
			if st, _, body := e.do(req); st != 400 || !strings.Contains(body, `"field":"name"`) {
				t.Errorf("%s without a content type: %d %s", bad.name, st, body)
			}

			// pages: a form field, a query parameter, the sign-in form
			b := e.signedIn("ada@example.com")
			if st, _, body := b.post("/crm/segments", "/crm/segments", url.Values{"name": {"fair" + map[string]string{"NUL": "\x00", "invalid UTF-8": "\xff"}[bad.name]}}); st != 400 || !strings.Contains(body, `"name"`) {
				t.Errorf("%s in a page form: %d %s", bad.name, st, body)
			}
			if st, _, body := b.get("/crm/customers?q=ann" + bad.query); st != 400 || !strings.Contains(body, `"q"`) {
				t.Errorf("%s in a page's query: %d %s", bad.name, st, body)
			}
			if st, _, body := e.browser().post("/login", "/login", url.Values{"email": {"ada" + map[string]string{"NUL": "\x00", "invalid UTF-8": "\xff"}[bad.name] + "@example.com"}, "password": {"x"}}); st != 400 || !strings.Contains(body, `"email"`) {
				t.Errorf("%s in the sign-in form: %d %s", bad.name, st, body)
			}
		}
		// nothing got in
		if st, body := e.api("GET", "/api/v1/segments", tok, ""); st != 200 || len(body["items"].([]any)) != 0 {
			t.Fatalf("segments after refusals: %d %v", st, body)
		}
		// the export with a good filter still streams
		req := e.req("GET", "/api/v1/customers/export.csv?tag=vip", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		if st, h, _ := e.do(req); st != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
			t.Fatalf("export: %d %s", st, h.Get("Content-Type"))
		}
	})
}
