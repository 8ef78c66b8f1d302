package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serveInProcess runs crm serve with args until the test ends and returns
// its stdout and stderr once the line matching ready appeared.
func serveInProcess(t *testing.T, ready *regexp.Regexp, args ...string) (*syncBuffer, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), &stdout, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	})
	for deadline := time.Now().Add(60 * time.Second); !ready.MatchString(stdout.String()); {
		select {
		case code := <-done:
			t.Fatalf("serve ended (%d):\n%s\n%s", code, stdout.String(), stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s\n%s", stdout.String(), stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return &stdout, &stderr
}

var (
	runningAt = regexp.MustCompile(`running at (http://\S+)`)
	metricsAt = regexp.MustCompile(`Metrics at (http://\S+)`)
)

func get(t *testing.T, url, auth string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
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

// TestServeMetricsAddrAndJSONLogs: --metrics-addr serves /metrics on its
// own listener without a token while the main address refuses it without
// CRM_METRICS_TOKEN; --log-format json writes JSON lines with request ids.
func TestServeMetricsAddrAndJSONLogs(t *testing.T) {
	dir := t.TempDir()
	both := regexp.MustCompile(`(?s)Metrics at .*running at`)
	stdout, stderr := serveInProcess(t, both, "--db", filepath.Join(dir, "crm.db"), "--data-dir", dir,
		"--metrics-addr", "127.0.0.1:0", "--log-format", "json", "--gravatar", "off")
	base := runningAt.FindStringSubmatch(stdout.String())[1]
	sep := metricsAt.FindStringSubmatch(stdout.String())[1]

	if st, body := get(t, base+"/readyz", ""); st != 200 || !strings.Contains(body, "ready") {
		t.Fatalf("readyz: %d %s", st, body)
	}
	if st, _ := get(t, base+"/crm/customers/42", ""); st != 200 { // to the sign-in page
		t.Fatalf("page: %d", st)
	}
	if st, body := get(t, base+"/metrics", ""); st != 404 || strings.Contains(body, "crm_") {
		t.Fatalf("main address without a token setting: %d %.100s", st, body)
	}
	if st, body := get(t, base+"/metrics", "Bearer anything-at-all-0123456789"); st != 404 {
		t.Fatalf("main address, a guessed token: %d %.100s", st, body)
	}
	st, body := get(t, sep, "")
	if st != 200 || !strings.Contains(body, `crm_http_requests_total{code="303",route="GET /crm/customers/{id}"}`) ||
		!strings.Contains(body, `crm_db_pool_max_connections{pool="sqlite_writer"} 1`) || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("separate metrics address: %d\n%s", st, body)
	}
	if st, _ := get(t, strings.TrimSuffix(sep, "/metrics")+"/crm/customers", ""); st != 404 {
		t.Fatalf("the metrics listener serves only metrics: %d", st)
	}

	// every line on stderr is JSON; the page request's line has its id
	var sawRequest bool
	sc := bufio.NewScanner(strings.NewReader(stderr.String()))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not a JSON line: %q", sc.Text())
		}
		if m["msg"] == "request" && m["path"] == "/crm/customers/42" {
			sawRequest = true
			if id, _ := m["request_id"].(string); len(id) != 24 {
				t.Fatalf("request line without an id: %v", m)
			}
		}
	}
	if !sawRequest {
		t.Fatalf("no request line:\n%s", stderr.String())
	}
}

