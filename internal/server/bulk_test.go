package server_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

func TestBulkActions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		_, adminTok := e.user("boss@example.com", crm.RoleAdmin)
		mia, miaTok := e.user("mia@example.com", crm.RoleMember)
		noah, _ := e.user("noah@example.com", crm.RoleMember)
		mk := func(name string, owner *int64) int64 {
			id, err := db.CreateCustomer(t.Context(), crm.NewCustomer{FullName: name, OwnerID: owner, Country: "DE", CreatedAt: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		free1, free2 := mk("Free 1", nil), mk("Free 2", nil)
		mine := mk("Mia's", &mia.ID)
		noahs := mk("Noah's", &noah.ID)
		all := fmt.Sprintf("[%d,%d,%d,%d]", free1, free2, mine, noahs)
		bulk := func(tok, body string) (int, map[string]any) {
			return e.api("POST", "/api/v1/customers/bulk", tok, body)
		}
		reasons := func(res map[string]any) string {
			var out []string
			for _, s := range res["skips"].([]any) {
				out = append(out, s.(map[string]any)["reason"].(string))
			}
			return strings.Join(out, "; ")
		}
		owner := func(id int64) string {
			c, _ := db.GetCustomer(t.Context(), id)
			if c.Owner == nil {
				return ""
			}
			return c.Owner.Email
		}

		// A member claims: the unclaimed ones become theirs; Noah's is skipped, naming Noah.
		st, res := bulk(miaTok, `{"action":"claim","ids":`+all+`}`)
		if st != 200 || res["done"] != 2.0 || res["skipped"] != 2.0 || !strings.Contains(reasons(res), "owned by Name of noah@example.com") ||
			!strings.Contains(reasons(res), "already yours") || owner(free1) != "mia@example.com" || owner(noahs) != "noah@example.com" {
			t.Fatalf("member claim: %d %v", st, res)
		}
		// A member releases only their own.
		st, res = bulk(miaTok, `{"action":"release","ids":`+all+`}`)
		if st != 200 || res["done"] != 3.0 || res["skipped"] != 1.0 || owner(noahs) == "" || owner(mine) != "" {
			t.Fatalf("member release: %d %v", st, res)
		}
		// An admin releases anyone's.
		if st, res := bulk(adminTok, `{"action":"release","ids":`+all+`}`); st != 200 || res["done"] != 1.0 || owner(noahs) != "" {
			t.Fatalf("admin release: %d %v", st, res)
		}
		// Tag: missing tags are created; already tagged customers get no second entry.
		if st, res := bulk(miaTok, `{"action":"tag","ids":`+all+`,"tags":["Summit 2026","vip"]}`); st != 200 || res["done"] != 4.0 {
			t.Fatalf("tag: %d %v", st, res)
		}
		bulk(miaTok, `{"action":"tag","ids":`+all+`,"tags":["vip"]}`)
		c, _ := db.GetCustomer(t.Context(), noahs)
		acts, _ := db.ListActivity(t.Context(), noahs, 0, 100)
		tagged := 0
		for _, a := range acts {
			if a.Kind == crm.ActTagAdded {
				tagged++
			}
		}
		if len(c.Tags) != 2 || tagged != 2 {
			t.Fatalf("tags %v, %d tag entries", c.Tags, tagged)
		}
		// Segment add and remove.
		_, seg := e.api("POST", "/api/v1/segments", miaTok, `{"name":"Summit"}`)
		segID := seg["id"].(float64)
		if st, res := bulk(miaTok, fmt.Sprintf(`{"action":"segment_add","ids":%s,"segment_id":%v}`, all, segID)); st != 200 || res["done"] != 4.0 {
			t.Fatalf("segment add: %d %v", st, res)
		}
		if st, res := bulk(miaTok, fmt.Sprintf(`{"action":"segment_remove","ids":[%d],"segment_id":%v}`, free1, segID)); st != 200 || res["done"] != 1.0 {
			t.Fatalf("segment remove: %d %v", st, res)
		}
		if sg, _ := db.GetSegment(t.Context(), int64(segID)); sg.Members != 3 {
			t.Fatalf("members %d", sg.Members)
		}
		// Archive: a member archives their own and unclaimed customers, not someone else's.
		_, _ = db.SetOwner(t.Context(), noahs, &noah.ID, crm.OwnerExpectation{Any: true}, time.Now())
		st, res = bulk(miaTok, `{"action":"archive","ids":`+all+`}`)
		if st != 200 || res["done"] != 3.0 || !strings.Contains(reasons(res), "members archive only their own or unclaimed") {
			t.Fatalf("member archive: %d %v", st, res)
		}
		if st, res := bulk(adminTok, `{"action":"restore","ids":`+all+`}`); st != 200 || res["done"] != 3.0 || !strings.Contains(reasons(res), "not archived") {
			t.Fatalf("admin restore: %d %v", st, res)
		}

		// Every matching customer of a filter: a job, with progress, result and the skips to download.
		st, res = bulk(miaTok, `{"action":"claim","filter":{"country":["DE"]}}`)
		job, _ := res["job"].(map[string]any)
		if st != 202 || job == nil {
			t.Fatalf("bulk job: %d %v", st, res)
		}
		j := e.waitJob(miaTok, int64(job["id"].(float64)))
		r := j["result"].(map[string]any)
		if j["status"] != "done" || r["done"] != 3.0 || r["skipped"] != 1.0 {
			t.Fatalf("bulk job result %v", j)
		}
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/jobs/%v/skipped.csv", e.srv.URL, job["id"]), nil)
		req.Header.Set("Authorization", "Bearer "+miaTok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		csvBody, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(csvBody), fmt.Sprintf("%d,Noah's,owned by Name of noah@example.com", noahs)) {
			t.Fatalf("skipped.csv %d %q", resp.StatusCode, csvBody)
		}

		// Bad input: refused with a clear message, nothing changed.
		for body, field := range map[string]string{
			`{"action":"tag","ids":[1],"tags":[" "]}`:             "tags",
			`{"action":"tag","ids":[1],"tags":[]}`:                "tags",
			`{"action":"segment_add","ids":[1],"segment_id":999}`: "segment_id",
			`{"action":"claim"}`:                                  "ids",
			`{"action":"claim","filter":{"country":["XX"]}}`:      "country",
		} {
			if st, res := bulk(miaTok, body); st != 400 || res["error"].(map[string]any)["field"] != field {
				t.Errorf("%s: %d %v", body, st, res)
			}
		}
		if st, _ := bulk(miaTok, `{"action":"explode","ids":[1]}`); st != 400 {
			t.Errorf("unknown action: %d", st)
		}
	})
}

