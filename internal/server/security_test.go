package server_test

import (
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
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

// zeros is n bytes of "a" without holding them in memory.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	k := min(int64(len(p)), z.n)
	for i := range p[:k] {
		p[i] = 'a'
	}
	z.n -= k
	return int(k), nil
}

// A body far over the limit is answered 413, on pages (also the sign-in
// form) and in the API; the import upload keeps its own, larger limit.
func TestOversizeBodies(t *testing.T) {
	e := newEnv(t, testdb.Open(t, "sqlite"))
	_, tok := e.user("ada@example.com", crm.RoleAdmin)
	const big = 100 << 20
	form := func(b *browser, from, path string) (int, string) {
		_, _, page := b.get(from)
		prefix := "csrf_token=" + csrfField.FindStringSubmatch(page)[1] + "&email=ada%40example.com&name="
		req := e.req("POST", path, io.MultiReader(strings.NewReader(prefix), &zeros{big}))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(body)
	}
	if st, body := form(e.browser(), "/login", "/login"); st != 413 || !strings.Contains(body, "too large") {
		t.Fatalf("100 MB sign-in: %d %s", st, body)
	}
	if st, body := form(e.signedIn("ada@example.com"), "/crm/segments", "/crm/segments"); st != 413 || !strings.Contains(body, "too large") {
		t.Fatalf("100 MB page form: %d %s", st, body)
	}
	// a multipart page form goes through the CSRF check's own reading
	b := e.signedIn("ada@example.com")
	_, _, page := b.get("/crm/segments")
	mp := "--XX\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n" + csrfField.FindStringSubmatch(page)[1] +
		"\r\n--XX\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n"
	req := e.req("POST", "/crm/segments", io.MultiReader(strings.NewReader(mp), &zeros{big}))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=XX")
	if res, err := b.c.Do(req); err != nil || res.StatusCode != 413 {
		t.Fatalf("100 MB multipart page form: %v %v", res, err)
	}
	req = e.req("POST", "/api/v1/segments", io.MultiReader(strings.NewReader(`{"name":"`), &zeros{big}))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	if st, _, body := e.do(req); st != 413 || !strings.Contains(body, `"code":"too_large"`) {
		t.Fatalf("100 MB API body: %d %s", st, body)
	}
	// an upload of a few MB (over the form limit) is still an import
	csv := "full_name,email\n" + strings.Repeat("Ann Berg,ann@example.com\n", 120_000)
	if st, up := upload(t, e.srv.URL, tok, "big.csv", []byte(csv)); st != 201 {
		t.Fatalf("upload of %d bytes: %d %v", len(csv), st, up)
	}
}

