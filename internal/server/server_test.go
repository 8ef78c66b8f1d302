package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/acme/crm/internal/accounts"
	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/importer"
	"github.com/acme/crm/internal/jobs"
	"github.com/acme/crm/internal/outreach"
	"github.com/acme/crm/internal/server"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

type env struct {
	t   *testing.T
	srv *httptest.Server
	acc *accounts.Service
	out *outreach.Service
	db  *store.DB
}

// webhookToken is the CRM_WEBHOOK_TOKEN of the test server.
const webhookToken = "test-webhook-token-123"

func newEnv(t *testing.T, db *store.DB, opts ...func(*server.Deps)) *env {
	acc := accounts.New(db)
	acc.Cost = bcrypt.MinCost
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	log := slog.New(slog.DiscardHandler)
	out := outreach.New(db, nil, "crm@example.com", srv.URL)
	cs := customers.New(db)
	queue, err := jobs.Open(db, out, cs, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := queue.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = queue.Stop(context.Background()); cancel() })
	deps := server.Deps{Store: db, Accounts: acc, Customers: cs, Outreach: out, Jobs: queue,
		Imports: importer.New(db, t.TempDir(), jobs.ImportEnqueuer(queue)), WebhookToken: webhookToken, Log: log}
	for _, o := range opts {
		o(&deps)
	}
	h, err = server.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, srv: srv, acc: acc, out: out, db: db}
}

func (e *env) user(email string, role crm.Role) (*crm.User, string) {
	e.t.Helper()
	u, err := e.acc.CreateUser(e.t.Context(), nil, accounts.NewUser{Email: email, Name: "Name of " + email, Role: role, Password: "correct horse"})
	if err != nil {
		e.t.Fatal(err)
	}
	tok, _, err := e.acc.CreateToken(e.t.Context(), nil, u.ID, "test")
	if err != nil {
		e.t.Fatal(err)
	}
	return u, tok
}

// api calls the API and decodes the JSON answer.
func (e *env) api(method, path, token, body string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		e.t.Fatalf("%s %s: not JSON (%d): %s", method, path, res.StatusCode, b)
	}
	return res.StatusCode, out
}

func errCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func TestAPIAuthAndRoles(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin, adminTok := e.user("boss@example.com", crm.RoleAdmin)
		_, memberTok := e.user("mia@example.com", crm.RoleMember)

		if st, body := e.api("GET", "/api/v1/me", "", ""); st != 401 || errCode(body) != "unauthorized" {
			t.Fatalf("anonymous /me: %d %v", st, body)
		}
		if st, body := e.api("GET", "/api/v1/me", "crm_not-a-real-token", ""); st != 401 || errCode(body) != "unauthorized" {
			t.Fatalf("bad token: %d %v", st, body)
		}
		st, body := e.api("GET", "/api/v1/me", adminTok, "")
		if st != 200 || body["email"] != "boss@example.com" || body["role"] != "admin" || body["id"] != float64(admin.ID) || body["name"] == "" {
			t.Fatalf("/me: %d %v", st, body)
		}

		newUser := `{"email":"new@example.com","name":"New Person","role":"member","password":"long enough"}`
		if st, body := e.api("POST", "/api/v1/users", memberTok, newUser); st != 403 || errCode(body) != "forbidden" {
			t.Fatalf("member adding a user: %d %v", st, body)
		}
		if st, body := e.api("POST", "/api/v1/users", adminTok, newUser); st != 201 || body["email"] != "new@example.com" {
			t.Fatalf("admin adding a user: %d %v", st, body)
		}
		st, body = e.api("POST", "/api/v1/users", adminTok, `{"email":"not-an-email","name":"","role":"member","password":"short"}`)
		if st != 400 || errCode(body) != "invalid" {
			t.Fatalf("bad user: %d %v", st, body)
		}
		if msg := body["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "e-mail") || !strings.Contains(msg, "8 characters") {
			t.Fatalf("bad user message %q", msg)
		}
		if st, body := e.api("POST", "/api/v1/users", adminTok, `{"email":"x@example.com","name":"X","role":"owner","password":"long enough"}`); st != 400 {
			t.Fatalf("unknown role: %d %v", st, body)
		}
		st, body = e.api("GET", "/api/v1/users", memberTok, "")
		if items, _ := body["items"].([]any); st != 200 || len(items) != 3 {
			t.Fatalf("users: %d %v", st, body)
		}

		// a revoked token stops working at once
		tokens, _ := e.acc.ListTokens(t.Context(), admin, admin.ID)
		if err := e.acc.RevokeToken(t.Context(), admin, admin.ID, tokens[0].ID); err != nil {
			t.Fatal(err)
		}
		if st, _ := e.api("GET", "/api/v1/me", adminTok, ""); st != 401 {
			t.Fatalf("revoked token: %d", st)
		}
	})
}

