package server_test

import (
	"fmt"
	"testing"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// TestUndoBulkRouteAndRoles: every bulk action, inline or a background job,
// has a job id with "undo": {"until", "available"}; POST
// /api/v1/jobs/{id}/undo answers 202 with the undo's job to the user who ran
// it or an admin, 404 to another member, 401 to nobody, and 409 the second
// time or for a job that is no bulk action. The undo puts the customers back.
func TestUndoBulkRouteAndRoles(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		mia, miaTok := e.user("mia@example.com", crm.RoleMember)
		_, olgaTok := e.user("olga@example.com", crm.RoleMember)
		_, adminTok := e.user("boss@example.com", crm.RoleAdmin)
		cs := customers.New(db)
		var ids []int64
		for i := range 3 {
			c, err := cs.Create(t.Context(), mia, customers.NewCustomer{FullName: fmt.Sprintf("Undo %d", i), Country: "DE"})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		list := fmt.Sprintf("[%d,%d,%d]", ids[0], ids[1], ids[2])
		undoOf := func(res map[string]any) (string, map[string]any) {
			t.Helper()
			job, _ := res["job"].(map[string]any)
			undo, _ := res["undo"].(map[string]any)
			if job == nil || undo == nil || undo["until"] == nil {
				t.Fatalf("no job or undo in %v", res)
			}
			return fmt.Sprintf("/api/v1/jobs/%v", job["id"]), undo
		}

		// an inline archive: answered at once, with its job and undo
		st, res := e.api("POST", "/api/v1/customers/bulk", miaTok, `{"action":"archive","ids":`+list+`}`)
		if st != 200 || res["done"] != 3.0 {
			t.Fatalf("inline archive: %d %v", st, res)
		}
		path, undo := undoOf(res)
		if undo["available"] != true {
			t.Fatalf("undo of a fresh action: %v", undo)
		}
		if st, j := e.api("GET", path, miaTok, ""); st != 200 || j["undo"].(map[string]any)["available"] != true {
			t.Fatalf("GET job: %d %v", st, j)
		}
		if st, body := e.api("POST", path+"/undo", "", ""); st != 401 {
			t.Fatalf("anonymous undo: %d %v", st, body)
		}
		if st, body := e.api("POST", path+"/undo", olgaTok, ""); st != 404 {
			t.Fatalf("another member's undo: %d %v", st, body)
		}
		st, res = e.api("POST", path+"/undo", miaTok, "")
		uj, _ := res["job"].(map[string]any)
		if st != 202 || uj == nil {
			t.Fatalf("undo: %d %v", st, res)
		}
		j := e.waitJob(miaTok, int64(uj["id"].(float64)))
		if r, _ := j["result"].(map[string]any); j["status"] != "done" || r["done"] != 3.0 {
			t.Fatalf("undo job: %v", j)
		}
		for _, id := range ids {
			if c, _ := db.GetCustomer(t.Context(), id); c.ArchivedAt != nil {
				t.Fatalf("customer %d still archived after the undo", id)
			}
		}
		if st, body := e.api("POST", path+"/undo", miaTok, ""); st != 409 {
			t.Fatalf("second undo: %d %v", st, body)
		}
		if st, j := e.api("GET", path, miaTok, ""); st != 200 || j["undo"].(map[string]any)["available"] != false {
			t.Fatalf("GET job after its undo: %d %v", st, j)
		}
		if st, body := e.api("POST", fmt.Sprintf("/api/v1/jobs/%v/undo", uj["id"]), miaTok, ""); st != 409 {
			t.Fatalf("undo of an undo: %d %v", st, body)
		}

		// a background job over a filter; an admin may undo a member's
		st, res = e.api("POST", "/api/v1/customers/bulk", miaTok, `{"action":"tag","tags":["vip"],"filter":{"country":["DE"]}}`)
		job, _ := res["job"].(map[string]any)
		if st != 202 || job == nil {
			t.Fatalf("bulk job: %d %v", st, res)
		}
		j = e.waitJob(miaTok, int64(job["id"].(float64)))
		if u, _ := j["undo"].(map[string]any); u["available"] != true || u["until"] == nil {
			t.Fatalf("ended bulk job: %v", j)
		}
		st, res = e.api("POST", fmt.Sprintf("/api/v1/jobs/%v/undo", job["id"]), adminTok, "")
		if uj, _ := res["job"].(map[string]any); st != 202 || uj == nil {
			t.Fatalf("admin undo: %d %v", st, res)
		} else if j := e.waitJob(adminTok, int64(uj["id"].(float64))); j["status"] != "done" {
			t.Fatalf("admin undo job: %v", j)
		}
		for _, id := range ids {
			if c, _ := db.GetCustomer(t.Context(), id); len(c.Tags) != 0 {
				t.Fatalf("customer %d keeps tags %v after the undo", id, c.Tags)
			}
		}

		st, doc := e.api("GET", "/api/openapi.json", "", "")
		paths, _ := doc["paths"].(map[string]any)
		if p, _ := paths["/api/v1/jobs/{id}/undo"].(map[string]any); st != 200 || p["post"] == nil {
			t.Fatalf("the undo route is not in the OpenAPI document: %v", paths["/api/v1/jobs/{id}/undo"])
		}
	})
}
