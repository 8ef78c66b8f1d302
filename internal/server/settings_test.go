package server_test

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// signedIn returns a browser signed in as the user of that e-mail (created by env.user).
func (e *env) signedIn(email string) *browser {
	e.t.Helper()
	b := e.browser()
	if st, _, _ := b.post("/login", "/login", url.Values{"email": {email}, "password": {"correct horse"}}); st != 303 {
		e.t.Fatalf("sign-in of %s: %d", email, st)
	}
	return b
}

func mustContain(t *testing.T, what, page string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(page, p) {
			t.Fatalf("%s: %q missing", what, p)
		}
	}
}

func TestSettingsUsers(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin, _ := e.user("boss@example.com", crm.RoleAdmin)
		b := e.signedIn("boss@example.com")

		// Bad input: 422, each error beside its field, typed values kept but not the password.
		st, _, page := b.post("/settings", "/settings/users", url.Values{"name": {"Nia Newcomer"}, "email": {"not-an-email"}, "role": {"admin"}, "password": {"short"}})
		if st != 422 {
			t.Fatalf("bad user: %d", st)
		}
		mustContain(t, "bad user", page, `id="u-email-error"`, "is not an e-mail address", `id="u-password-error"`, "at least 8 characters",
			`value="Nia Newcomer"`, `value="not-an-email"`, `<option value="admin" selected>`)
		if strings.Contains(page, `value="short"`) {
			t.Fatal("the password was shown again")
		}

		// Added: a redirect to the Team section and a flash on the next page.
		st, loc, _ := b.post("/settings", "/settings/users", url.Values{"name": {"Nia Newcomer"}, "email": {"nia@example.com"}, "role": {"member"}, "password": {"long enough"}})
		if st != 303 || loc != "/settings#users" {
			t.Fatalf("add user: %d %s", st, loc)
		}
		_, _, page = b.get("/settings")
		mustContain(t, "after add", page, "Added Nia Newcomer as a member", "nia@example.com")
		nia, err := db.GetUserByEmail(t.Context(), "nia@example.com")
		if err != nil || nia.Role != crm.RoleMember || !nia.Active {
			t.Fatalf("new user %+v %v", nia, err)
		}
		// The same e-mail again is refused beside the field.
		st, _, page = b.post("/settings", "/settings/users", url.Values{"name": {"Nia Again"}, "email": {"NIA@example.com"}, "role": {"member"}, "password": {"long enough"}})
		if st != 422 || !strings.Contains(page, "already exists") {
			t.Fatalf("duplicate e-mail: %d", st)
		}

		// The last admin cannot be demoted, nor deactivate themselves: a message, not a 500.
		path := "/settings/users/" + itoa(admin.ID)
		st, _, page = b.post("/settings", path, url.Values{"role": {"member"}})
		if st != 409 {
			t.Fatalf("demoting the last admin: %d", st)
		}
		mustContain(t, "last admin", page, `id="users-alert"`, "is the last active admin")
		st, _, page = b.post("/settings", path, url.Values{"active": {"false"}})
		if st != 409 || !strings.Contains(page, "You cannot deactivate yourself") {
			t.Fatalf("deactivating oneself: %d", st)
		}

		// Role change, deactivation, reactivation.
		path = "/settings/users/" + itoa(nia.ID)
		if st, loc, _ := b.post("/settings", path, url.Values{"role": {"admin"}}); st != 303 || loc != "/settings#users" {
			t.Fatalf("make admin: %d %s", st, loc)
		}
		if u, _ := db.GetUser(t.Context(), nia.ID); u.Role != crm.RoleAdmin {
			t.Fatalf("role after change: %s", u.Role)
		}
		if st, _, _ := b.post("/settings", path, url.Values{"active": {"false"}}); st != 303 {
			t.Fatalf("deactivate: %d", st)
		}
		_, _, page = b.get("/settings")
		mustContain(t, "after deactivate", page, "Nia Newcomer is deactivated", "Their customers stay theirs", "Reactivate")
		if st, _, page := e.browser().post("/login", "/login", url.Values{"email": {"nia@example.com"}, "password": {"long enough"}}); st != 401 || !strings.Contains(page, "The e-mail or password is incorrect.") {
			t.Fatalf("deactivated sign-in: %d", st)
		}
		if st, _, _ := b.post("/settings", path, url.Values{"active": {"true"}}); st != 303 {
			t.Fatalf("reactivate: %d", st)
		}
		if st, _, _ := e.browser().post("/login", "/login", url.Values{"email": {"nia@example.com"}, "password": {"long enough"}}); st != 303 {
			t.Fatalf("reactivated sign-in: %d", st)
		}

		// A bad value from a row button is shown atop the section.
		st, _, page = b.post("/settings", path, url.Values{"role": {"owner"}})
		if st != 422 || !strings.Contains(page, `id="users-alert"`) || !strings.Contains(page, "Choose admin or member.") {
			t.Fatalf("unknown role: %d", st)
		}
		if st, _, _ := b.post("/settings", "/settings/users/999999", url.Values{"role": {"admin"}}); st != 404 {
			t.Fatalf("unknown user: %d", st)
		}
		if st, _, _ := b.post("/settings", "/settings/users/abc", url.Values{"role": {"admin"}}); st != 404 {
			t.Fatalf("bad id: %d", st)
		}
	})
}