func TestOpenAPIDocumentIsPublicAndListsRoutes(t *testing.T) {
	e := newEnv(t, testdb.Open(t, "sqlite"))
	st, doc := e.api("GET", "/api/openapi.json", "", "")
	paths, _ := doc["paths"].(map[string]any)
	if st != 200 || paths["/api/v1/me"] == nil || paths["/api/v1/users"] == nil {
		t.Fatalf("openapi: %d %v", st, doc["paths"])
	}
}

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	t *testing.T
	c *http.Client
	e *env
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func (b *browser) get(path string) (int, string, string) {
	b.t.Helper()
	res, err := b.c.Get(b.e.srv.URL + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Location"), string(body)
}

// post submits a form with the CSRF token of the page at from.
func (b *browser) post(from, path string, form url.Values) (int, string, string) {
	b.t.Helper()
	_, _, page := b.get(from)
	if m := csrfField.FindStringSubmatch(page); m != nil && form.Get("csrf_token") == "" {
		form.Set("csrf_token", m[1])
	}
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Location"), string(body)
}

func TestSignIn(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.user("mia@example.com", crm.RoleMember)
		b := e.browser()

		st, loc, _ := b.get("/settings?tab=tokens")
		if st != 303 || loc != "/login?next="+url.QueryEscape("/settings?tab=tokens") {
			t.Fatalf("anonymous page: %d %s", st, loc)
		}
		// one message whether the e-mail exists or not
		_, _, wrongPass := b.post("/login", "/login", url.Values{"email": {"mia@example.com"}, "password": {"wrong password"}})
		_, _, noUser := b.post("/login", "/login", url.Values{"email": {"nobody@example.com"}, "password": {"wrong password"}})
		msg := "The e-mail or password is incorrect."
		if !strings.Contains(wrongPass, msg) || !strings.Contains(noUser, msg) {
			t.Fatalf("sign-in messages differ or are missing")
		}
		if !strings.Contains(wrongPass, `value="mia@example.com"`) {
			t.Fatal("the typed e-mail was lost")
		}
		st, loc, _ = b.post("/login", "/login", url.Values{"email": {"MIA@example.com"}, "password": {"correct horse"}, "next": {"/settings?tab=tokens"}})
		if st != 303 || loc != "/settings?tab=tokens" {
			t.Fatalf("sign-in: %d %s", st, loc)
		}
		st, _, page := b.get("/settings")
		if st != 200 || !strings.Contains(page, "Name of mia@example.com") || !strings.Contains(page, "API tokens") {
			t.Fatalf("settings after sign-in: %d", st)
		}
		// a page session may call the API (GET without a CSRF header)
		req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/me", nil)
		res, _ := b.c.Do(req)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("API with session: %d", res.StatusCode)
		}
		// an open redirect is not possible
		if _, loc, _ := b.get("/login?next=//evil.example"); loc != "/crm/customers" {
			t.Fatalf("next=//evil: %s", loc)
		}

		// create a token on the Settings page; it is shown once
		st, _, _ = b.post("/settings", "/settings/tokens", url.Values{"name": {"zapier"}})
		_, _, page = b.get("/settings")
		tok := regexp.MustCompile(`value="(crm_[^"]+)"`).FindStringSubmatch(page)
		if st != 303 || tok == nil {
			t.Fatalf("token creation: %d", st)
		}
		if st, _ := e.api("GET", "/api/v1/me", tok[1], ""); st != 200 {
			t.Fatalf("new token: %d", st)
		}
		if _, _, again := b.get("/settings"); strings.Contains(again, tok[1]) {
			t.Fatal("the token was shown twice")
		}

		// sign out
		if st, loc, _ := b.post("/settings", "/logout", url.Values{}); st != 303 || loc != "/login" {
			t.Fatalf("sign-out: %d %s", st, loc)
		}
		if st, _, _ := b.get("/settings"); st != 303 {
			t.Fatalf("after sign-out: %d", st)
		}
	})
}

