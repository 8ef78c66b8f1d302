package server_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/obs"
	"github.com/acme/crm/internal/server"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

const metricsToken = "metrics-token-0123456789abcdef"

// scrape fetches /metrics with the token and parses it.
func scrape(t *testing.T, base, token string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("scrape: %d %s", res.StatusCode, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("metrics are not the Prometheus text format: %v", err)
	}
	return fams
}

// sample is the value of the series of family name with the labels
// (counter, gauge, or a histogram's count), and whether it exists.
func sample(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

func opsEnv(t *testing.T, db *store.DB, token string, more ...func(*server.Deps)) *env {
	db.RegisterMetrics()
	return newEnv(t, db, append([]func(*server.Deps){func(d *server.Deps) {
		d.MetricsToken = token
		d.Ready = db.Ready
	}}, more...)...)
}

// TestMetricsAfterTraffic scrapes /metrics after requests, an import, a
// segment send (a River job) and a manual send, and finds their series.
// The registry is the process's: the test compares before and after.
func TestMetricsAfterTraffic(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := opsEnv(t, db, metricsToken)
		mails := e.withSMTP()
		_, tok := e.user("ops@example.com", crm.RoleAdmin)
		before := scrape(t, e.srv.URL, metricsToken)
		val := func(f map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
			v, _ := sample(f, name, labels)
			return v
		}

		// page and API traffic: counted by route pattern, never by path
		ana, _ := e.customerWithEmail("Ana", "ana@example.com")
		bo, boEmail := e.customerWithEmail("Bo", "bo@example.com")
		for range 3 {
			if st, b := e.api("GET", "/api/v1/customers?limit=5", tok, ""); st != 200 {
				t.Fatalf("list: %d %v", st, b)
			}
		}
		if st, _ := e.api("GET", fmt.Sprintf("/api/v1/customers/%d", ana), tok, ""); st != 200 {
			t.Fatal(st)
		}
		if st, _ := e.api("GET", "/api/v1/customers/987654321", tok, ""); st != 404 {
			t.Fatal(st)
		}
		res, err := http.Get(e.srv.URL + "/no/such/page/123456789")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()

		// an import of three rows, one of them failing
		st, up := upload(t, e.srv.URL, tok, "people.csv", []byte("Name,Email,Owner\nCy,cy@example.com,\nDi,di@example.com,\nEd,ed@example.com,nobody@example.com\n"))
		if st != 201 {
			t.Fatalf("upload %d %v", st, up)
		}
		id := n(up["id"])
		if st, j := e.api("POST", fmt.Sprintf("/api/v1/imports/%d/submit", id), tok, ""); st != 202 {
			t.Fatalf("submit %d %v", st, j)
		}
		j := waitImport(t, func() map[string]any { _, j := e.api("GET", fmt.Sprintf("/api/v1/imports/%d", id), tok, ""); return j })
		if j["status"] != "done" || n(j["created"]) != 2 || n(j["failed"]) != 1 {
			t.Fatalf("import %v", j)
		}

		// a manual send, and a segment send (a job) with a suppressed member
		if st, b := e.api("POST", fmt.Sprintf("/api/v1/customers/%d/send", ana), tok, `{"channel":"email","subject":"Hi","body":"Hello"}`); st != 200 {
			t.Fatalf("send %d %v", st, b)
		}
		if st, b := e.api("POST", fmt.Sprintf("/api/v1/contacts/%d/suppress", boEmail), tok, `{"reason":"unsubscribe","note":"asked"}`); st != 200 {
			t.Fatalf("suppress %d %v", st, b)
		}
		_, seg := e.api("POST", "/api/v1/segments", tok, `{"name":"Metrics"}`)
		segID := int64(seg["id"].(float64))
		if _, err := db.AddSegmentMembers(t.Context(), segID, []int64{ana, bo}, time.Now()); err != nil {
			t.Fatal(err)
		}
		_, b := e.api("POST", fmt.Sprintf("/api/v1/segments/%d/send", segID), tok, `{"subject":"News","body":"This month"}`)
		job, _ := b["job"].(map[string]any)
		if jb := e.waitJob(tok, int64(job["id"].(float64))); jb["status"] != "done" {
			t.Fatalf("segment send %v", jb)
		}
		if len(mails.received()) != 2 {
			t.Fatalf("mails %v", mails.received())
		}

		// River reports a job's end just after it is stored: wait for it
		var after map[string]*dto.MetricFamily
		jobDone := map[string]string{"kind": "segment_send", "state": "completed"}
		for deadline := time.Now().Add(10 * time.Second); ; {
			after = scrape(t, e.srv.URL, metricsToken)
			if val(after, "crm_jobs_total", jobDone) > val(before, "crm_jobs_total", jobDone) || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}

		grew := func(name string, labels map[string]string, by float64) {
			t.Helper()
			if d := val(after, name, labels) - val(before, name, labels); d < by {
				t.Errorf("%s%v grew by %v, want at least %v", name, labels, d, by)
			}
		}
		grew("crm_http_requests_total", map[string]string{"route": "GET /api/v1/customers", "code": "200"}, 3)
		grew("crm_http_request_duration_seconds", map[string]string{"route": "GET /api/v1/customers", "code": "200"}, 3)
		grew("crm_http_requests_total", map[string]string{"route": "GET /api/v1/customers/{id}", "code": "200"}, 1)
		grew("crm_http_requests_total", map[string]string{"route": "GET /api/v1/customers/{id}", "code": "404"}, 1)
		grew("crm_http_requests_total", map[string]string{"route": "POST /api/v1/imports"}, 1)
		grew("crm_import_rows_total", map[string]string{"result": "created"}, 2)
		grew("crm_import_rows_total", map[string]string{"result": "failed"}, 1)
		grew("crm_emails_total", map[string]string{"result": "sent"}, 2)
		grew("crm_emails_total", map[string]string{"result": "skipped"}, 1)
		grew("crm_jobs_total", jobDone, 1)
		grew("crm_job_duration_seconds", jobDone, 1)
		grew("crm_jobs_total", map[string]string{"kind": "import", "state": "completed"}, 1)
		if _, ok := sample(after, "crm_emails_total", map[string]string{"result": "failed"}); !ok {
			t.Error("crm_emails_total{result=failed} is not reported at zero")
		}
		// the pools of the engine
		pools := []string{"sqlite_writer", "sqlite_readers"}
		if db.Pool != nil {
			pools = []string{"primary"}
		}
		for _, p := range pools {
			if v, ok := sample(after, "crm_db_pool_max_connections", map[string]string{"pool": p}); !ok || v < 1 {
				t.Errorf("pool %s: max open %v %v", p, v, ok)
			}
			if v, ok := sample(after, "crm_db_pool_open_connections", map[string]string{"pool": p}); !ok || v < 1 {
				t.Errorf("pool %s: open %v %v", p, v, ok)
			}
			if _, ok := sample(after, "crm_db_pool_waits_total", map[string]string{"pool": p}); !ok {
				t.Errorf("pool %s: no wait count", p)
			}
		}
		// Go and process collectors
		for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
			if after[name] == nil {
				t.Errorf("no %s", name)
			}
		}
		// no raw path became a label
		for _, f := range after {
			for _, m := range f.Metric {
				for _, l := range m.Label {
					if strings.Contains(l.GetValue(), "123456789") || strings.Contains(l.GetValue(), "987654321") {
						t.Errorf("%s has a raw path label %s=%q", f.GetName(), l.GetName(), l.GetValue())
					}
				}
			}
		}
		grew("crm_http_requests_total", map[string]string{"route": "/", "code": "303"}, 1) // the catch-all, signed out
	})
}

