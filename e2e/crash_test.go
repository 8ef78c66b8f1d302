package e2e

// Crash tests (issue 16, item 4): the real binary is killed with SIGKILL in
// the middle of a background job and started again on the same database;
// the job must finish by itself, exactly once per customer or contact, and
// a job left stuck by the crash must be cancellable. No browser: these run
// everywhere, on SQLite and (with CRM_TEST_POSTGRES) on PostgreSQL.

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/mail"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/acme/crm/internal/accounts"
	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/seed"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// rescueAfter is CRM_JOB_RESCUE_AFTER in these tests: a crashed job is taken
// up again within this plus River's leader hand-over (15 s after a kill) and
// the rescuer's first run.
const rescueAfter = "3s"

// finishWithin bounds every wait for a job after the restart.
const finishWithin = 120 * time.Second

// crashServer is one `crm serve` process on a database that outlives it.
type crashServer struct {
	t      *testing.T
	dsn    string
	dir    string
	env    []string
	cmd    *exec.Cmd
	url    string
	token  string
	stderr *syncBuffer
}

// start runs the binary on the server's database and waits until it serves.
func (s *crashServer) start() {
	t := s.t
	t.Helper()
	cmd := exec.Command(binary(t), "serve", "--addr", "127.0.0.1:0", "--db", s.dsn, "--data-dir", s.dir)
	cmd.Env = append(append(os.Environ(), "CRM_JOB_RESCUE_AFTER="+rescueAfter, "CRM_GRAVATAR_URL="+noGravatar()+"/avatar/"), s.env...)
	s.stderr = &syncBuffer{}
	cmd.Stderr = s.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.cmd = cmd
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := runningAt.FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
			}
		}
	}()
	select {
	case s.url = <-urlc:
	case <-time.After(60 * time.Second):
		t.Fatalf("the server did not start within 60 s:\n%s", s.stderr.String())
	}
}

// kill ends the process at once, as a crash would: nothing is flushed,
// no job is told.
func (s *crashServer) kill() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		s.t.Fatal(err)
	}
	_ = s.cmd.Wait()
}

// stop ends the process gracefully (at the end of the test).
func (s *crashServer) stop() {
	if s.cmd == nil || s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// call sends a JSON (or multipart) request with the admin's token.
func (s *crashServer) call(method, path, contentType string, body io.Reader) (int, map[string]any) {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.url+path, body)
	req.Header.Set("Authorization", "Bearer "+s.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		s.t.Fatalf("%s %s: not JSON (%d): %s", method, path, res.StatusCode, b)
	}
	return res.StatusCode, out
}

func (s *crashServer) api(method, path, body string) (int, map[string]any) {
	s.t.Helper()
	ct := ""
	if body != "" {
		ct = "application/json"
	}
	return s.call(method, path, ct, strings.NewReader(body))
}

// startJob posts a request that answers {"job": {"id"}} and returns the id.
func (s *crashServer) startJob(path, body string) int64 {
	s.t.Helper()
	st, out := s.api("POST", path, body)
	job, _ := out["job"].(map[string]any)
	if st != 202 || job == nil {
		s.t.Fatalf("POST %s: %d %v", path, st, out)
	}
	return int64(job["id"].(float64))
}

// job reads a job: its status and the processed/total of its progress.
func (s *crashServer) job(id int64) (status string, progress map[string]any) {
	s.t.Helper()
	st, j := s.api("GET", fmt.Sprintf("/api/v1/jobs/%d", id), "")
	if st != 200 {
		s.t.Fatalf("job %d: %d %v", id, st, j)
	}
	progress, _ = j["progress"].(map[string]any)
	return j["status"].(string), progress
}

func num(m map[string]any, k string) int {
	f, _ := m[k].(float64)
	return int(f)
}

// waitMidway polls until done() says the work has started and not ended,
// failing when it ends first or takes too long.
func waitMidway(t *testing.T, what string, probe func() (started, ended bool)) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		started, ended := probe()
		if ended {
			t.Fatalf("%s ended before it could be interrupted: give it more work", what)
		}
		if started {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s made no progress within 90 s", what)
}

