package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// The ownership actions take no body: {} (what many clients send), no body
// at all and an empty body sent as JSON all answer 200; the OpenAPI document
// asks no body of them. Reassign takes owner_id (documented) or user_id.
func TestOwnershipActionsTakeNoBody(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		_, adminTok := e.user("boss@example.com", crm.RoleAdmin)
		other, _ := e.user("other@example.com", crm.RoleMember)
		id, err := db.CreateCustomer(t.Context(), crm.NewCustomer{FullName: "Bodiless", CreatedAt: e.acc.Now()})
		if err != nil {
			t.Fatal(err)
		}
		send := func(action, body string, jsonType bool) (int, string) {
			req := e.req("POST", fmt.Sprintf("/api/v1/customers/%d/%s", id, action), nil)
			if body != "" || jsonType {
				req = e.req("POST", fmt.Sprintf("/api/v1/customers/%d/%s", id, action), strings.NewReader(body))
			}
			req.Header.Set("Authorization", "Bearer "+adminTok)
			if jsonType {
				req.Header.Set("Content-Type", "application/json")
			}
			st, _, b := e.do(req)
			return st, b
		}
		kinds := []struct {
			name, body string
			json       bool
		}{{"{}", "{}", true}, {"no body", "", false}, {"empty JSON body", "", true}}
		for _, k := range kinds {
			for _, action := range []string{"claim", "unclaim", "claim", "release", "archive", "restore"} {
				if st, b := send(action, k.body, k.json); st != http.StatusOK {
					t.Fatalf("%s with %s: %d %s", action, k.name, st, b)
				}
			}
		}
		for _, body := range []string{`{"owner_id": %d}`, `{"user_id": %d}`} {
			if _, b := send("release", "", false); b == "" {
				t.Fatal("release answered nothing")
			}
			st, b := send("reassign", fmt.Sprintf(body, other.ID), true)
			if st != http.StatusOK || !strings.Contains(b, fmt.Sprintf(`"owner":{"id":%d`, other.ID)) {
				t.Fatalf("reassign %s: %d %s", body, st, b)
			}
		}
		if st, b := send("reassign", "{}", true); st != http.StatusBadRequest && st != http.StatusUnprocessableEntity {
			t.Fatalf("reassign without an owner: %d %s", st, b)
		} else if !strings.Contains(b, "owner_id") {
			t.Fatalf("reassign without an owner does not name owner_id: %s", b)
		}

		res, err := http.Get(e.srv.URL + "/api/openapi.json")
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var doc struct {
			Paths map[string]map[string]struct {
				RequestBody *struct {
					Required bool `json:"required"`
					Content  map[string]struct {
						Schema struct {
							Ref string `json:"$ref"`
						} `json:"schema"`
					} `json:"content"`
				} `json:"requestBody"`
			} `json:"paths"`
			Components struct {
				Schemas map[string]struct {
					Required   []string                   `json:"required"`
					Properties map[string]json.RawMessage `json:"properties"`
				} `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		for _, action := range []string{"claim", "unclaim", "release", "archive", "restore"} {
			op := doc.Paths["/api/v1/customers/{id}/"+action]["post"]
			if op.RequestBody != nil {
				t.Errorf("%s documents a request body: %+v", action, *op.RequestBody)
			}
		}
		rb := doc.Paths["/api/v1/customers/{id}/reassign"]["post"].RequestBody
		if rb == nil {
			t.Fatal("reassign documents no body")
		}
		ref := rb.Content["application/json"].Schema.Ref
		s := doc.Components.Schemas[ref[strings.LastIndex(ref, "/")+1:]]
		if _, ok := s.Properties["owner_id"]; !ok || fmt.Sprint(s.Required) != "[owner_id]" {
			t.Errorf("reassign's body: %+v", s)
		}
		if _, ok := s.Properties["user_id"]; ok {
			t.Errorf("reassign documents user_id besides owner_id: %+v", s)
		}
	})
}
