package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// TestOwnershipMatrix: member and admin x every action x every state, through the API.
func TestOwnershipMatrix(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin, adminTok := e.user("boss@example.com", crm.RoleAdmin)
		member, memberTok := e.user("mia@example.com", crm.RoleMember)
		other, _ := e.user("noah@example.com", crm.RoleMember)
		who := map[string]struct {
			u   *crm.User
			tok string
		}{"admin": {admin, adminTok}, "member": {member, memberTok}}

		type outcome struct {
			status int
			owner  string // "", "caller", "other", "target" after the call
		}
		// state -> caller -> action -> expected
		want := map[string]map[string]map[string]outcome{
			"unclaimed": {
				"member": {"claim": {200, "caller"}, "unclaim": {409, ""}, "release": {403, ""}, "reassign": {403, ""}, "archive": {200, ""}, "restore": {409, ""}},
				"admin":  {"claim": {200, "caller"}, "unclaim": {409, ""}, "release": {200, ""}, "reassign": {200, "target"}, "archive": {200, ""}, "restore": {409, ""}},
			},
			"mine": {
				"member": {"claim": {409, "caller"}, "unclaim": {200, ""}, "release": {403, "caller"}, "reassign": {403, "caller"}, "archive": {200, "caller"}, "restore": {409, "caller"}},
				"admin":  {"claim": {409, "caller"}, "unclaim": {200, ""}, "release": {200, ""}, "reassign": {200, "target"}, "archive": {200, "caller"}, "restore": {409, "caller"}},
			},
			"others": {
				"member": {"claim": {409, "other"}, "unclaim": {403, "other"}, "release": {403, "other"}, "reassign": {403, "other"}, "archive": {403, "other"}, "restore": {403, "other"}},
				"admin":  {"claim": {409, "other"}, "unclaim": {403, "other"}, "release": {200, ""}, "reassign": {200, "target"}, "archive": {200, "other"}, "restore": {409, "other"}},
			},
		}
		target, _ := e.user("target@example.com", crm.RoleMember)
		for state, callers := range want {
			for caller, actions := range callers {
				c := who[caller]
				for action, exp := range actions {
					name := fmt.Sprintf("%s/%s/%s", state, caller, action)
					var owner *int64
					switch state {
					case "mine":
						owner = &c.u.ID
					case "others":
						owner = &other.ID
					}
					id, err := db.CreateCustomer(t.Context(), crm.NewCustomer{FullName: name, OwnerID: owner, CreatedAt: e.acc.Now()})
					if err != nil {
						t.Fatal(err)
					}
					body := ""
					if action == "reassign" {
						body = fmt.Sprintf(`{"user_id":%d}`, target.ID)
					}
					st, res := e.api("POST", fmt.Sprintf("/api/v1/customers/%d/%s", id, action), c.tok, body)
					if st != exp.status {
						t.Errorf("%s: %d, want %d (%v)", name, st, exp.status, res)
						continue
					}
					got, _ := db.GetCustomer(t.Context(), id)
					gotOwner := ""
					if got.Owner != nil {
						switch got.Owner.ID {
						case c.u.ID:
							gotOwner = "caller"
						case other.ID:
							gotOwner = "other"
						case target.ID:
							gotOwner = "target"
						}
					}
					if gotOwner != exp.owner {
						t.Errorf("%s: owner %q afterwards, want %q", name, gotOwner, exp.owner)
					}
					if st != 200 {
						msg := res["error"].(map[string]any)["message"].(string)
						if state == "others" && action == "claim" && !strings.Contains(msg, other.Name) {
							t.Errorf("%s: refusal %q does not name the owner", name, msg)
						}
						continue
					}
					if action == "archive" && got.ArchivedAt == nil {
						t.Errorf("%s: not archived", name)
					}
					// every owner change is in the activity log, with old and new owner
					_, act := e.api("GET", fmt.Sprintf("/api/v1/customers/%d/activity", id), c.tok, "")
					items := act["items"].([]any)
					wantEntries := 1
					if state == "unclaimed" && action == "release" {
						wantEntries = 0 // nothing changed, nothing logged
					}
					if len(items) != wantEntries {
						t.Errorf("%s: %d activity entries, want %d: %v", name, len(items), wantEntries, act)
					}
					if len(items) == 0 {
						continue
					}
					text := items[0].(map[string]any)["text"].(string)
					if action == "reassign" && !strings.Contains(text, target.Name) {
						t.Errorf("%s: activity %q", name, text)
					}
				}
			}
		}
		// restore of an archived customer, and the refusal for a merged one
		id, _ := db.CreateCustomer(t.Context(), crm.NewCustomer{FullName: "Archived", CreatedAt: e.acc.Now()})
		if st, _ := e.api("POST", fmt.Sprintf("/api/v1/customers/%d/archive", id), memberTok, ""); st != 200 {
			t.Fatalf("archive %d", st)
		}
		if st, _ := e.api("POST", fmt.Sprintf("/api/v1/customers/%d/restore", id), memberTok, ""); st != 200 {
			t.Fatalf("restore %d", st)
		}
		into, _ := db.CreateCustomer(t.Context(), crm.NewCustomer{FullName: "Primary", CreatedAt: e.acc.Now()})
		now := e.acc.Now()
		if err := db.SetArchived(t.Context(), id, &now, &into, now); err != nil {
			t.Fatal(err)
		}
		if st, res := e.api("POST", fmt.Sprintf("/api/v1/customers/%d/restore", id), adminTok, ""); st != 409 || !strings.Contains(fmt.Sprint(res), "merged") {
			t.Fatalf("restore merged: %d %v", st, res)
		}
		// reassign to a deactivated user is refused
		off := false
		if _, err := db.UpdateUser(t.Context(), target.ID, crm.UserPatch{Active: &off}, now); err != nil {
			t.Fatal(err)
		}
		if st, res := e.api("POST", fmt.Sprintf("/api/v1/customers/%d/reassign", into), adminTok, fmt.Sprintf(`{"user_id":%d}`, target.ID)); st != 400 {
			t.Fatalf("reassign to deactivated: %d %v", st, res)
		}
	})
}