// TestMetricsNotPublic: with a token /metrics needs it; without one it is
// not served on the main address at all.
func TestMetricsNotPublic(t *testing.T) {
	db := testdb.Open(t, "sqlite")
	e := opsEnv(t, db, metricsToken)
	get := func(base, auth string) (int, string) {
		req, _ := http.NewRequest("GET", base+"/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, auth := range []string{"", "Bearer wrong-token-0123456789abcdef", "Bearer " + metricsToken[:len(metricsToken)-1], "Basic " + metricsToken, metricsToken} {
		if st, body := get(e.srv.URL, auth); st != 401 || strings.Contains(body, "crm_") {
			t.Errorf("auth %q: %d %.80s", auth, st, body)
		}
	}
	if st, body := get(e.srv.URL, "Bearer "+metricsToken); st != 200 || !strings.Contains(body, "crm_http_requests_total") {
		t.Errorf("with the token: %d %.200s", st, body)
	}
	// a session is no key to metrics either
	closed := opsEnv(t, testdb.Open(t, "sqlite"), "")
	for _, auth := range []string{"", "Bearer " + metricsToken, "Bearer "} {
		if st, body := get(closed.srv.URL, auth); st != 404 || strings.Contains(body, "crm_") {
			t.Errorf("no token set, auth %q: %d %.80s", auth, st, body)
		}
	}
}

// logBuffer collects JSON log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) lines(t *testing.T) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

// proxy forwards TCP connections to target until cut, which closes the
// listener and every connection: the database becomes unreachable.
type proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}