// "Select all N matching" on the unfiltered table sends an empty filter:
// it means every customer the list shows by default (the active ones), and
// the job does that instead of failing for want of a selection.
func TestBulkSelectAllUnfiltered(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		_, tok := e.user("mia@example.com", crm.RoleMember)
		var active []int64
		for i := range 3 {
			id, err := db.CreateCustomer(t.Context(), crm.NewCustomer{FullName: fmt.Sprintf("Active %d", i), CreatedAt: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			active = append(active, id)
		}
		gone, err := db.CreateCustomer(t.Context(), crm.NewCustomer{FullName: "Archived", CreatedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		at := time.Now()
		if err := db.SetArchived(t.Context(), gone, &at, nil, at); err != nil {
			t.Fatal(err)
		}
		st, res := e.api("POST", "/api/v1/customers/bulk", tok, `{"action":"tag","filter":{},"tags":["everyone"]}`)
		job, _ := res["job"].(map[string]any)
		if st != 202 || job == nil {
			t.Fatalf("bulk over an empty filter: %d %v", st, res)
		}
		j := e.waitJob(tok, int64(job["id"].(float64)))
		r, _ := j["result"].(map[string]any)
		if j["status"] != "done" || r["processed"] != 3.0 || r["done"] != 3.0 {
			t.Fatalf("bulk job over an empty filter: %v", j)
		}
		for _, id := range active {
			if c, _ := db.GetCustomer(t.Context(), id); len(c.Tags) != 1 {
				t.Fatalf("%s not tagged: %v", c.FullName, c.Tags)
			}
		}
		if c, _ := db.GetCustomer(t.Context(), gone); len(c.Tags) != 0 {
			t.Fatalf("an archived customer was tagged by the default list: %v", c.Tags)
		}
	})
}

func TestPossibleDuplicates(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.seeded(1500)
		pairs, err := db.DuplicatePairs(t.Context(), crm.PairKey{}, 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(pairs) == 0 {
			t.Fatal("the demo data has shared addresses, but no pair was found")
		}
		for _, p := range pairs {
			for _, r := range p.Reasons {
				ks, _ := db.FindContactsByValue(t.Context(), r.Channel, r.Value)
				holders := map[int64]bool{}
				for _, k := range ks {
					holders[k.CustomerID] = true
				}
				if !holders[p.A.ID] || !holders[p.B.ID] {
					t.Fatalf("%s and %s do not both hold %s %s", p.A.Name, p.B.Name, r.Channel, r.Value)
				}
			}
		}
		b := e.browser()
		e.user("mia@example.com", crm.RoleMember)
		b.post("/login", "/login", map[string][]string{"email": {"mia@example.com"}, "password": {"correct horse"}})
		shown := ""
		for _, p := range pairs {
			if p.Reasons[0].Channel == crm.ChannelEmail { // (a phone's + is escaped in HTML)
				shown = p.Reasons[0].Value
				break
			}
		}
		if st, _, page := b.get("/crm/duplicates"); st != 200 || shown == "" || !strings.Contains(page, shown) || !strings.Contains(page, "Review and merge") {
			t.Fatalf("duplicates page %d, looking for %q", st, shown)
		}
	})
}
