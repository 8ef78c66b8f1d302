package server_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// Issue 17 item 6: your own name and password; an admin's reset with a
// forced change at the next sign-in; a deactivated user's sessions end.

// signInWith signs a new browser in with a password; it fails the test unless that works.
func (e *env) signInWith(email, password string) *browser {
	e.t.Helper()
	b := e.browser()
	if st, _, _ := b.post("/login", "/login", url.Values{"email": {email}, "password": {password}}); st != 303 {
		e.t.Fatalf("sign-in of %s with %q: %d", email, password, st)
	}
	return b
}

// signedOut reports whether a browser's session has ended (a page sends it to sign in).
func signedOut(b *browser) bool {
	b.t.Helper()
	st, loc, _ := b.get("/settings")
	return st == 303 && strings.HasPrefix(loc, "/login")
}

func TestChangeOwnNameAndPassword(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		mia, tok := e.user("mia@example.com", crm.RoleMember)
		b := e.signedIn("mia@example.com")
		other := e.signedIn("mia@example.com") // another session of hers

		// name
		if st, _, page := b.post("/settings", "/settings/account", url.Values{"name": {"  "}}); st != 422 || !strings.Contains(page, `id="a-name-error"`) {
			t.Fatalf("empty name: %d", st)
		}
		if st, loc, _ := b.post("/settings", "/settings/account", url.Values{"name": {"Mia Wong"}}); st != 303 || loc != "/settings#account" {
			t.Fatalf("rename: %d %s", st, loc)
		}
		if u, _ := db.GetUser(t.Context(), mia.ID); u.Name != "Mia Wong" {
			t.Fatalf("name after rename: %q", u.Name)
		}

		// password: each refusal beside its field, nothing changed
		for _, c := range []struct {
			form  url.Values
			field string
			msg   string
		}{
			{url.Values{"current": {"wrong one"}, "password": {"new password 1"}, "confirm": {"new password 1"}}, "a-current", "not your current password"},
			{url.Values{"current": {""}, "password": {"new password 1"}, "confirm": {"new password 1"}}, "a-current", "Enter your current password"},
			{url.Values{"current": {"correct horse"}, "password": {"short"}, "confirm": {"short"}}, "a-password", "at least 8 characters"},
			{url.Values{"current": {"correct horse"}, "password": {"new password 1"}, "confirm": {"new password 2"}}, "a-confirm", "not the same"},
			{url.Values{"current": {"correct horse"}, "password": {"correct horse"}, "confirm": {"correct horse"}}, "a-password", "choose a new one"},
		} {
			st, _, page := b.post("/settings", "/settings/password", c.form)
			if st != 422 {
				t.Fatalf("%v: %d", c.form, st)
			}
			mustContain(t, c.msg, page, `id="`+c.field+`-error"`, c.msg)
			if strings.Contains(page, `value="new password 1"`) || strings.Contains(page, `value="correct horse"`) {
				t.Fatal("a password was shown again")
			}
		}
		e.signInWith("mia@example.com", "correct horse").get("/") // still the old password

		st, loc, _ := b.post("/settings", "/settings/password", url.Values{"current": {"correct horse"}, "password": {"new password 1"}, "confirm": {"new password 1"}})
		if st != 303 || loc != "/settings#account" {
			t.Fatalf("change: %d %s", st, loc)
		}
		st, _, page := b.get("/settings") // the session that changed it stays
		if st != 200 {
			t.Fatalf("the session that changed the password: %d", st)
		}
		mustContain(t, "after change", page, "Your password is changed")
		if !signedOut(other) {
			t.Fatal("her other session survived the password change")
		}
		if st, _, _ := e.browser().post("/login", "/login", url.Values{"email": {"mia@example.com"}, "password": {"correct horse"}}); st != 401 {
			t.Fatalf("the old password still signs in: %d", st)
		}
		e.signInWith("mia@example.com", "new password 1")
		if st, _ := e.api("GET", "/api/v1/me", tok, ""); st != 200 {
			t.Fatalf("API token after a password change: %d", st)
		}
	})
}