// TestReadyz: 200 when the database answers with the current schema; 503
// with the reason when a migration is missing or the database is gone;
// the not-ready request's two log lines carry one request id.
func TestReadyz(t *testing.T) {
	for _, engine := range testdb.Engines() {
		t.Run(engine, func(t *testing.T) {
			dsn := testdb.DSN(t, engine)
			// the store the check uses reaches the database through a proxy
			// that the test cuts (PostgreSQL) or is closed (SQLite)
			main, err := store.Open(t.Context(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { main.Close() })
			checkDSN := dsn
			var px *proxy
			if engine == "postgres" {
				px = newProxy(t, "127.0.0.1:5432")
				checkDSN = strings.Replace(dsn, "127.0.0.1:5432", px.ln.Addr().String(), 1) + "&connect_timeout=2"
			}
			checked, err := store.Open(t.Context(), checkDSN)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { checked.Close() })
			logs := &logBuffer{}
			e := newEnv(t, main, func(d *server.Deps) {
				d.Ready = checked.Ready
				d.Log = slog.New(obs.Handler{Handler: slog.NewJSONHandler(logs, nil)})
			})
			readyz := func(id string) (int, map[string]any, string) {
				req, _ := http.NewRequest("GET", e.srv.URL+"/readyz", nil)
				if id != "" {
					req.Header.Set("X-Request-ID", id)
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				var body map[string]any
				if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
					t.Fatalf("readyz: not JSON (%d): %v", res.StatusCode, err)
				}
				return res.StatusCode, body, res.Header.Get("X-Request-ID")
			}
			if st, body, _ := readyz(""); st != 200 || body["status"] != "ready" {
				t.Fatalf("current schema: %d %v", st, body)
			}
			// healthz and readyz answer without a session (no redirect to sign-in)
			if st, _, _ := readyz(""); st != 200 {
				t.Fatal(st)
			}

			// a database whose newest migration is not applied (the state
			// an older binary or backup leaves): not ready
			var newest int64
			if err := main.SQL.QueryRowContext(t.Context(), `SELECT max(version_id) FROM goose_db_version`).Scan(&newest); err != nil {
				t.Fatal(err)
			}
			if _, err := main.SQL.ExecContext(t.Context(), `DELETE FROM goose_db_version WHERE version_id = $1`, newest); err != nil {
				t.Fatal(err)
			}
			st, body, id := readyz("probe-42.a_b:c")
			if st != 503 || !strings.Contains(fmt.Sprint(body["reason"]), fmt.Sprintf("schema not current: migration %d not applied", newest)) {
				t.Fatalf("schema behind: %d %v", st, body)
			}
			if id != "probe-42.a_b:c" {
				t.Fatalf("a sane X-Request-ID is kept: %q", id)
			}
			var mine []map[string]any
			for _, l := range logs.lines(t) {
				if l["request_id"] == id {
					mine = append(mine, l)
				}
			}
			if len(mine) != 2 || mine[0]["msg"] != "not ready" || mine[1]["msg"] != "request" || mine[1]["status"] != 503.0 {
				t.Fatalf("the request's log lines: %v", mine)
			}
			if _, err := main.SQL.ExecContext(t.Context(), `INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, true)`, newest); err != nil {
				t.Fatal(err)
			}
			if st, body, _ := readyz("bad id forged=1"); st != 200 {
				t.Fatalf("schema current again: %d %v", st, body)
			}

			// the database becomes unreachable
			if px != nil {
				px.cut()
			} else {
				checked.Close()
			}
			start := time.Now()
			st, body, id = readyz("")
			if st != 503 || !strings.Contains(fmt.Sprint(body["reason"]), "database unavailable") || time.Since(start) > 5*time.Second {
				t.Fatalf("database gone: %d %v after %s", st, body, time.Since(start))
			}
			if !obs.SaneRequestID(id) || len(id) != 24 {
				t.Fatalf("a new request id: %q", id)
			}
			for _, l := range logs.lines(t) {
				if strings.Contains(fmt.Sprint(l["request_id"]), "forged") {
					t.Fatalf("an insane X-Request-ID was logged: %v", l)
				}
			}
			// liveness is a different question: the process answers
			res, err := http.Get(e.srv.URL + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("healthz %d", res.StatusCode)
			}
		})
	}
}
