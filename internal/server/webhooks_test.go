package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/acme/crm/internal/accounts"
	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/importer"
	"github.com/acme/crm/internal/jobs"
	"github.com/acme/crm/internal/outreach"
	"github.com/acme/crm/internal/server"
	"github.com/acme/crm/internal/testdb"
	"github.com/acme/crm/internal/webhooks"
)

// webhookEnv is a server whose queue sends webhooks to loopback receivers,
// with the dispatcher running.
func webhookEnv(t *testing.T, engine string) (*env, *webhooks.Service) {
	db := testdb.Open(t, engine)
	acc := accounts.New(db)
	acc.Cost = bcrypt.MinCost
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	log := slog.New(slog.DiscardHandler)
	out := outreach.New(db, nil, "crm@example.com", srv.URL)
	cs := customers.New(db)
	wh := webhooks.New(db, log, true)
	wh.RetryBase = 10 * time.Millisecond
	queue, err := jobs.OpenWith(db, out, cs, log, jobs.Options{Webhooks: wh})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := queue.Start(ctx); err != nil {
		t.Fatal(err)
	}
	go wh.Run(ctx, 50*time.Millisecond)
	t.Cleanup(func() { cancel(); _ = queue.Stop(context.Background()) })
	h, err = server.New(server.Deps{Store: db, Accounts: acc, Customers: cs, Outreach: out, Jobs: queue,
		Imports: importer.New(db, t.TempDir(), jobs.ImportEnqueuer(queue)), WebhookToken: webhookToken, Log: log, Webhooks: wh})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, srv: srv, acc: acc, out: out, db: db}, wh
}

// receiver records what it is sent and answers with the next status of codes (then 200).
type receiver struct {
	mu    sync.Mutex
	codes []int
	got   []hookPost
	srv   *httptest.Server
}

type hookPost struct {
	sig  string
	body []byte
	code int
	at   time.Time
}