// Answers with customer data are never cached, https brings HSTS, "Bearer"
// is case-insensitive, and the webhook and token calls are not refused for
// the Origin header a provider or a server-side client may send.
func TestHeadersAndTokenCalls(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, func(d *server.Deps) { d.SecureCookie = true })
		_, tok := e.user("ada@example.com", crm.RoleAdmin)
		cid, _ := e.customerWithEmail("Ann Berg", "ann@example.com")
		b := e.signedIn("ada@example.com")
		for _, p := range []string{"/crm/customers", fmt.Sprintf("/crm/customers/%d", cid), "/crm/segments", "/settings"} {
			res, err := b.c.Get(e.srv.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-store" ||
				res.Header.Get("Strict-Transport-Security") != "max-age=31536000" {
				t.Errorf("%s: %d Cache-Control %q HSTS %q", p, res.StatusCode, res.Header.Get("Cache-Control"), res.Header.Get("Strict-Transport-Security"))
			}
		}
		for _, p := range []string{"/api/v1/customers", fmt.Sprintf("/api/v1/customers/%d", cid), "/api/v1/customers/export.csv", "/api/v1/me", "/api/v1/nope"} {
			req := e.req("GET", p, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			if _, h, _ := e.do(req); h.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: Cache-Control %q", p, h.Get("Cache-Control"))
			}
		}
		// versioned static files stay cacheable
		_, _, page := b.get("/crm/customers")
		asset := regexp.MustCompile(`href="(/static/app\.css\?v=[^"]+)"`).FindStringSubmatch(page)
		if _, h, _ := e.do(e.req("GET", asset[1], nil)); !strings.Contains(h.Get("Cache-Control"), "immutable") {
			t.Errorf("static asset: Cache-Control %q", h.Get("Cache-Control"))
		}

		for _, scheme := range []string{"bearer", "BEARER", "Bearer"} {
			req := e.req("GET", "/api/v1/me", nil)
			req.Header.Set("Authorization", scheme+" "+tok)
			if st, _, body := e.do(req); st != 200 {
				t.Errorf("%s: %d %s", scheme, st, body)
			}
		}
		// token calls from elsewhere: a provider's webhook, a server-side client with an Origin
		req := e.req("POST", "/api/v1/webhooks/email-events", strings.NewReader(`{"email":"ann@example.com","type":"bounce"}`))
		req.Header.Set("Authorization", "bearer "+webhookToken)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", "https://hooks.mailprovider.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		if st, _, body := e.do(req); st != 200 || !strings.Contains(body, `"suppressed":1`) {
			t.Errorf("webhook with an Origin: %d %s", st, body)
		}
		req = e.req("POST", "/api/v1/segments", strings.NewReader(`{"name":"From a script"}`))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", "https://tools.example")
		if st, _, body := e.do(req); st != 201 {
			t.Errorf("token call with an Origin: %d %s", st, body)
		}
		// a cookie call from another site is still refused, also when it names a bogus token scheme for a page
		_, _, page = b.get("/crm/segments")
		csrf := csrfField.FindStringSubmatch(page)[1]
		req = e.req("POST", "/api/v1/segments", strings.NewReader(`{"name":"Forged"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", csrf)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		if res, err := b.c.Do(req); err != nil || res.StatusCode != 403 {
			t.Errorf("cross-site cookie call: %v %v", res, err)
		}
		req = e.req("POST", "/crm/segments", strings.NewReader(url.Values{"name": {"Forged"}, "csrf_token": {csrf}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		if res, err := b.c.Do(req); err != nil || res.StatusCode != 403 {
			t.Errorf("cross-site page post with a token header: %v %v", res, err)
		}
		// plain http: no HSTS
		if plain := newEnv(t, db); func() bool {
			_, h, _ := plain.do(plain.req("GET", "/login", nil))
			return h.Get("Strict-Transport-Security") != ""
		}() {
			t.Error("HSTS over http")
		}
	})
}

// The import preview's JSON uses snake_case keys for scores and custom values.
func TestImportPreviewKeys(t *testing.T) {
	db := testdb.Open(t, "sqlite")
	e := newEnv(t, db)
	_, tok := e.user("ada@example.com", crm.RoleAdmin)
	if err := db.CreateProduct(t.Context(), &crm.Product{Key: "pro", Name: "Pro"}); err != nil {
		t.Fatal(err)
	}
	if st, body := e.api("POST", "/api/v1/custom-fields", tok, `{"key":"size","label":"Size","type":"text"}`); st != 201 {
		t.Fatalf("custom field: %d %v", st, body)
	}
	st, up := upload(t, e.srv.URL, tok, "c.csv", []byte("Name,Email,Pro,Size\nAnn Berg,ann@example.com,80,XL\n"))
	if st != 201 {
		t.Fatalf("upload %d %v", st, up)
	}
	id := int64(up["id"].(float64))
	if st, body := e.api("PUT", fmt.Sprintf("/api/v1/imports/%d/mapping", id), tok,
		`{"mapping":{"Name":"full_name","Email":"email","Pro":"score:pro","Size":"custom:size"},"mode":"create"}`); st != 200 {
		t.Fatalf("mapping %d %v", st, body)
	}
	st, pv := e.api("GET", fmt.Sprintf("/api/v1/imports/%d/preview", id), tok, "")
	row := pv["rows"].([]any)[0].(map[string]any)
	scores, _ := row["scores"].(map[string]any)
	custom, _ := row["custom"].(map[string]any)
	if st != 200 || scores["pro"] != float64(80) || custom["size"] != `"XL"` || row["Scores"] != nil || row["Custom"] != nil {
		t.Fatalf("preview row: %d %v", st, row)
	}
}