func TestSettingsCatalog(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.user("boss@example.com", crm.RoleAdmin)
		b := e.signedIn("boss@example.com")

		// Products: a bad key is refused beside it with the name kept; then added and renamed.
		st, _, page := b.post("/settings", "/settings/products", url.Values{"key": {"Big Deal"}, "name": {"Acme Big Deal"}})
		if st != 422 {
			t.Fatalf("bad product: %d", st)
		}
		mustContain(t, "bad product", page, `id="p-key-error"`, "lower-case letters", `value="Acme Big Deal"`, `value="Big Deal"`)
		if st, loc, _ := b.post("/settings", "/settings/products", url.Values{"key": {"bigdeal"}, "name": {"Acme Big Deal"}}); st != 303 || loc != "/settings#products" {
			t.Fatalf("add product: %d %s", st, loc)
		}
		ps, _ := db.ListProducts(t.Context())
		i := slices.IndexFunc(ps, func(p crm.Product) bool { return p.Key == "bigdeal" })
		if i < 0 {
			t.Fatalf("product not added: %+v", ps)
		}
		path := "/settings/products/" + itoa(ps[i].ID)
		st, _, page = b.post("/settings", path, url.Values{"name": {"  "}})
		if st != 422 || !strings.Contains(page, `id="p-`+itoa(ps[i].ID)+`-name-error"`) {
			t.Fatalf("empty product name: %d", st)
		}
		if st, _, _ := b.post("/settings", path, url.Values{"name": {"Acme Bigger Deal"}}); st != 303 {
			t.Fatalf("rename product: %d", st)
		}
		_, _, page = b.get("/settings")
		mustContain(t, "after rename", page, "Acme Bigger Deal", "Renamed the product bigdeal")

		// Custom fields: a key with spaces is refused, the label kept; a select with comma-separated options.
		st, _, page = b.post("/settings", "/settings/fields", url.Values{"key": {"contract tier"}, "label": {"Contract tier"}, "type": {"select"}, "options": {"Gold, Silver"}})
		if st != 422 {
			t.Fatalf("bad field: %d", st)
		}
		mustContain(t, "bad field", page, `id="f-key-error"`, `value="Contract tier"`, `<option value="select" selected>`, "Gold, Silver</textarea>")
		st, _, page = b.post("/settings", "/settings/fields", url.Values{"key": {"tier"}, "label": {"Tier"}, "type": {"select"}, "options": {""}})
		if st != 422 || !strings.Contains(page, `id="f-options-error"`) {
			t.Fatalf("select without options: %d", st)
		}
		// options on a field that has none are refused beside them, as typed
		st, _, page = b.post("/settings", "/settings/fields", url.Values{"key": {"tier"}, "label": {"Tier"}, "type": {"text"}, "options": {"Gold, Silver"}})
		if st != 422 {
			t.Fatalf("text field with options: %d", st)
		}
		mustContain(t, "text field with options", page, `id="f-options-error"`, "Options are for select and multiselect fields", "Gold, Silver</textarea>")
		if st, loc, _ := b.post("/settings", "/settings/fields", url.Values{"key": {"contract_tier"}, "label": {"Contract tier"}, "type": {"select"}, "options": {"Gold, Silver, Bronze"}}); st != 303 || loc != "/settings#fields" {
			t.Fatalf("add field: %d %s", st, loc)
		}
		fs, _ := db.ListCustomFields(t.Context(), true)
		i = slices.IndexFunc(fs, func(f crm.CustomField) bool { return f.Key == "contract_tier" })
		if i < 0 || !slices.Equal(fs[i].Options, []string{"Gold", "Silver", "Bronze"}) {
			t.Fatalf("field not added as typed: %+v", fs)
		}
		id := fs[i].ID
		path = "/settings/fields/" + itoa(id)

		// Edit: options one per line (commas kept inside a line).
		if st, _, _ := b.post("/settings", path, url.Values{"label": {"Contract level"}, "options": {"Gold\r\nSilver, plus\r\n\r\nBronze"}}); st != 303 {
			t.Fatalf("edit field: %d", st)
		}
		f := field(t, db, id)
		if f.Label != "Contract level" || !slices.Equal(f.Options, []string{"Gold", "Silver, plus", "Bronze"}) {
			t.Fatalf("edited field %+v", f)
		}
		st, _, page = b.post("/settings", path, url.Values{"label": {""}, "options": {"Gold"}})
		if st != 422 || !strings.Contains(page, `id="f-`+itoa(id)+`-label-error"`) || !strings.Contains(page, `<details class="popover popover-right row-edit" open>`) {
			t.Fatalf("empty label: %d", st)
		}

		// Retire and bring back: the definition stays.
		if st, _, _ := b.post("/settings", path, url.Values{"retired": {"true"}}); st != 303 {
			t.Fatalf("retire: %d", st)
		}
		if f := field(t, db, id); f.RetiredAt == nil {
			t.Fatal("not retired")
		}
		_, _, page = b.get("/settings")
		mustContain(t, "after retire", page, "its values are kept", "Retired", "Bring back")
		if st, _, _ := b.post("/settings", path, url.Values{"retired": {"false"}}); st != 303 {
			t.Fatalf("bring back: %d", st)
		}
		if f := field(t, db, id); f.RetiredAt != nil {
			t.Fatal("still retired")
		}
		if st, _, _ := b.post("/settings", "/settings/fields/999999", url.Values{"label": {"X"}}); st != 404 {
			t.Fatalf("unknown field: %d", st)
		}
	})
}

