package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// del sends a DELETE and returns its status (a 204 has no body).
func (e *env) del(path, token string) int {
	e.t.Helper()
	req, _ := http.NewRequest("DELETE", e.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestViewsAPI: the routes of SPEC section 10, their shape, and their
// refusals: another's personal view 404, a member changing another's shared
// view 403, a bad or taken name 400 beside the field, a body breaking the
// schema 400 too; the routes are in the OpenAPI document.
func TestViewsAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		_, admin := e.user("boss@example.com", crm.RoleAdmin)
		ann, annTok := e.user("ann@example.com", crm.RoleMember)
		_, bobTok := e.user("bob@example.com", crm.RoleMember)
		for i, c := range []string{"DE", "DE", "FR"} {
			if st, body := e.api("POST", "/api/v1/customers", admin, fmt.Sprintf(`{"full_name":"Person %d","country":"%s","tags":["vip"]}`, i, c)); st != http.StatusCreated {
				t.Fatalf("create customer: %d %v", st, body)
			}
		}

		st, v := e.api("POST", "/api/v1/views", annTok, `{"name":"Germany","shared":true,"query":"country=de&limit=25&cursor=x","columns":["name","country"],"pinned":true}`)
		if st != http.StatusCreated {
			t.Fatalf("create: %d %v", st, v)
		}
		owner, _ := v["owner"].(map[string]any)
		if v["name"] != "Germany" || v["shared"] != true || v["pinned"] != true || v["query"] != "country=DE" ||
			fmt.Sprint(v["columns"]) != "[name country]" || owner["name"] != ann.Name || owner["id"] != float64(ann.ID) {
			t.Fatalf("created view %v", v)
		}
		shared := fmt.Sprint(v["id"])
		st, v = e.api("POST", "/api/v1/views", annTok, `{"name":"Mine","query":"owner=me"}`)
		if st != http.StatusCreated || v["shared"] != false {
			t.Fatalf("create personal: %d %v", st, v)
		}
		personal := fmt.Sprint(v["id"])

		// the list with live counts (the sidebar's)
		st, list := e.api("GET", "/api/v1/views?pinned=true&counts=true", annTok, "")
		items, _ := list["items"].([]any)
		if st != 200 || len(items) != 1 {
			t.Fatalf("pinned list: %d %v", st, list)
		}
		if it := items[0].(map[string]any); it["count"] != float64(2) || it["count_exact"] != true {
			t.Fatalf("count of Germany: %v", it)
		}

		// personal: 404 for others, admins included
		for _, tok := range []string{bobTok, admin} {
			if st, body := e.api("GET", "/api/v1/views/"+personal, tok, ""); st != 404 || errCode(body) != "not_found" {
				t.Fatalf("another's personal view: %d %v", st, body)
			}
			if st, _ := e.api("PATCH", "/api/v1/views/"+personal, tok, `{"name":"x"}`); st != 404 {
				t.Fatalf("patch another's personal view: %d", st)
			}
			if st := e.del("/api/v1/views/"+personal, tok); st != 404 {
				t.Fatalf("delete another's personal view: %d", st)
			}
		}
		if _, list := e.api("GET", "/api/v1/views", bobTok, ""); len(list["items"].([]any)) != 1 {
			t.Fatalf("bob lists %v", list)
		}
		// shared: a member other than the author gets 403, but pins it for himself
		if st, body := e.api("PATCH", "/api/v1/views/"+shared, bobTok, `{"query":"country=FR"}`); st != 403 || errCode(body) != "forbidden" {
			t.Fatalf("member patches another's shared view: %d %v", st, body)
		}
		if st := e.del("/api/v1/views/"+shared, bobTok); st != 403 {
			t.Fatalf("member deletes another's shared view: %d", st)
		}
		if st, body := e.api("PATCH", "/api/v1/views/"+shared, bobTok, `{"pinned":true,"default":true}`); st != 200 || body["pinned"] != true || body["default"] != true {
			t.Fatalf("member pins a shared view: %d %v", st, body)
		}
		if _, body := e.api("GET", "/api/v1/views/"+shared, annTok, ""); body["default"] != false || body["query"] != "country=DE" {
			t.Fatalf("bob's default shows for ann, or his refused change landed: %v", body)
		}
		// an admin may change it
		if st, body := e.api("PATCH", "/api/v1/views/"+shared, admin, `{"name":"Deutschland","query":"country=DE&tag=vip&sort=name"}`); st != 200 || body["name"] != "Deutschland" || body["query"] != "country=DE&sort=name&tag=vip" {
			t.Fatalf("admin patch: %d %v", st, body)
		}
		// bad input, beside the field
		for _, c := range []struct{ body, field string }{
			{`{"name":""}`, "name"},
			{`{"name":"  "}`, "name"},
			{`{"name":"mine"}`, "name"},
			{`{"name":"Other","query":"segment=999"}`, "query"},
			{`{"name":"Cols","columns":["Not A Key!"]}`, "columns"},
		} {
			st, body := e.api("POST", "/api/v1/views", annTok, c.body)
			errb, _ := body["error"].(map[string]any)
			if st != 400 || errb["field"] != c.field {
				t.Fatalf("POST %s: %d %v", c.body, st, body)
			}
		}
		// (the API answers every invalid input 400 with the field, schema checks included)
		if st, body := e.api("POST", "/api/v1/views", annTok, `{"name":"`+strings.Repeat("n", 201)+`"}`); st != 400 || body["error"].(map[string]any)["field"] != "name" {
			t.Fatalf("a name longer than the schema allows: %d %v", st, body)
		}
		if st, _ := e.api("GET", "/api/v1/views/999999", annTok, ""); st != 404 {
			t.Fatalf("no such view: %d", st)
		}
		// the author deletes
		if st := e.del("/api/v1/views/"+personal, annTok); st != 204 {
			t.Fatalf("delete: %d", st)
		}
		if st, _ := e.api("GET", "/api/v1/views/"+personal, annTok, ""); st != 404 {
			t.Fatalf("deleted view: %d", st)
		}
		_, doc := e.api("GET", "/api/openapi.json", "", "")
		paths, _ := doc["paths"].(map[string]any)
		if paths["/api/v1/views"] == nil || paths["/api/v1/views/{id}"] == nil {
			t.Fatal("the views routes are not in the OpenAPI document")
		}
		ops := paths["/api/v1/views/{id}"].(map[string]any)
		for _, m := range []string{"get", "patch", "delete"} {
			if ops[m] == nil {
				t.Fatalf("%s /api/v1/views/{id} missing from the document", m)
			}
		}
	})
}