func newReceiver(t *testing.T, codes ...int) *receiver {
	r := &receiver{codes: codes}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		code := 200
		if len(r.codes) > 0 {
			code, r.codes = r.codes[0], r.codes[1:]
		}
		r.got = append(r.got, hookPost{sig: req.Header.Get(webhooks.SignatureHeader), body: b, code: code, at: time.Now()})
		r.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) wait(t *testing.T, n int, within time.Duration) []hookPost {
	t.Helper()
	for end := time.Now().Add(within); ; time.Sleep(20 * time.Millisecond) {
		r.mu.Lock()
		got := append([]hookPost(nil), r.got...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(end) {
			t.Fatalf("the receiver got %d deliveries in %s, want %d", len(got), within, n)
		}
	}
}

// call is a JSON request that may answer without a body.
func (e *env) call(method, path, token, body string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return res.StatusCode, out
}

func TestWebhookEndpointsAreForAdmins(t *testing.T) {
	e, _ := webhookEnv(t, "sqlite")
	_, member := e.user("member@example.com", crm.RoleMember)
	_, admin := e.user("admin@example.com", crm.RoleAdmin)
	body := `{"url":"https://hooks.example.com/crm","events":["customer.created"]}`
	if code, out := e.call("POST", "/api/v1/webhook-endpoints", member, body); code != 403 || errCode(out) != "forbidden" {
		t.Fatalf("a member creates an endpoint: %d %v", code, out)
	}
	if code, _ := e.call("GET", "/api/v1/webhook-endpoints", member, ""); code != 403 {
		t.Fatalf("a member lists endpoints: %d", code)
	}
	code, out := e.call("POST", "/api/v1/webhook-endpoints", admin, body)
	if code != 201 || !strings.HasPrefix(fmt.Sprint(out["secret"]), "whsec_") || out["enabled"] != true {
		t.Fatalf("an admin creates an endpoint: %d %v", code, out)
	}
	id := int64(out["id"].(float64))
	if code, _ := e.call("PATCH", fmt.Sprintf("/api/v1/webhook-endpoints/%d", id), member, `{"enabled":false}`); code != 403 {
		t.Fatalf("a member changes an endpoint: %d", code)
	}
	if code, _ := e.call("DELETE", fmt.Sprintf("/api/v1/webhook-endpoints/%d", id), member, ""); code != 403 {
		t.Fatalf("a member deletes an endpoint: %d", code)
	}
	// the list never shows the secret
	if _, out := e.call("GET", "/api/v1/webhook-endpoints", admin, ""); strings.Contains(fmt.Sprint(out), "whsec_") {
		t.Fatalf("the list shows a secret: %v", out)
	}
	// refused: not http(s), a private address (not allowed by default), unknown events
	wh := webhooks.New(e.db, nil, false)
	for _, u := range []string{"ftp://example.com/x", "file:///etc/passwd", "http://127.0.0.1:9/x", "http://10.1.2.3/x", "http://localhost/x", "http://[::1]/x"} {
		if err := wh.CheckURL(u); crm.CodeOf(err) != crm.CodeInvalid {
			t.Errorf("%s accepted: %v", u, err)
		}
	}
	if code, out := e.call("POST", "/api/v1/webhook-endpoints", admin, `{"url":"gopher://x","events":["customer.created"]}`); code != 400 {
		t.Fatalf("a gopher URL: %d %v", code, out)
	}
	if code, out := e.call("POST", "/api/v1/webhook-endpoints", admin, `{"url":"https://x.example.com","events":["customer.eaten"]}`); code != 400 {
		t.Fatalf("an unknown event: %d %v", code, out)
	}
	if code, _ := e.call("DELETE", fmt.Sprintf("/api/v1/webhook-endpoints/%d", id), admin, ""); code != 204 {
		t.Fatalf("an admin deletes an endpoint: %d", code)
	}
}

// A receiver that answers 500 then 200 gets the event once more after the
// retry, with the same id and a valid signature each time; the log says
// delivered after 2 attempts; "send again" sends the same event id again.
func TestWebhookSignedRetriedAndSentAgain(t *testing.T) {
	for _, engine := range testdb.Engines() {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			e, _ := webhookEnv(t, engine)
			_, admin := e.user("admin@example.com", crm.RoleAdmin)
			rc := newReceiver(t, 500)
			code, ep := e.call("POST", "/api/v1/webhook-endpoints", admin,
				fmt.Sprintf(`{"url":%q,"events":["customer.created","customer.tagged"]}`, rc.srv.URL))
			if code != 201 {
				t.Fatalf("create endpoint: %d %v", code, ep)
			}
			secret, epID := ep["secret"].(string), int64(ep["id"].(float64))
			code, c := e.call("POST", "/api/v1/customers", admin, `{"full_name":"Hooked Hanna"}`)
			if code != 201 {
				t.Fatalf("create customer: %d %v", code, c)
			}
			got := rc.wait(t, 2, 60*time.Second)
			var ids []string
			for _, g := range got {
				if err := webhooks.Verify(secret, g.sig, g.body, time.Now(), 0); err != nil {
					t.Fatalf("signature of %s: %v", g.body, err)
				}
				var ev struct {
					ID, Type string
					At       time.Time
					Data     struct {
						CustomerID int64 `json:"customer_id"`
						UserID     int64 `json:"user_id"`
					}
				}
				if err := json.Unmarshal(g.body, &ev); err != nil {
					t.Fatal(err)
				}
				if ev.Type != "customer.created" || ev.Data.CustomerID != int64(c["id"].(float64)) || ev.Data.UserID == 0 || ev.At.IsZero() {
					t.Fatalf("event %s", g.body)
				}
				ids = append(ids, ev.ID)
			}
			if got[0].code != 500 || got[1].code != 200 || ids[0] != ids[1] {
				t.Fatalf("answers %d, %d; ids %v", got[0].code, got[1].code, ids)
			}
			// exactly once: no further delivery of it
			time.Sleep(300 * time.Millisecond)
			if n := len(rc.wait(t, 2, time.Second)); n != 2 {
				t.Fatalf("%d deliveries, want 2 (one failed, one accepted)", n)
			}
			var log map[string]any
			for end := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				_, log = e.call("GET", fmt.Sprintf("/api/v1/webhook-endpoints/%d/deliveries", epID), admin, "")
				items, _ := log["items"].([]any)
				if len(items) == 1 && items[0].(map[string]any)["status"] == "delivered" {
					break
				}
				if time.Now().After(end) {
					t.Fatalf("delivery log: %v", log)
				}
			}
			d := log["items"].([]any)[0].(map[string]any)
			if d["attempts"].(float64) != 2 || d["last_code"].(float64) != 200 || d["event_id"] != ids[0] {
				t.Fatalf("delivery %v", d)
			}
			// send again: the same event id once more
			if code, out := e.call("POST", fmt.Sprintf("/api/v1/webhook-endpoints/%d/deliveries/%d/resend", epID, int64(d["id"].(float64))), admin, ""); code != 202 {
				t.Fatalf("send again: %d %v", code, out)
			}
			again := rc.wait(t, 3, 30*time.Second)[2]
			if !strings.Contains(string(again.body), ids[0]) || webhooks.Verify(secret, again.sig, again.body, time.Now(), 0) != nil {
				t.Fatalf("sent again: %s", again.body)
			}
		})
	}
}

