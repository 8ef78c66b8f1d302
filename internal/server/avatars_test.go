package server_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/acme/crm/internal/avatars"
	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/server"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// Issue 17 item 7: pictures come from our origin, never a third party's.
func TestAvatarsFromOurOrigin(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		pic := []byte("\x89PNG\r\n\x1a\n-picture-")
		withPic := crm.AvatarHash("ada@example.com")
		gravatar := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/"+withPic) {
				w.Header().Set("Content-Type", "image/png")
				_, _ = w.Write(pic)
				return
			}
			http.NotFound(w, r)
		}))
		defer gravatar.Close()
		av := avatars.New(db, true, gravatar.URL+"/avatar/", slog.New(slog.DiscardHandler))
		e := newEnv(t, db, func(d *server.Deps) { d.Avatars = av })
		_, tok := e.user("boss@example.com", crm.RoleAdmin)
		for _, c := range []string{`{"full_name":"Ada Lovelace","contact":{"channel":"email","value":"Ada@Example.com"}}`,
			`{"full_name":"Bo Nopic","contact":{"channel":"email","value":"bo@example.com"}}`} {
			if st, body := e.api("POST", "/api/v1/customers", tok, c); st != 201 {
				t.Fatalf("customer: %d %v", st, body)
			}
		}
		_, body := e.api("GET", "/api/v1/customers?sort=name", tok, "")
		items := body["items"].([]any)
		if u := items[0].(map[string]any)["avatar_url"]; u != "/avatars/"+withPic {
			t.Fatalf("avatar_url %v", u)
		}

		b := e.signedIn("boss@example.com")
		st, _, page := b.get("/crm/customers")
		if st != 200 || strings.Contains(page, "gravatar.com") || !strings.Contains(page, `src="/avatars/`+withPic+`"`) {
			t.Fatalf("the table asks a third party, or not us: %d", st)
		}
		get := func(c *http.Client, hash string) *http.Response {
			res, err := c.Get(e.srv.URL + "/avatars/" + hash)
			if err != nil {
				t.Fatal(err)
			}
			return res
		}
		res := get(b.c, withPic)
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || string(got) != string(pic) || res.Header.Get("Content-Type") != "image/png" ||
			!strings.HasPrefix(res.Header.Get("Cache-Control"), "private, max-age=") || res.Header.Get("Cache-Control") == "no-store" {
			t.Fatalf("picture: %d %q %v", res.StatusCode, got, res.Header)
		}
		res = get(b.c, crm.AvatarHash("bo@example.com"))
		res.Body.Close()
		if res.StatusCode != 204 || !strings.HasPrefix(res.Header.Get("Cache-Control"), "private, max-age=") {
			t.Fatalf("no picture: %d %v", res.StatusCode, res.Header)
		}
		anon := e.browser().c
		if res := get(anon, withPic); res.StatusCode != 303 {
			t.Fatalf("anonymous: %d", res.StatusCode)
		}
		if res := get(b.c, "not-a-hash"); res.StatusCode != 404 {
			t.Fatalf("bad hash: %d", res.StatusCode)
		}
		if csp := res.Header.Get("Content-Security-Policy"); strings.Contains(csp, "gravatar") {
			t.Fatalf("CSP still allows Gravatar: %s", csp)
		}

		// Gravatar off: the table shows initials and asks for no picture at all
		av.Enabled = false
		if _, _, page := b.get("/crm/customers"); strings.Contains(page, `/avatars/`) {
			t.Fatal("pictures asked for with Gravatar off")
		}
	})
}