// waitJobEnd polls a job until it ends and returns its status and progress.
func (s *crashServer) waitJobEnd(id int64) (string, map[string]any) {
	s.t.Helper()
	deadline := time.Now().Add(finishWithin)
	for time.Now().Before(deadline) {
		st, p := s.job(id)
		switch st {
		case "done", "failed", "canceled":
			return st, p
		}
		time.Sleep(100 * time.Millisecond)
	}
	st, p := s.job(id)
	s.t.Fatalf("job %d is still %s (%v) %s after the restart", id, st, p, finishWithin)
	return "", nil
}

// newCrashServer makes a fresh database of the engine, seeds it with
// customers (seed.Run) when n > 0, and gives the server the demo admin's
// token; setup runs on the open store before the server starts.
func newCrashServer(t *testing.T, engine string, n int, env []string, setup func(db *store.DB)) *crashServer {
	t.Helper()
	s := &crashServer{t: t, dsn: testdb.DSN(t, engine), dir: t.TempDir(), env: env}
	ctx := context.Background()
	db, err := store.Open(ctx, s.dsn)
	if err != nil {
		t.Fatal(err)
	}
	acc := accounts.New(db)
	acc.Cost = 4
	if _, err := seed.Run(ctx, db, seed.Options{Customers: n, Seed: 7, HashPassword: acc.HashPassword}); err != nil {
		t.Fatal(err)
	}
	admin, err := db.GetUserByEmail(ctx, seed.DemoAdminEmail)
	if err != nil {
		t.Fatal(err)
	}
	if s.token, _, err = acc.CreateToken(ctx, nil, admin.ID, "crash test"); err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(db)
	}
	db.Close()
	t.Cleanup(s.stop)
	s.start()
	return s
}

// db opens the server's database from the test (for checks).
func (s *crashServer) db() *store.DB {
	s.t.Helper()
	db, err := store.Open(context.Background(), s.dsn)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { db.Close() })
	return db
}

// counts runs a query of (id, count) rows into a map.
func counts(t *testing.T, db *sql.DB, query string, args ...any) map[int64]int {
	t.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func ids(t *testing.T, db *sql.DB, query string, args ...any) []int64 {
	t.Helper()
	var out []int64
	for id := range counts(t, db, "SELECT id, 1 FROM ("+query+") q", args...) {
		out = append(out, id)
	}
	return out
}

// TestCrashResume kills the server in the middle of a bulk tag, a bulk
// archive, a segment send and an import, on each engine, and checks that
// each finishes by itself after the restart, exactly once per customer or
// contact; and that a job left running by the crash can be cancelled.
// Each case has a server and database of its own and they all run at once:
// most of their time is River's leader hand-over after the kill.
func TestCrashResume(t *testing.T) {
	for _, engine := range testdb.Engines() {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			cases := map[string]func(*testing.T, string){
				"bulk tag":     crashBulkTag,
				"bulk archive": crashBulkArchive,
				"segment send": crashSegmentSend,
				"import":       crashImport,
				"cancel stuck": crashCancelStuck,
			}
			var wg sync.WaitGroup
			for name, run := range cases {
				// not t.Parallel: go test runs only GOMAXPROCS of those at
				// once, and these mostly wait
				wg.Add(1)
				go func() {
					defer wg.Done()
					t.Run(name, func(t *testing.T) { run(t, engine) })
				}()
			}
			wg.Wait()
		})
	}
}

const bulkCustomers = 20_000 // four chunks of customers.BulkChunk

// crashBulk starts a bulk job, kills the server when the job has done part
// of it, restarts and waits for the end.
func crashBulk(t *testing.T, s *crashServer, body string) (int64, map[string]any) {
	id := s.startJob("/api/v1/customers/bulk", body)
	waitMidway(t, "the bulk job", func() (bool, bool) {
		st, p := s.job(id)
		return num(p, "processed") > 0, st == "done" || num(p, "processed") >= bulkCustomers
	})
	s.kill()
	s.start()
	st, p := s.waitJobEnd(id)
	if st != "done" {
		t.Fatalf("bulk job after the restart: %s %v\n%s", st, p, s.stderr.String())
	}
	return id, p
}