func TestAdminResetsPasswordAndUserMustChangeIt(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		boss, _ := e.user("boss@example.com", crm.RoleAdmin)
		nia, niaTok := e.user("nia@example.com", crm.RoleMember)
		admin := e.signedIn("boss@example.com")
		niaOld := e.signedIn("nia@example.com")

		// a member may not reset; an admin not their own (Your account is for that)
		if st, _, _ := niaOld.post("/settings", "/settings/users/"+itoa(boss.ID)+"/reset-password", url.Values{}); st != 403 {
			t.Fatalf("member resetting: %d", st)
		}
		if st, _, page := admin.post("/settings", "/settings/users/"+itoa(boss.ID)+"/reset-password", url.Values{}); st != 409 || !strings.Contains(page, "Your account") {
			t.Fatalf("resetting oneself: %d", st)
		}

		st, loc, _ := admin.post("/settings", "/settings/users/"+itoa(nia.ID)+"/reset-password", url.Values{})
		if st != 303 || loc != "/settings#users" {
			t.Fatalf("reset: %d %s", st, loc)
		}
		_, _, page := admin.get("/settings")
		m := regexp.MustCompile(`id="reset-password" class="mono" value="([a-z0-9-]+)"`).FindStringSubmatch(page)
		if m == nil || !strings.Contains(page, "Temporary password for Name of nia@example.com (nia@example.com)") {
			t.Fatal("the temporary password is not shown to the admin")
		}
		temp := m[1]
		if _, _, again := admin.get("/settings"); strings.Contains(again, temp) {
			t.Fatal("the temporary password was shown twice")
		}
		if !signedOut(niaOld) {
			t.Fatal("her session survived the reset")
		}
		if st, _ := e.api("GET", "/api/v1/me", niaTok, ""); st != 200 {
			t.Fatalf("her API token after a reset: %d", st)
		}
		if st, _, _ := e.browser().post("/login", "/login", url.Values{"email": {"nia@example.com"}, "password": {"correct horse"}}); st != 401 {
			t.Fatalf("the old password after a reset: %d", st)
		}

		// the temporary password opens the change page and nothing else
		b := e.signInWith("nia@example.com", temp)
		for _, p := range []string{"/crm/customers", "/settings", "/crm/segments"} {
			if st, loc, _ := b.get(p); st != 303 || loc != "/settings/password" {
				t.Fatalf("%s with a temporary password: %d %s", p, st, loc)
			}
		}
		req, _ := http.NewRequest("GET", e.srv.URL+"/api/v1/me", nil)
		res, _ := b.c.Do(req)
		res.Body.Close()
		if res.StatusCode != 401 {
			t.Fatalf("API through that session: %d", res.StatusCode)
		}
		st, _, page = b.get("/settings/password")
		mustContain(t, "change page", page, "Choose your password", `name="password"`, `name="confirm"`)
		if st != 200 || strings.Contains(page, `name="current"`) {
			t.Fatalf("change page: %d", st)
		}
		if st, _, page := b.post("/settings/password", "/settings/password", url.Values{"password": {temp}, "confirm": {temp}}); st != 422 || !strings.Contains(page, "not the temporary one") {
			t.Fatalf("keeping the temporary password: %d", st)
		}
		if st, _, page := b.post("/settings/password", "/settings/password", url.Values{"password": {"her own pass"}, "confirm": {"her own pas"}}); st != 422 || !strings.Contains(page, `id="confirm-error"`) {
			t.Fatalf("mismatch: %d", st)
		}
		if st, loc, _ := b.post("/settings/password", "/settings/password", url.Values{"password": {"her own pass"}, "confirm": {"her own pass"}}); st != 303 || loc != "/crm/customers" {
			t.Fatalf("forced change: %d %s", st, loc)
		}
		if st, _, _ := b.get("/crm/customers"); st != 200 {
			t.Fatalf("after the change: %d", st)
		}
		if st, loc, _ := b.get("/settings/password"); st != 303 || loc != "/settings#password" {
			t.Fatalf("change page afterwards: %d %s", st, loc)
		}
		if st, _, _ := e.browser().post("/login", "/login", url.Values{"email": {"nia@example.com"}, "password": {temp}}); st != 401 {
			t.Fatalf("the temporary password after the change: %d", st)
		}
		e.signInWith("nia@example.com", "her own pass")

		// API: the same reset for admins
		_, bossTok := e.user("boss2@example.com", crm.RoleAdmin)
		st, body := e.api("POST", "/api/v1/users/"+itoa(nia.ID)+"/reset-password", niaTok, "")
		if st != 403 {
			t.Fatalf("API reset by a member: %d %v", st, body)
		}
		st, body = e.api("POST", "/api/v1/users/"+itoa(nia.ID)+"/reset-password", bossTok, "")
		if tp, _ := body["temporary_password"].(string); st != 200 || len(tp) < 15 {
			t.Fatalf("API reset: %d %v", st, body)
		}
		if u, _ := body["user"].(map[string]any); u["must_change_password"] != true {
			t.Fatalf("API reset user: %v", body)
		}
		st, body = e.api("PATCH", "/api/v1/me", niaTok, `{"name":"Nia N."}`)
		if st != 200 || body["name"] != "Nia N." {
			t.Fatalf("API rename: %d %v", st, body)
		}
	})
}