// TestClaimRace: of 50 simultaneous claims exactly one wins; the rest are told who did.
func TestClaimRace(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		var toks []string
		for i := range 50 {
			_, tok := e.user(fmt.Sprintf("u%02d@example.com", i), crm.RoleMember)
			toks = append(toks, tok)
		}
		id, _ := db.CreateCustomer(t.Context(), crm.NewCustomer{FullName: "Contested", CreatedAt: e.acc.Now()})
		var wg sync.WaitGroup
		results := make([]int, 50)
		msgs := make([]string, 50)
		start := make(chan struct{})
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				st, body := e.api("POST", fmt.Sprintf("/api/v1/customers/%d/claim", id), toks[i], "")
				results[i] = st
				msgs[i] = fmt.Sprint(body)
			}()
		}
		close(start)
		wg.Wait()
		wins := 0
		for i, st := range results {
			switch st {
			case http.StatusOK:
				wins++
			case http.StatusConflict:
				if !strings.Contains(msgs[i], "Name of u") {
					t.Errorf("loser not told who won: %s", msgs[i])
				}
			default:
				t.Errorf("claim answered %d: %s", st, msgs[i])
			}
		}
		c, _ := db.GetCustomer(t.Context(), id)
		act, _ := db.ListActivity(t.Context(), id, 0, 100)
		if wins != 1 || c.Owner == nil || len(act) != 1 {
			t.Fatalf("%d winners, owner %v, %d activity entries", wins, c.Owner, len(act))
		}
	})
}

// TestEditRefusals: bad values are refused with the field named and the old value kept;
// members get 403 from admin-only endpoints.
func TestEditRefusals(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		admin, adminTok := e.user("boss@example.com", crm.RoleAdmin)
		_, tok := e.user("mia@example.com", crm.RoleMember)
		if st, b := e.api("POST", "/api/v1/custom-fields", adminTok, `{"key":"employees","label":"Employees","type":"number"}`); st != 201 {
			t.Fatalf("field: %d %v", st, b)
		}
		_, c := e.api("POST", "/api/v1/customers", tok, `{"full_name":"Kim","country":"DE","contact":{"channel":"phone","value":"030 1234567"},"custom":{"employees":12}}`)
		id := int64(c["id"].(float64))
		phone := int64(c["contacts"].([]any)[0].(map[string]any)["id"].(float64))
		if c["contacts"].([]any)[0].(map[string]any)["value"] != "+49301234567" {
			t.Fatalf("national number not normalised with the customer's country: %v", c["contacts"])
		}
		for body, field := range map[string]string{
			`{"custom":{"employees":"a dozen"}}`: "custom.employees",
			`{"country":"Atlantis"}`:             "country",
			`{"full_name":"  "}`:                 "full_name",
		} {
			if st, b := e.api("PATCH", fmt.Sprintf("/api/v1/customers/%d", id), tok, body); st != 400 || b["error"].(map[string]any)["field"] != field {
				t.Errorf("%s: %d %v", body, st, b)
			}
		}
		if st, b := e.api("PATCH", fmt.Sprintf("/api/v1/contacts/%d", phone), tok, `{"value":"12"}`); st != 400 || !strings.Contains(fmt.Sprint(b), "not a phone number") {
			t.Errorf("bad phone: %d %v", st, b)
		}
		if st, b := e.api("POST", fmt.Sprintf("/api/v1/customers/%d/contacts", id), tok, `{"channel":"linkedin","value":"https://example.com/in/kim"}`); st != 400 || !strings.Contains(fmt.Sprint(b), "LinkedIn") {
			t.Errorf("bad LinkedIn URL: %d %v", st, b)
		}
		_, after := e.api("GET", fmt.Sprintf("/api/v1/customers/%d", id), tok, "")
		if after["full_name"] != "Kim" || after["country"] != "DE" || after["custom"].(map[string]any)["employees"] != 12.0 ||
			after["contacts"].([]any)[0].(map[string]any)["value"] != "+49301234567" {
			t.Fatalf("a refused edit changed the customer: %v", after)
		}
		for _, call := range []struct{ method, path, body string }{
			{"PATCH", fmt.Sprintf("/api/v1/users/%d", admin.ID), `{"role":"member"}`},
			{"POST", "/api/v1/custom-fields", `{"key":"x","label":"X","type":"text"}`},
			{"POST", "/api/v1/products", `{"key":"x","name":"X"}`},
			{"POST", "/api/v1/users", `{"email":"n@example.com","name":"N","role":"member","password":"long enough"}`},
		} {
			if st, b := e.api(call.method, call.path, tok, call.body); st != 403 {
				t.Errorf("member %s %s: %d %v", call.method, call.path, st, b)
			}
		}
	})
}