func crashBulkTag(t *testing.T, engine string) {
	s := newCrashServer(t, engine, bulkCustomers, nil, nil)
	db := s.db()
	var before int64
	if err := db.SQL.QueryRow(`SELECT coalesce(max(id), 0) FROM activity`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	_, p := crashBulk(t, s, `{"action":"tag","tags":["crash-tag"],"filter":{"archived":"all"}}`)
	live := ids(t, db.SQL, `SELECT id FROM customers WHERE merged_into IS NULL`)
	logged := counts(t, db.SQL, `SELECT customer_id, count(*) FROM activity WHERE id > $1 AND kind = 'tag_added' GROUP BY customer_id`, before)
	tagged := counts(t, db.SQL, `SELECT ct.customer_id, count(*) FROM customer_tags ct JOIN tags g ON g.id = ct.tag_id WHERE g.name = 'crash-tag' GROUP BY ct.customer_id`)
	for _, id := range live {
		if logged[id] != 1 || tagged[id] != 1 {
			t.Fatalf("customer %d: %d tag entries in its activity, tagged %d times (want 1 and 1)", id, logged[id], tagged[id])
		}
	}
	if len(logged) != len(live) || len(tagged) != len(live) {
		t.Fatalf("%d live customers, %d logged, %d tagged", len(live), len(logged), len(tagged))
	}
	if num(p, "processed") != bulkCustomers || num(p, "done") != len(live) || num(p, "done")+num(p, "skipped") != bulkCustomers {
		t.Fatalf("the job's counts: %v (want %d processed, %d done)", p, bulkCustomers, len(live))
	}
}

func crashBulkArchive(t *testing.T, engine string) {
	s := newCrashServer(t, engine, bulkCustomers, nil, nil)
	db := s.db()
	var before int64
	if err := db.SQL.QueryRow(`SELECT coalesce(max(id), 0) FROM activity`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	active := ids(t, db.SQL, `SELECT id FROM customers WHERE archived_at IS NULL AND merged_into IS NULL`)
	_, p := crashBulk(t, s, `{"action":"archive","filter":{"archived":"false"}}`)
	logged := counts(t, db.SQL, `SELECT customer_id, count(*) FROM activity WHERE id > $1 AND kind = 'archived' GROUP BY customer_id`, before)
	for _, id := range active {
		if logged[id] != 1 {
			t.Fatalf("customer %d: %d archive entries in its activity (want 1)", id, logged[id])
		}
	}
	if len(logged) != len(active) {
		t.Fatalf("%d customers were active, %d have an archive entry", len(active), len(logged))
	}
	var left int
	if err := db.SQL.QueryRow(`SELECT count(*) FROM customers WHERE archived_at IS NULL`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d customers still active (%v)", left, err)
	}
	if num(p, "done") != len(active) || num(p, "processed") != len(active) {
		t.Fatalf("the job's counts: %v (want %d processed and done)", p, len(active))
	}
}

// crashCancelStuck: a job whose process died shows running until River's
// rescuer finds it; cancelling it then must end it "canceled" (not resumed),
// with what it did before the crash kept and counted.
func crashCancelStuck(t *testing.T, engine string) {
	s := newCrashServer(t, engine, bulkCustomers, nil, nil)
	db := s.db()
	var before int64
	if err := db.SQL.QueryRow(`SELECT coalesce(max(id), 0) FROM activity`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	id := s.startJob("/api/v1/customers/bulk", `{"action":"tag","tags":["stuck-tag"],"filter":{"archived":"all"}}`)
	waitMidway(t, "the bulk job", func() (bool, bool) {
		st, p := s.job(id)
		return num(p, "processed") > 0, st == "done" || num(p, "processed") >= bulkCustomers
	})
	s.kill()
	s.start()
	st, out := s.api("POST", fmt.Sprintf("/api/v1/jobs/%d/cancel", id), "")
	if st != 202 && st != 200 {
		t.Fatalf("cancel the stuck job: %d %v", st, out)
	}
	status, p := s.waitJobEnd(id)
	if status != "canceled" {
		t.Fatalf("the cancelled job ended %s %v", status, p)
	}
	logged := counts(t, db.SQL, `SELECT customer_id, count(*) FROM activity WHERE id > $1 AND kind = 'tag_added' GROUP BY customer_id`, before)
	for cid, n := range logged {
		if n != 1 {
			t.Fatalf("customer %d tagged %d times", cid, n)
		}
	}
	if len(logged) == 0 || len(logged) != num(p, "done") || num(p, "processed") >= bulkCustomers {
		t.Fatalf("%d customers tagged; the job's progress says %v", len(logged), p)
	}
	if st, out := s.api("POST", fmt.Sprintf("/api/v1/jobs/%d/cancel", id), ""); st != 409 {
		t.Fatalf("cancelling an ended job: %d %v", st, out)
	}
}

const segmentCustomers = 500

// crashSegmentSend: a send to a segment over a real SMTP server in the test
// process, killed mid-way. Each address receives at most one message; all
// but the one (at most) in flight at the kill receive exactly one.
func crashSegmentSend(t *testing.T, engine string) {
	mails := startSMTP(t)
	var segID int64
	addr := func(i int) string { return fmt.Sprintf("member%04d@crash.example", i) }
	env := []string{"CRM_SMTP_HOST=127.0.0.1", fmt.Sprintf("CRM_SMTP_PORT=%d", mails.port)}
	s := newCrashServer(t, engine, 0, env, func(db *store.DB) {
		ctx := context.Background()
		sg := &crm.Segment{Name: "Crash", CreatedAt: time.Now()}
		if err := db.CreateSegment(ctx, sg); err != nil {
			t.Fatal(err)
		}
		segID = sg.ID
		var members []int64
		err := db.InTx(ctx, func(tx crm.Store) error {
			for i := range segmentCustomers {
				id, err := tx.CreateCustomer(ctx, crm.NewCustomer{FullName: fmt.Sprintf("Member %d", i), CreatedAt: time.Now()})
				if err != nil {
					return err
				}
				if err := tx.AddContact(ctx, &crm.Contact{CustomerID: id, Channel: crm.ChannelEmail, Value: addr(i)}, time.Now()); err != nil {
					return err
				}
				members = append(members, id)
			}
			_, err := tx.AddSegmentMembers(ctx, sg.ID, members, time.Now())
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	id := s.startJob(fmt.Sprintf("/api/v1/segments/%d/send", segID), `{"subject":"Crash course","body":"Hello"}`)
	waitMidway(t, "the segment send", func() (bool, bool) {
		st, _ := s.job(id)
		n := mails.count()
		return n >= 50, st == "done" || n >= segmentCustomers
	})
	s.kill()
	s.start()
	status, p := s.waitJobEnd(id)
	if status != "done" {
		t.Fatalf("segment send after the restart: %s %v\n%s", status, p, s.stderr.String())
	}
	got := mails.byAddress()
	db := s.db()
	var unknown int
	if err := db.SQL.QueryRow(`SELECT count(*) FROM segment_deliveries WHERE job_id = $1 AND status = 'sending'`, id).Scan(&unknown); err != nil {
		t.Fatal(err)
	}
	missing := 0
	for i := range segmentCustomers {
		switch n := got[addr(i)]; {
		case n > 1:
			t.Fatalf("%s received %d messages", addr(i), n)
		case n == 0:
			missing++
		}
	}
	if missing > unknown || unknown > 1 {
		t.Fatalf("%d members received nothing; %d deliveries were in flight at the kill (at most 1)", missing, unknown)
	}
	if num(p, "sent")+num(p, "unknown") != segmentCustomers || num(p, "unknown") != unknown {
		t.Fatalf("the job's counts: %v (want sent+unknown = %d, unknown = %d)", p, segmentCustomers, unknown)
	}
}

const importRows = 100_000

// crashImport: an import killed mid-way resumes from its saved position:
// every row becomes exactly one customer with one "created" entry.
func crashImport(t *testing.T, engine string) {
	s := newCrashServer(t, engine, 0, nil, nil)
	var csv bytes.Buffer
	csv.WriteString("full_name,email\n")
	for i := range importRows {
		fmt.Fprintf(&csv, "Row %d,row%06d@import.example\n", i, i)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "crash.csv")
	_, _ = fw.Write(csv.Bytes())
	_ = mw.Close()
	st, up := s.call("POST", "/api/v1/imports", mw.FormDataContentType(), &body)
	if st != 201 {
		t.Fatalf("upload: %d %v", st, up)
	}
	imp := int64(up["id"].(float64))
	if st, out := s.api("POST", fmt.Sprintf("/api/v1/imports/%d/submit", imp), ""); st != 202 {
		t.Fatalf("submit: %d %v", st, out)
	}
	get := func() map[string]any {
		st, j := s.api("GET", fmt.Sprintf("/api/v1/imports/%d", imp), "")
		if st != 200 {
			t.Fatalf("import: %d %v", st, j)
		}
		return j
	}
	waitMidway(t, "the import", func() (bool, bool) {
		j := get()
		return num(j, "processed") > 0, j["status"] == "done" || num(j, "processed") >= importRows
	})
	s.kill()
	s.start()
	deadline := time.Now().Add(finishWithin)
	j := get()
	for j["status"] != "done" && time.Now().Before(deadline) {
		if j["status"] == "failed" || j["status"] == "canceled" {
			break
		}
		time.Sleep(100 * time.Millisecond)
		j = get()
	}
	if j["status"] != "done" || num(j, "created") != importRows || num(j, "processed") != importRows || num(j, "skipped") != 0 {
		t.Fatalf("the import after the restart: %v\n%s", j, s.stderr.String())
	}
	db := s.db()
	var customers, distinct, imported int
	if err := db.SQL.QueryRow(`SELECT count(*), count(DISTINCT primary_email) FROM customers WHERE primary_email LIKE '%@import.example'`).Scan(&customers, &distinct); err != nil {
		t.Fatal(err)
	}
	if err := db.SQL.QueryRow(`SELECT count(*) FROM activity WHERE kind = 'created'`).Scan(&imported); err != nil {
		t.Fatal(err)
	}
	if customers != importRows || distinct != importRows || imported != importRows {
		t.Fatalf("%d customers (%d addresses), %d \"created\" entries for %d rows", customers, distinct, imported, importRows)
	}
}

// crashSMTP is a real SMTP server in the test process (it outlives the
// killed server) that counts messages per recipient.
type crashSMTP struct {
	mu   sync.Mutex
	to   map[string]int
	n    int
	port int
}

func startSMTP(t *testing.T) *crashSMTP {
	s := &crashSMTP{to: map[string]int{}}
	srv := gosmtp.NewServer(s)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	s.port = ln.Addr().(*net.TCPAddr).Port
	return s
}

func (s *crashSMTP) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func (s *crashSMTP) byAddress() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.to))
	for k, v := range s.to {
		out[k] = v
	}
	return out
}

func (s *crashSMTP) NewSession(*gosmtp.Conn) (gosmtp.Session, error) {
	return &crashSession{s: s}, nil
}

type crashSession struct {
	s  *crashSMTP
	to []string
}

func (x *crashSession) Reset()                                 { x.to = nil }
func (x *crashSession) Logout() error                          { return nil }
func (x *crashSession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (x *crashSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}

func (x *crashSession) Data(r io.Reader) error {
	if _, err := mail.ReadMessage(r); err != nil {
		return err
	}
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	for _, to := range x.to {
		x.s.to[strings.ToLower(to)]++
		x.s.n++
	}
	return nil
}