// TestMetricsTokenOnMainAddress: with CRM_METRICS_TOKEN the main address
// serves /metrics to that bearer only.
func TestMetricsTokenOnMainAddress(t *testing.T) {
	const token = "a-long-metrics-token-for-tests-42"
	t.Setenv("CRM_METRICS_TOKEN", token)
	dir := t.TempDir()
	stdout, _ := serveInProcess(t, runningAt, "--db", filepath.Join(dir, "crm.db"), "--data-dir", dir, "--gravatar", "off")
	base := runningAt.FindStringSubmatch(stdout.String())[1]
	if st, _ := get(t, base+"/metrics", ""); st != 401 {
		t.Fatalf("no token: %d", st)
	}
	if st, _ := get(t, base+"/metrics", "Bearer "+token+"x"); st != 401 {
		t.Fatalf("wrong token: %d", st)
	}
	if st, body := get(t, base+"/metrics", "Bearer "+token); st != 200 || !strings.Contains(body, "crm_db_pool_open_connections") {
		t.Fatalf("token: %d %.200s", st, body)
	}
	// too short a token is refused at start
	t.Setenv("CRM_METRICS_TOKEN", "short")
	if code, _, stderr := runCLI("serve", "--db", filepath.Join(dir, "other.db")); code != 1 || !strings.Contains(stderr, "shorter than 16") {
		t.Fatalf("short token: %d %s", code, stderr)
	}
}

// TestBackupWhileWriting takes a backup while a writer keeps adding
// customers (each a customer, its e-mail contact, a tag and an activity
// entry in one transaction) and restores it into an empty database: the
// restored database passes the engine's integrity check, holds every
// customer committed before the backup began, and is one snapshot: the
// customers it holds are exactly the first k written, each whole.
func TestBackupWhileWriting(t *testing.T) {
	for _, engine := range testdb.Engines() {
		t.Run(engine, func(t *testing.T) {
			if engine == "postgres" {
				if _, err := exec.LookPath("pg_dump"); err != nil {
					if os.Getenv("CI") != "" {
						t.Fatal("pg_dump is not installed; CI (.ci/run) installs it")
					}
					t.Skip("pg_dump is not installed")
				}
			}
			t.Parallel()
			ctx := context.Background()
			dsn := testdb.DSN(t, engine)
			db, err := store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			cs := customers.New(db)

			var mu sync.Mutex
			var committed []int64 // ids in commit order (one writer)
			stop := make(chan struct{})
			writerDone := make(chan error, 1)
			go func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						writerDone <- nil
						return
					default:
					}
					c, err := cs.Create(ctx, nil, customers.NewCustomer{FullName: fmt.Sprintf("Writer %05d", i),
						Contact: &customers.ContactInput{Channel: crm.ChannelEmail, Value: fmt.Sprintf("w%05d@example.com", i)},
						Tags:    []string{"written"}, CompanyName: fmt.Sprintf("Company %d", i%7), Source: "test"})
					if err != nil {
						writerDone <- err
						return
					}
					mu.Lock()
					committed = append(committed, c.ID)
					mu.Unlock()
				}
			}()
			count := func() int { mu.Lock(); defer mu.Unlock(); return len(committed) }
			for count() < 30 {
				time.Sleep(5 * time.Millisecond)
			}
			mu.Lock()
			before := append([]int64(nil), committed...)
			mu.Unlock()
			file := filepath.Join(t.TempDir(), "crm.backup")
			code, out, errOut := runCLI("backup", "--db", dsn, "--out", file)
			if code != 0 || !strings.Contains(out, "Backed up") {
				t.Fatalf("backup: %d %s %s", code, out, errOut)
			}
			during := count()
			for count() < during+20 { // the writer kept writing during the backup and after
				time.Sleep(5 * time.Millisecond)
			}
			close(stop)
			if err := <-writerDone; err != nil {
				t.Fatalf("writer: %v", err)
			}
			if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("backup file: %v %v", fi, err)
			}

			target := testdb.DSN(t, engine)
			code, out, errOut = runCLI("restore", file, "--db", target)
			if code != 0 || !strings.Contains(out, "Restored") {
				t.Fatalf("restore: %d %s %s", code, out, errOut)
			}
			// never over data
			if code, _, errOut := runCLI("restore", file, "--db", target); code != 1 || !strings.Contains(errOut, "not empty") {
				t.Fatalf("second restore: %d %s", code, errOut)
			}
			rdb, err := store.Open(ctx, target)
			if err != nil {
				t.Fatal(err)
			}
			defer rdb.Close()
			if engine == "sqlite" {
				var res string
				if err := rdb.SQL.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res); err != nil || res != "ok" {
					t.Fatalf("integrity_check: %q %v", res, err)
				}
				rows, err := rdb.SQL.QueryContext(ctx, `PRAGMA foreign_key_check`)
				if err != nil {
					t.Fatal(err)
				}
				if rows.Next() {
					t.Fatal("foreign_key_check found rows pointing nowhere")
				}
				rows.Close()
			} else {
				var invalid int
				if err := rdb.SQL.QueryRowContext(ctx, `SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
					WHERE n.nspname = 'public' AND NOT c.convalidated`).Scan(&invalid); err != nil || invalid != 0 {
					t.Fatalf("constraints not validated: %d %v", invalid, err)
				}
			}
			if err := rdb.Ready(ctx); err != nil {
				t.Fatalf("restored schema: %v", err)
			}

			restored := map[int64]bool{}
			rows, err := rdb.SQL.QueryContext(ctx, `SELECT id FROM customers`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					t.Fatal(err)
				}
				restored[id] = true
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			rows.Close()
			for _, id := range before {
				if !restored[id] {
					t.Fatalf("customer %d, committed before the backup began, is not in it", id)
				}
			}
			mu.Lock()
			k := len(restored)
			all := committed
			mu.Unlock()
			if k < len(before) || k > len(all) || k >= len(all) {
				t.Fatalf("restored %d customers; %d were committed before the backup, %d in all", k, len(before), len(all))
			}
			for i, id := range all {
				if restored[id] != (i < k) {
					t.Fatalf("not one snapshot: the restored customers are not the first %d written (customer #%d, id %d)", k, i, id)
				}
			}
			for id := range restored {
				c, err := rdb.GetCustomer(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if len(c.Contacts) != 1 || len(c.Tags) != 1 || c.Company == nil {
					t.Fatalf("customer %d restored in part: %d contacts, tags %v, company %v", id, len(c.Contacts), c.Tags, c.Company)
				}
			}
			t.Logf("%s: %d customers before the backup, %d in it, %d written in all", engine, len(before), k, len(all))
		})
	}
}