func TestDeactivationEndsSessionsAndTokens(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.user("boss@example.com", crm.RoleAdmin)
		kim, kimTok := e.user("kim@example.com", crm.RoleMember)
		admin := e.signedIn("boss@example.com")
		kimSession := e.signedIn("kim@example.com")
		if st, _, _ := admin.post("/settings", "/settings/users/"+itoa(kim.ID), url.Values{"active": {"false"}}); st != 303 {
			t.Fatalf("deactivate: %d", st)
		}
		if !signedOut(kimSession) {
			t.Fatal("a deactivated user's session goes on")
		}
		if st, _ := e.api("GET", "/api/v1/me", kimTok, ""); st != 401 {
			t.Fatalf("a deactivated user's token: %d", st)
		}
		if st, _, _ := e.browser().post("/login", "/login", url.Values{"email": {"kim@example.com"}, "password": {"correct horse"}}); st != 401 {
			t.Fatalf("a deactivated user signs in: %d", st)
		}
		_, _, page := admin.get("/settings")
		if strings.Contains(page, `action="/settings/users/`+itoa(kim.ID)+`/reset-password"`) {
			t.Fatal("a reset offered for a deactivated user")
		}
	})
}

func TestCustomFieldKeyFromLabel(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.user("boss@example.com", crm.RoleAdmin)
		b := e.signedIn("boss@example.com")
		// no key typed (no JavaScript): the label's
		if st, _, _ := b.post("/settings", "/settings/fields", url.Values{"label": {"Contract Tier (2026)"}, "type": {"text"}}); st != 303 {
			t.Fatalf("add: %d", st)
		}
		fields, _ := db.ListCustomFields(t.Context(), true)
		if len(fields) != 1 || fields[0].Key != "contract_tier_2026" {
			t.Fatalf("fields %+v", fields)
		}
		// the same label again: the uniqueness error beside the key, what was typed kept
		st, _, page := b.post("/settings", "/settings/fields", url.Values{"label": {"Contract tier 2026"}, "key": {""}, "type": {"text"}})
		if st != 422 {
			t.Fatalf("duplicate: %d", st)
		}
		mustContain(t, "duplicate key", page, `id="f-key-error"`, "already exists", `value="Contract tier 2026"`, `value="contract_tier_2026"`)
	})
}