// A bulk change of many customers: one event per customer, in deliveries
// of at most 100 events; an endpoint not subscribed to the type gets none.
func TestWebhookBatches(t *testing.T) {
	e, _ := webhookEnv(t, "sqlite")
	_, admin := e.user("admin@example.com", crm.RoleAdmin)
	rc := newReceiver(t)
	other := newReceiver(t)
	for _, ep := range []struct {
		url, ev string
	}{{rc.srv.URL, "customer.tagged"}, {other.srv.URL, "customer.archived"}} {
		if code, out := e.call("POST", "/api/v1/webhook-endpoints", admin, fmt.Sprintf(`{"url":%q,"events":[%q]}`, ep.url, ep.ev)); code != 201 {
			t.Fatalf("create endpoint: %d %v", code, out)
		}
	}
	ctx := t.Context()
	var ids []int64
	for i := range 250 {
		id, err := e.db.CreateCustomer(ctx, crm.NewCustomer{FullName: fmt.Sprintf("Batch %d", i), CreatedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := e.db.AddActivityFor(ctx, ids, crm.Activity{Kind: crm.ActTagAdded, Data: json.RawMessage(`{"tag":"vip","bulk":true}`), At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	seen := map[int64]int{}
	for end := time.Now().Add(30 * time.Second); len(seen) < 250; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("%d customers' events arrived", len(seen))
		}
		rc.mu.Lock()
		got := append([]hookPost(nil), rc.got...)
		rc.mu.Unlock()
		clear(seen)
		for _, g := range got {
			var b struct {
				Type string
				Data struct {
					Events []struct {
						ID, Type string
						Data     struct {
							CustomerID int64 `json:"customer_id"`
						}
					}
					CustomerID int64 `json:"customer_id"`
				}
			}
			if err := json.Unmarshal(g.body, &b); err != nil {
				t.Fatal(err)
			}
			if b.Type == webhooks.Batch {
				if n := len(b.Data.Events); n > webhooks.BatchMax || n < 2 {
					t.Fatalf("a batch of %d events", n)
				}
				for _, ev := range b.Data.Events {
					seen[ev.Data.CustomerID]++
				}
			} else {
				seen[b.Data.CustomerID]++
			}
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("customer %d: %d events", id, n)
		}
	}
	time.Sleep(200 * time.Millisecond)
	other.mu.Lock()
	defer other.mu.Unlock()
	if len(other.got) != 0 {
		t.Fatalf("an endpoint without customer.tagged got %d deliveries", len(other.got))
	}
}

// The change feed over the API: any signed-in user; items in commit order
// with the cursor to go on from; "now" starts at this moment.
func TestChangesAPI(t *testing.T) {
	e, _ := webhookEnv(t, "sqlite")
	_, member := e.user("member@example.com", crm.RoleMember)
	code, c := e.call("POST", "/api/v1/customers", member, `{"full_name":"Fed Fiona"}`)
	if code != 201 {
		t.Fatalf("create: %d %v", code, c)
	}
	id := c["id"].(float64)
	code, out := e.call("GET", "/api/v1/changes?limit=10", member, "")
	items, _ := out["items"].([]any)
	if code != 200 || len(items) != 1 || items[0].(map[string]any)["customer_id"] != id || items[0].(map[string]any)["kind"] != "created" || out["next_cursor"] == "" {
		t.Fatalf("changes: %d %v", code, out)
	}
	cur := out["next_cursor"].(string)
	_, now := e.call("GET", "/api/v1/changes?after=now", member, "")
	if code, _ := e.call("POST", fmt.Sprintf("/api/v1/customers/%d/claim", int64(id)), member, ""); code != 200 {
		t.Fatalf("claim: %d", code)
	}
	for _, from := range []string{cur, now["next_cursor"].(string)} {
		_, out = e.call("GET", "/api/v1/changes?after="+from, member, "")
		items, _ = out["items"].([]any)
		if len(items) != 1 || items[0].(map[string]any)["kind"] != "owner_changed" {
			t.Fatalf("after %s: %v", from, out)
		}
		_, again := e.call("GET", "/api/v1/changes?after="+out["next_cursor"].(string), member, "")
		if n := len(again["items"].([]any)); n != 0 || again["next_cursor"] != out["next_cursor"] {
			t.Fatalf("nothing new: %v", again)
		}
	}
	if code, _ := e.call("GET", "/api/v1/changes?after=garbage", member, ""); code != 400 {
		t.Fatalf("a bad cursor: %d", code)
	}
	if code, _ := e.call("GET", "/api/v1/changes", "", ""); code != 401 {
		t.Fatalf("signed out: %d", code)
	}
}

// An import that ends sends import.finished with its counts, once.
func TestWebhookImportFinished(t *testing.T) {
	e, _ := webhookEnv(t, "sqlite")
	_, admin := e.user("admin@example.com", crm.RoleAdmin)
	rc := newReceiver(t)
	if code, out := e.call("POST", "/api/v1/webhook-endpoints", admin, fmt.Sprintf(`{"url":%q,"events":["import.finished"]}`, rc.srv.URL)); code != 201 {
		t.Fatalf("create endpoint: %d %v", code, out)
	}
	st, up := upload(t, e.srv.URL, admin, "people.csv", []byte("First Name,Email\nIda,ida@example.com\nJo,jo@example.com\n"))
	if st != 201 {
		t.Fatalf("upload %d %v", st, up)
	}
	id := n(up["id"])
	if st, body := e.api("PUT", fmt.Sprintf("/api/v1/imports/%d/mapping", id), admin, `{"mapping": {}, "mode": "create"}`); st != 200 {
		t.Fatalf("mapping %d %v", st, body)
	}
	if st, j := e.api("POST", fmt.Sprintf("/api/v1/imports/%d/submit", id), admin, ""); st != 202 {
		t.Fatalf("submit %d %v", st, j)
	}
	got := rc.wait(t, 1, 60*time.Second)
	var ev struct {
		ID, Type string
		Data     struct {
			ImportID int64 `json:"import_id"`
			Created  int64
			Status   string
		}
	}
	if err := json.Unmarshal(got[0].body, &ev); err != nil || ev.Type != "import.finished" || ev.Data.ImportID != id || ev.Data.Created != 2 || ev.Data.Status != "done" ||
		ev.ID != fmt.Sprintf("evt_import_%d", id) {
		t.Fatalf("event %s (%v)", got[0].body, err)
	}
	time.Sleep(500 * time.Millisecond)
	if n := len(rc.wait(t, 1, time.Second)); n != 1 {
		t.Fatalf("%d deliveries of one import", n)
	}
}

// TestWebhookBulkUndone: undoing a bulk action sends bulk.undone once, with
// the undo's job, the action it undid, who asked and the counts; the bulk
// action's own customer events are not what this endpoint asked for.
func TestWebhookBulkUndone(t *testing.T) {
	e, _ := webhookEnv(t, "sqlite")
	admin, adminTok := e.user("admin@example.com", crm.RoleAdmin)
	rc := newReceiver(t)
	if code, out := e.call("POST", "/api/v1/webhook-endpoints", adminTok, fmt.Sprintf(`{"url":%q,"events":["bulk.undone"]}`, rc.srv.URL)); code != 201 {
		t.Fatalf("create endpoint: %d %v", code, out)
	}
	cs := customers.New(e.db)
	var ids []string
	for i := range 3 {
		c, err := cs.Create(t.Context(), admin, customers.NewCustomer{FullName: fmt.Sprintf("Undone %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, fmt.Sprint(c.ID))
	}
	st, res := e.api("POST", "/api/v1/customers/bulk", adminTok, `{"action":"archive","ids":[`+strings.Join(ids, ",")+`]}`)
	job, _ := res["job"].(map[string]any)
	if st != 200 || job == nil {
		t.Fatalf("bulk archive: %d %v", st, res)
	}
	bulkID := n(job["id"])
	st, res = e.api("POST", fmt.Sprintf("/api/v1/jobs/%d/undo", bulkID), adminTok, "")
	uj, _ := res["job"].(map[string]any)
	if st != 202 || uj == nil {
		t.Fatalf("undo: %d %v", st, res)
	}
	undoID := n(uj["id"])
	got := rc.wait(t, 1, 60*time.Second)
	var ev struct {
		ID, Type string
		Data     struct {
			JobID     int64  `json:"job_id"`
			BulkJobID int64  `json:"bulk_job_id"`
			UserID    int64  `json:"user_id"`
			Action    string `json:"action"`
			Done      int64  `json:"done"`
			Skipped   int64  `json:"skipped"`
		}
	}
	if err := json.Unmarshal(got[0].body, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != "bulk.undone" || ev.ID != fmt.Sprintf("evt_undo_%d", undoID) || ev.Data.JobID != undoID || ev.Data.BulkJobID != bulkID ||
		ev.Data.UserID != admin.ID || ev.Data.Done != 3 || ev.Data.Skipped != 0 || ev.Data.Action == "" {
		t.Fatalf("event %s", got[0].body)
	}
	time.Sleep(500 * time.Millisecond)
	if n := len(rc.wait(t, 1, time.Second)); n != 1 {
		t.Fatalf("%d deliveries of one undo", n)
	}
}