func TestCSRFAndThrottle(t *testing.T) {
	e := newEnv(t, testdb.Open(t, "sqlite"))
	e.user("mia@example.com", crm.RoleMember)
	b := e.browser()
	if st, _, _ := b.post("/login", "/login", url.Values{"email": {"mia@example.com"}, "password": {"correct horse"}}); st != 303 {
		t.Fatalf("sign-in %d", st)
	}
	if st, _, _ := b.post("/settings", "/settings/tokens", url.Values{"name": {"x"}, "csrf_token": {"forged"}}); st != 403 {
		t.Fatalf("forged CSRF token: %d", st)
	}
	// a cross-site form post is refused before it reaches the handler
	req, _ := http.NewRequest("POST", e.srv.URL+"/settings/tokens", strings.NewReader("name=x"))
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, _ := b.c.Do(req)
	res.Body.Close()
	if res.StatusCode != 403 {
		t.Fatalf("cross-site post: %d", res.StatusCode)
	}

	other := e.browser()
	for range accounts.MaxFailures {
		if st, _, _ := other.post("/login", "/login", url.Values{"email": {"mia@example.com"}, "password": {"guess"}}); st != 401 {
			t.Fatalf("failed sign-in: %d", st)
		}
	}
	st, _, page := other.post("/login", "/login", url.Values{"email": {"mia@example.com"}, "password": {"correct horse"}})
	if st != 429 || !strings.Contains(page, "Too many failed sign-ins") {
		t.Fatalf("throttled sign-in: %d", st)
	}
}

func TestSetupCreatesFirstAdminOnce(t *testing.T) {
	e := newEnv(t, testdb.Open(t, "sqlite"))
	b := e.browser()
	if st, loc, _ := b.get("/crm/customers"); st != 303 || loc != "/setup" {
		t.Fatalf("empty install: %d %s", st, loc)
	}
	st, _, page := b.post("/setup", "/setup", url.Values{"name": {"Ada"}, "email": {"bad"}, "password": {"short"}})
	if st != 422 || !strings.Contains(page, "is not an e-mail address") || !strings.Contains(page, `value="Ada"`) {
		t.Fatalf("bad setup: %d", st)
	}
	st, loc, _ := b.post("/setup", "/setup", url.Values{"name": {"Ada"}, "email": {"ada@example.com"}, "password": {"long enough"}})
	if st != 303 || loc != "/crm/customers" {
		t.Fatalf("setup: %d %s", st, loc)
	}
	u, err := e.db.GetUserByEmail(t.Context(), "ada@example.com")
	if err != nil || u.Role != crm.RoleAdmin {
		t.Fatalf("first user %+v %v", u, err)
	}
	if st, loc, _ := e.browser().get("/setup"); st != 303 || loc != "/login" {
		t.Fatalf("setup after the first admin: %d %s", st, loc)
	}
}

func TestHealthAndPendingPages(t *testing.T) {
	e := newEnv(t, testdb.Open(t, "sqlite"))
	b := e.browser()
	if st, _, body := b.get("/healthz"); st != 200 || body != "ok\n" {
		t.Fatalf("healthz %d %q", st, body)
	}
	e.user("mia@example.com", crm.RoleMember)
	b.post("/login", "/login", url.Values{"email": {"mia@example.com"}, "password": {"correct horse"}})
	for _, p := range []string{"/crm/companies"} { // built (issue 13): the Companies table
		if st, _, body := b.get(p); st != 200 || !strings.Contains(body, `id="company-table"`) || !strings.Contains(body, `aria-current="page"`) {
			t.Fatalf("%s: %d", p, st)
		}
	}
	if st, _, body := b.get("/no/such/page"); st != 404 || !strings.Contains(body, "Page not found") {
		t.Fatalf("unknown page: %d", st)
	}
}