// TestRestoreRefusals: a backup of the other engine, a file that is no
// backup, and a missing --db are refused with a clear message.
func TestRestoreRefusals(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.bin")
	os.WriteFile(junk, []byte("hello, this is not a database"), 0o600)
	if code, _, errOut := runCLI("restore", junk, "--db", filepath.Join(dir, "new.db")); code != 1 || !strings.Contains(errOut, "not a SQLite backup") {
		t.Fatalf("junk: %d %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "new.db")); err == nil {
		t.Fatal("a refused restore left a database file")
	}
	if code, _, errOut := runCLI("restore", junk); code != 2 || !strings.Contains(errOut, "--db") {
		t.Fatalf("no --db: %d %s", code, errOut)
	}
	src := filepath.Join(dir, "src.db")
	if code, _, errOut := runCLI("migrate", "--db", src); code != 0 {
		t.Fatal(errOut)
	}
	if code, _, errOut := runCLI("backup", "--db", src, "--out", src); code != 1 || !strings.Contains(errOut, "the database itself") {
		t.Fatalf("backup over itself: %d %s", code, errOut)
	}
	if code, _, errOut := runCLI("backup", "--db", filepath.Join(dir, "missing.db"), "--out", junk); code != 1 || !strings.Contains(errOut, "no SQLite database") {
		t.Fatalf("backup of nothing: %d %s", code, errOut)
	}
	if code, _, errOut := runCLI("backup", "--db", src); code != 2 || !strings.Contains(errOut, "--out") {
		t.Fatalf("no --out: %d %s", code, errOut)
	}
	if os.Getenv("CRM_TEST_POSTGRES") != "" {
		pg := testdb.DSN(t, "postgres")
		bak := filepath.Join(dir, "sqlite.backup")
		if code, _, errOut := runCLI("backup", "--db", src, "--out", bak); code != 0 {
			t.Fatal(errOut)
		}
		if code, _, errOut := runCLI("restore", bak, "--db", pg); code != 1 || !strings.Contains(errOut, "is a SQLite backup") {
			t.Fatalf("sqlite backup into postgres: %d %s", code, errOut)
		}
	}
}
