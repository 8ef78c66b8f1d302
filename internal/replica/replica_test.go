package replica_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/acme/crm/internal/accounts"
	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/importer"
	"github.com/acme/crm/internal/jobs"
	"github.com/acme/crm/internal/outreach"
	"github.com/acme/crm/internal/replica"
	"github.com/acme/crm/internal/seed"
	"github.com/acme/crm/internal/server"
	"github.com/acme/crm/internal/store"
)

// applyDelay is how late the test's replica applies each commit.
const applyDelay = 20 * time.Millisecond

// instance is one `crm serve` of the test: its own store (pools) and
// Router on the shared primary and replica, behind its own address.
type instance struct {
	url   string
	db    *store.DB
	reads *replica.Router
	log   *lockedBuffer
}

func startInstance(t *testing.T, ctx context.Context, c *cluster) *instance {
	t.Helper()
	db, err := store.Open(ctx, c.primaryDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	lb := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(lb, nil))
	// idle replica connections close quickly, and their server processes
	// then hand their statistics in (else they may wait 10 s of idling)
	dsn := c.replicaDSN() + "&pool_max_conn_idle_time=300ms&pool_health_check_period=200ms"
	reads, err := db.UseReplica(ctx, dsn, replica.Options{Interval: 200 * time.Millisecond, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	go reads.Run(ctx)
	acc := accounts.New(db)
	acc.Cost = bcrypt.MinCost
	out := outreach.New(db, nil, "crm@example.com", "http://crm.example")
	cs := customers.New(db)
	queue, err := jobs.Open(db, out, cs, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	h, err := server.New(server.Deps{Store: db, Accounts: acc, Customers: cs, Outreach: out, Jobs: queue,
		Imports: importer.New(db, t.TempDir(), jobs.ImportEnqueuer(queue)), Log: slog.New(slog.DiscardHandler), Reads: reads})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &instance{url: srv.URL, db: db, reads: reads, log: lb}
}

// TestReadReplica runs the product on a real streaming replica: the table,
// search and drawer read from the replica (its own statistics count them);
// a user's change shows on their next page in 1,000 of 1,000 tries while
// another goroutine writes and the replica applies each commit 20 ms late,
// through a cookie for a browser, the token for the API, and the
// CRM-Read-After header across instances; stopping the replica sends reads
// to the primary without an error, and starting it again brings them back.
func TestReadReplica(t *testing.T) {
	t.Parallel()
	start := time.Now()
	phase := func(what string) { t.Logf("%5.1fs %s", time.Since(start).Seconds(), what) }
	c := newCluster(t)
	phase("primary started")
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	// the schema and the data, on the primary before the replica is copied
	setup, err := store.Open(ctx, c.primaryDSN())
	if err != nil {
		t.Fatal(err)
	}
	acc := accounts.New(setup)
	acc.Cost = bcrypt.MinCost
	if _, err := seed.Run(ctx, setup, seed.Options{Customers: 300, Seed: 3, Now: time.Now().UTC(), HashPassword: acc.HashPassword}); err != nil {
		t.Fatal(err)
	}
	admin, err := setup.GetUserByEmail(ctx, seed.DemoAdminEmail)
	if err != nil {
		t.Fatal(err)
	}
	var tokens []string
	for i := range 5 {
		tok, _, err := acc.CreateToken(ctx, nil, admin.ID, fmt.Sprintf("replica test %d", i))
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, tok)
	}
	page, err := setup.FindCustomers(ctx, crm.CustomerQuery{Limit: 200})
	if err != nil || len(page.Items) < 200 {
		t.Fatalf("seeded customers: %v", err)
	}
	var ids []int64
	for _, cu := range page.Items {
		ids = append(ids, cu.ID)
	}
	setup.Close()
	phase("seeded")
	c.startReplica(applyDelay)
	phase("replica started")

	a, b := startInstance(t, ctx, c), startInstance(t, ctx, c)
	if _, err := a.db.UseReplica(ctx, c.primaryDSN(), replica.Options{}); err == nil || !strings.Contains(err.Error(), "not a standby") {
		t.Fatalf("the primary taken for a replica: %v", err)
	}
	waitFor(t, 10*time.Second, "the replica in use", func() bool { return a.reads.Healthy() && b.reads.Healthy() })

	// --- the table, search and drawer read from the replica
	observer := &apiClient{t: t, token: tokens[4]}
	browserA := newBrowser(t, a.url)
	reads := func(n int) {
		for i := range n {
			in := []*instance{a, b}[i%2]
			id := ids[i%len(ids)]
			switch i % 4 {
			case 0:
				observer.list(in.url, url.Values{"sort": {"name"}, "limit": {"50"}})
			case 1:
				observer.customer(in.url, id)
			case 2:
				observer.list(in.url, url.Values{"q": {"a"}})
			case 3:
				browserA.page(in.url, fmt.Sprintf("/crm/customers/%d", id))
				browserA.page(in.url, "/crm/customers?sort=name")
			}
		}
	}
	readsMoved := func(what string) {
		t.Helper()
		// the replica's server processes hand their counts in within about
		// a second (cluster_test.go's pool settings): once they have, the
		// count stands still without reads, so what follows is the reads'
		time.Sleep(1200 * time.Millisecond)
		quiet := scans(t, c.replicaDSN())
		time.Sleep(1200 * time.Millisecond)
		before := scans(t, c.replicaDSN())
		if before-quiet > 5 {
			t.Fatalf("%s: the replica counted %d scans without reads", what, before-quiet)
		}
		reads(40)
		var got int64
		waitFor(t, 8*time.Second, what+": the replica counts the reads", func() bool {
			got = scans(t, c.replicaDSN()) - before
			return got >= 40
		})
		t.Logf("%s: the replica counted %d scans of customers for 40 reads", what, got)
	}
	phase("instances started")
	readsMoved("at start")
	phase("reads moved")

	// --- read-your-writes: 1,000 tries under write load
	var writing sync.WaitGroup
	stopWriting := make(chan struct{})
	var written atomic.Int64
	writing.Go(func() { // another writer, all along
		for i := 0; ; i++ {
			select {
			case <-stopWriting:
				return
			default:
			}
			_, err := a.db.SQL.ExecContext(ctx, `UPDATE customers SET language = CASE WHEN language = 'de' THEN 'fr' ELSE 'de' END WHERE id = $1`, ids[100+i%100])
			if err != nil {
				t.Errorf("writer: %v", err)
				return
			}
			written.Add(1)
			time.Sleep(time.Millisecond) // leave the machine's cores some air
		}
	})
	fallbacksBefore := fallbacks(t)
	const clients, tries = 8, 125
	var stale, controls atomic.Int64
	var wg sync.WaitGroup
	for n := range clients {
		wg.Go(func() {
			id := ids[n] // each client edits its own customer
			var tok *apiClient
			var br *browser
			if n%2 == 0 {
				tok = &apiClient{t: t, token: tokens[n/2]}
			} else {
				br = newBrowser(t, a.url)
			}
			for i := range tries {
				word := nonce()
				name := fmt.Sprintf("Ryw %s", word)
				body := fmt.Sprintf(`{"full_name": %q}`, name)
				// write on a; read on a or b: b knows the change only by what the client carries
				on := []*instance{a, b}[i%2]
				if tok != nil {
					tok.header = i%2 == 1 // to b by the header; on a by the token alone
					tok.write(a.url, id, body)
					if n == 0 && i < 60 { // control, logged: how often a reader that did not write sees the lagging replica's old row (asserted with replay paused, below)
						controls.Add(1)
						if observer.customer(a.url, id)["full_name"] != name {
							stale.Add(1)
						}
					}
					if i%3 == 2 {
						items := tok.list(on.url, url.Values{"q": {word}})["items"].([]any)
						if len(items) != 1 || items[0].(map[string]any)["full_name"] != name {
							t.Errorf("client %d try %d: the search for %s on the other instance=%v found %v", n, i, word, on == b, items)
						}
					} else if got := tok.customer(on.url, id)["full_name"]; got != name {
						t.Errorf("client %d try %d: read %q after writing %q (other instance=%v)", n, i, got, name, on == b)
					}
				} else {
					br.write(a.url, id, body)
					// the drawer and the table's search as pages, else the
					// API as the pages' scripts call it (the same cookies)
					path := fmt.Sprintf("/api/v1/customers/%d", id)
					switch i % 6 {
					case 1:
						path = fmt.Sprintf("/crm/customers/%d", id)
					case 3:
						path = "/crm/customers?q=" + word
					case 5:
						path = "/api/v1/customers?q=" + word
					}
					if p := br.page(on.url, path); !strings.Contains(p, name) {
						t.Errorf("client %d try %d: %s (other instance=%v) does not show %q", n, i, path, on == b, name)
					}
				}
			}
		})
	}
	wg.Wait()
	close(stopWriting)
	writing.Wait()
	if t.Failed() {
		t.FailNow()
	}
	fb := fallbacks(t)
	t.Logf("1,000 of 1,000 reads saw their writer's change; %d concurrent writes; stale reads of a reader that did not write: %d of %d; fallbacks to the primary: %v (before: %v)",
		written.Load(), stale.Load(), controls.Load(), fb, fallbacksBefore)

	// --- replay paused: a reader that did not write sees the old row (the
	// reads do go to the replica), the writer its change (from the primary)
	execOn(t, c.replicaDSN(), `SELECT pg_wal_replay_pause()`)
	writer := &apiClient{t: t, token: tokens[0], header: true}
	for i := range 5 {
		name := "Paused " + nonce()
		writer.write(a.url, ids[10], fmt.Sprintf(`{"full_name": %q}`, name))
		if got := observer.customer(a.url, ids[10])["full_name"]; got == name {
			t.Fatalf("try %d: a reader that did not write saw the change while the replica's replay is paused: it read the primary", i)
		}
		if got := writer.customer(b.url, ids[10])["full_name"]; got != name {
			t.Fatalf("try %d: the writer read %q, not its change %q, while the replica's replay is paused", i, got, name)
		}
	}
	execOn(t, c.replicaDSN(), `SELECT pg_wal_replay_resume()`)
	if behind := fb["behind"] - fallbacksBefore["behind"]; behind > clients*tries/2 {
		t.Fatalf("%.0f of %d reads gave up waiting for the replica: it should mostly catch up within the wait", behind, clients*tries)
	}

	// --- the replica stops: reads go to the primary, no error shown
	phase("read-your-writes")
	c.stopReplica()
	phase("replica stopped")
	for i := range 40 {
		in := []*instance{a, b}[i%2]
		id := ids[i%len(ids)]
		observer.customer(in.url, id)
		observer.list(in.url, url.Values{"q": {"a"}})
		if i%10 == 0 {
			browserA.page(in.url, "/crm/customers")
			if csv := observer.get(in.url, "/api/v1/customers/export.csv?owner=none"); strings.Count(csv, "\n") < 2 {
				t.Fatalf("export while the replica is down: %q", tail(csv, 3))
			}
		}
	}
	waitFor(t, 5*time.Second, "the replica out of use", func() bool { return !a.reads.Healthy() && !b.reads.Healthy() })
	if v := gauge(t, "crm_db_replica_healthy"); v != 0 {
		t.Fatalf("crm_db_replica_healthy = %v while the replica is down", v)
	}
	time.Sleep(time.Second) // checks go on failing: still one line each
	reads(10)
	for _, in := range []*instance{a, b} {
		if n := strings.Count(in.log.String(), "read replica out of use"); n != 1 {
			t.Fatalf("%d log lines for one outage:\n%s", n, in.log.String())
		}
	}

	// --- it starts again: reads come back to it
	phase("reads went to the primary")
	c.startReplica(applyDelay)
	phase("replica restarted")
	waitFor(t, 15*time.Second, "the replica back in use", func() bool { return a.reads.Healthy() && b.reads.Healthy() })
	if v := gauge(t, "crm_db_replica_healthy"); v != 1 {
		t.Fatalf("crm_db_replica_healthy = %v with the replica back", v)
	}
	for _, in := range []*instance{a, b} {
		if n := strings.Count(in.log.String(), "read replica in use"); n != 2 { // at start, and back
			t.Fatalf("%d log lines for the start and one recovery:\n%s", n, in.log.String())
		}
	}
	phase("replica in use again")
	readsMoved("after the restart")
	if v := gauge(t, "crm_db_pool_max_connections", "pool", "replica"); v < 1 {
		t.Fatalf("crm_db_pool_max_connections{pool=replica} = %v", v)
	}
}

// apiClient calls the API with a token.
type apiClient struct {
	t      *testing.T
	token  string
	header bool   // send back the CRM-Read-After of its last write
	after  string // that header's value
}

func (c *apiClient) do(method, base, path, body string) (int, []byte, http.Header) {
	req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.header && c.after != "" && method == http.MethodGet {
		req.Header.Set(replica.Header, c.after)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Errorf("%s %s: %v", method, path, err)
		return 0, nil, nil
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b, res.Header
}

func (c *apiClient) get(base, path string) string {
	st, b, _ := c.do("GET", base, path, "")
	if st != 200 {
		c.t.Errorf("GET %s: %d %s", path, st, b)
	}
	return string(b)
}

func (c *apiClient) json(base, path string) map[string]any {
	var out map[string]any
	if err := json.Unmarshal([]byte(c.get(base, path)), &out); err != nil {
		c.t.Errorf("GET %s: %v", path, err)
	}
	return out
}

func (c *apiClient) customer(base string, id int64) map[string]any {
	return c.json(base, fmt.Sprintf("/api/v1/customers/%d", id))
}

func (c *apiClient) list(base string, q url.Values) map[string]any {
	out := c.json(base, "/api/v1/customers?"+q.Encode())
	if _, ok := out["items"].([]any); !ok {
		c.t.Errorf("list %s: %v", q.Encode(), out)
		out["items"] = []any{}
	}
	return out
}

func (c *apiClient) write(base string, id int64, body string) {
	st, b, h := c.do("PATCH", base, fmt.Sprintf("/api/v1/customers/%d", id), body)
	if st != 200 {
		c.t.Errorf("PATCH customer %d: %d %s", id, st, b)
	}
	if h.Get(replica.Header) == "" {
		c.t.Errorf("PATCH customer %d: no %s header", id, replica.Header)
	}
	c.after = h.Get(replica.Header)
}

// browser is a signed-in session with cookies (shared by every instance:
// cookies are per host, not per port), as the pages' scripts call the API.
type browser struct {
	t    *testing.T
	c    *http.Client
	csrf string
}

var csrfMeta = regexp.MustCompile(`name="csrf-token" content="([^"]+)"`)
var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	m := csrfField.FindStringSubmatch(b.page(base, "/login"))
	if m == nil {
		t.Fatal("no CSRF field on the sign-in page")
	}
	res, err := b.c.PostForm(base+"/login", url.Values{"csrf_token": {m[1]}, "email": {seed.DemoAdminEmail}, "password": {seed.DemoPassword}})
	if err != nil || res.StatusCode != 303 {
		t.Fatalf("sign in: %v %v", res.StatusCode, err)
	}
	res.Body.Close()
	if m = csrfMeta.FindStringSubmatch(b.page(base, "/crm/customers")); m == nil {
		t.Fatal("no CSRF token on the customers page")
	}
	b.csrf = m[1]
	return b
}

func (b *browser) page(base, path string) string {
	res, err := b.c.Get(base + path)
	if err != nil {
		b.t.Errorf("GET %s: %v", path, err)
		return ""
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		b.t.Errorf("GET %s: %d %s", path, res.StatusCode, tail(string(body), 5))
	}
	return string(body)
}

func (b *browser) write(base string, id int64, body string) {
	req, _ := http.NewRequest("PATCH", fmt.Sprintf("%s/api/v1/customers/%d", base, id), strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", b.csrf)
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Errorf("PATCH customer %d: %v", id, err)
		return
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		msg, _ := io.ReadAll(res.Body)
		b.t.Errorf("PATCH customer %d: %d %s", id, res.StatusCode, msg)
	}
	u, _ := url.Parse(base)
	found := false
	for _, ck := range b.c.Jar.Cookies(u) {
		found = found || ck.Name == replica.Cookie
	}
	if !found {
		b.t.Errorf("PATCH customer %d: no %s cookie", id, replica.Cookie)
	}
}

// nonce is a word no customer has: letters only, so that search finds it.
func nonce() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = 'a' + b[i]%26
	}
	return "q" + string(b)
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// gauge reads a metric of the default registry (the one /metrics serves),
// the series with the given label name and value when one is given.
func gauge(t *testing.T, name string, label ...string) float64 {
	t.Helper()
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := len(label) == 0
			for _, lp := range m.GetLabel() {
				match = match || (lp.GetName() == label[0] && lp.GetValue() == label[1])
			}
			if !match {
				continue
			}
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("metric %s %v not found", name, label)
	return 0
}

// fallbacks reads crm_db_replica_fallbacks_total by reason.
func fallbacks(t *testing.T) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, r := range []string{"unhealthy", "behind", "error"} {
		out[r] = gauge(t, "crm_db_replica_fallbacks_total", "reason", r)
	}
	return out
}

// lockedBuffer is a log destination safe for goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
