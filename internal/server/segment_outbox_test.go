package server_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// Without a mail server a segment send keeps its messages in the outbox and
// says so: outbox counts them, sent counts none (nothing left the system).
// The segment's counts split its members as the table shows them.
func TestSegmentSendWithoutSMTPSaysOutbox(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db) // no SMTP: the outbox
		_, tok := e.user("sam@example.com", crm.RoleMember)
		var ids []int64
		for i := range 3 {
			id, _ := e.customerWithEmail(fmt.Sprintf("Out %d", i), fmt.Sprintf("out%d@example.com", i))
			ids = append(ids, id)
		}
		gone, _ := e.customerWithEmail("Gone", "gone@example.com")
		_, seg := e.api("POST", "/api/v1/segments", tok, `{"name":"Outbox"}`)
		segID := int64(seg["id"].(float64))
		if _, err := db.AddSegmentMembers(t.Context(), segID, append(ids, gone), time.Now()); err != nil {
			t.Fatal(err)
		}
		if st, b := e.api("POST", fmt.Sprintf("/api/v1/customers/%d/archive", gone), tok, ""); st != 200 {
			t.Fatalf("archive: %d %v", st, b)
		}
		st, segs := e.api("GET", "/api/v1/segments", tok, "")
		items, _ := segs["items"].([]any)
		if st != 200 || len(items) != 1 {
			t.Fatalf("segments: %d %v", st, segs)
		}
		sg := items[0].(map[string]any)
		if sg["members"] != 4.0 || sg["active"] != 3.0 || sg["archived"] != 1.0 {
			t.Fatalf("segment counts %v", sg)
		}
		_, list := e.api("GET", fmt.Sprintf("/api/v1/customers?segment=%d", segID), tok, "")
		if list["total"] != sg["active"] {
			t.Fatalf("the table counts %v, the segment %v", list["total"], sg["active"])
		}
		_, b := e.api("POST", fmt.Sprintf("/api/v1/segments/%d/send", segID), tok, `{"subject":"News","body":"This month"}`)
		j := e.waitJob(tok, int64(b["job"].(map[string]any)["id"].(float64)))
		res, _ := j["result"].(map[string]any)
		if j["status"] != "done" || res["outbox"] != 3.0 || res["sent"] != 0.0 || res["failed"] != 0.0 || res["processed"] != 3.0 {
			t.Fatalf("job %v", j)
		}
	})
}