func TestSettingsMembersReadOnly(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin, _ := e.user("boss@example.com", crm.RoleAdmin)
		e.user("mia@example.com", crm.RoleMember)
		b := e.signedIn("mia@example.com")

		st, _, page := b.get("/settings")
		if st != 200 {
			t.Fatalf("member settings: %d", st)
		}
		mustContain(t, "member page", page, "Only admins can add users", "Only admins can add or rename products", "Only admins can add, change or retire custom fields",
			`action="/settings/tokens"`, "Name of boss@example.com")
		for _, form := range []string{`action="/settings/users`, `action="/settings/products`, `action="/settings/fields`} {
			if strings.Contains(page, form) {
				t.Fatalf("a member sees the form %s", form)
			}
		}

		// Posting anyway: 403 and the reason on the page; nothing changed.
		for _, c := range []struct{ path, section, msg string }{
			{"/settings/users", "users", "Only an admin can add users."},
			{"/settings/users/" + itoa(admin.ID), "users", "Only an admin can change users."},
			{"/settings/products", "products", "Only an admin can add products."},
			{"/settings/fields", "fields", "Only an admin can define custom fields."},
		} {
			st, _, page := b.post("/settings", c.path, url.Values{"name": {"X"}, "email": {"x@example.com"}, "role": {"admin"}, "password": {"long enough"},
				"key": {"x"}, "label": {"X"}, "type": {"text"}, "active": {"false"}})
			if st != 403 {
				t.Fatalf("member POST %s: %d", c.path, st)
			}
			mustContain(t, c.path, page, `id="`+c.section+`-alert"`, c.msg)
		}
		if u, _ := db.GetUser(t.Context(), admin.ID); !u.Active || u.Role != crm.RoleAdmin {
			t.Fatalf("the admin was changed by a member: %+v", u)
		}
	})
}

func field(t *testing.T, db *store.DB, id int64) crm.CustomField {
	t.Helper()
	fs, err := db.ListCustomFields(t.Context(), true)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.ID == id {
			return f
		}
	}
	t.Fatalf("no field %d", id)
	return crm.CustomField{}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
