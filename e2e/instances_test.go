package e2e

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme/crm/internal/seed"
)

// Two `crm serve` processes on one PostgreSQL database, each with a data
// folder of its own, behave as one product (issue 14, item 1): a session
// made on one is valid on the other, jobs queued through both run exactly
// once each, and an import uploaded through one is mapped, previewed,
// submitted and completed through the other.
func TestTwoInstancesOneDatabase(t *testing.T) {
	binary(t)
	a := newCrashServer(t, "postgres", 600, nil, nil)
	b := &crashServer{t: t, dsn: a.dsn, dir: t.TempDir(), token: a.token} // a data folder of its own
	t.Cleanup(b.stop)
	b.start()

	t.Run("session", func(t *testing.T) { twoInstanceSession(t, a, b) })
	t.Run("jobs", func(t *testing.T) { twoInstanceJobs(t, a, b) })
	t.Run("import", func(t *testing.T) { twoInstanceImport(t, a, b) })
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// page GETs a page with the client (its cookies) without following a
// redirect, and returns the status, the Location and the body.
func page(t *testing.T, c *http.Client, u string) (int, string, string) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Location"), string(b)
}

func twoInstanceSession(t *testing.T, a, b *crashServer) {
	jar, _ := cookiejar.New(nil) // cookies are kept per host, not per port: both servers see them
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	_, _, body := page(t, c, a.url+"/login")
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no form token on the sign-in page of A:\n%s", body)
	}
	res, err := c.PostForm(a.url+"/login", url.Values{"csrf_token": {m[1]}, "email": {seed.DemoAdminEmail}, "password": {seed.DemoPassword}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") == "/login" {
		t.Fatalf("signing in on A: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	// the session made on A opens B's customer table
	st, loc, body := page(t, c, b.url+"/crm/customers")
	if st != http.StatusOK || !strings.Contains(body, `class="sidenav`) {
		t.Fatalf("B with A's session: %d (to %q)", st, loc)
	}
	// a form on B takes the token of the shared session; signing out on B ends it on A too
	m = csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no form token on B's page")
	}
	res, err = c.PostForm(b.url+"/logout", url.Values{"csrf_token": {m[1]}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("signing out on B: %d", res.StatusCode)
	}
	if st, loc, _ := page(t, c, a.url+"/crm/customers"); st != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
		t.Fatalf("A after signing out on B: %d to %q, want the sign-in page", st, loc)
	}
}

func twoInstanceJobs(t *testing.T, a, b *crashServer) {
	const jobs = 20
	ids := make([]int64, jobs)
	var wg sync.WaitGroup
	for i := range jobs {
		wg.Add(1)
		go func() { // queued at once, half through each process
			defer wg.Done()
			s := a
			if i%2 == 1 {
				s = b
			}
			ids[i] = s.startJob("/api/v1/customers/bulk", fmt.Sprintf(`{"action":"tag","tags":["both-%02d"],"filter":{"archived":"all"}}`, i))
		}()
	}
	wg.Wait()
	for i, id := range ids {
		s := b
		if i%2 == 1 {
			s = a // read through the other process than the one that queued it
		}
		if st, p := s.waitJobEnd(id); st != "done" {
			t.Fatalf("job %d: %s %v", id, st, p)
		}
	}
	db := a.db()
	var live int
	if err := db.SQL.QueryRow(`SELECT count(*) FROM customers WHERE merged_into IS NULL`).Scan(&live); err != nil {
		t.Fatal(err)
	}
	// each job tagged every customer once, and logged it once
	rows, err := db.SQL.Query(`SELECT g.name, count(ct.customer_id),
	       (SELECT count(*) FROM activity x WHERE x.kind = 'tag_added' AND x.data LIKE '%"' || g.name || '"%')
	  FROM tags g LEFT JOIN customer_tags ct ON ct.tag_id = g.id WHERE g.name LIKE 'both-%' GROUP BY g.id, g.name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var name string
		var tagged, logged int
		if err := rows.Scan(&name, &tagged, &logged); err != nil {
			t.Fatal(err)
		}
		seen++
		if tagged != live || logged != live {
			t.Errorf("%s: %d customers tagged and %d entries logged, want %d and %d", name, tagged, logged, live, live)
		}
	}
	if seen != jobs {
		t.Fatalf("%d tags made, want %d", seen, jobs)
	}
	// River ran each job once (one attempt), and both processes took part
	var once, runners int
	if err := db.SQL.QueryRow(`SELECT count(*) FILTER (WHERE attempt = 1 AND state = 'completed'),
	        count(DISTINCT attempted_by[1]) FROM river_job WHERE kind = 'bulk'`).Scan(&once, &runners); err != nil {
		t.Fatal(err)
	}
	if once != jobs {
		t.Fatalf("%d of %d bulk jobs ran exactly once", once, jobs)
	}
	t.Logf("the %d jobs ran on %d processes", jobs, runners)
}

func twoInstanceImport(t *testing.T, a, b *crashServer) {
	const rows = 3000
	var csv bytes.Buffer
	csv.WriteString("Full name;E-mail;Town\n")
	for i := range rows {
		fmt.Fprintf(&csv, "Both %d;both%05d@instances.example;Lyon\n", i, i)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "both.csv")
	_, _ = fw.Write(csv.Bytes())
	_ = mw.Close()
	st, up := a.call("POST", "/api/v1/imports", mw.FormDataContentType(), &body) // uploaded through A
	if st != 201 {
		t.Fatalf("upload on A: %d %v", st, up)
	}
	id := int64(up["id"].(float64))
	// A's data folder is on another machine than B's: nothing of the upload
	// may be read from it (A keeps its copy as a cache only)
	if err := os.RemoveAll(filepath.Join(a.dir, "imports")); err != nil {
		t.Fatal(err)
	}
	// set up, previewed and submitted through B, which never saw the file
	if st, out := b.api("GET", fmt.Sprintf("/api/v1/imports/%d", id), ""); st != 200 || out["samples"] == nil {
		t.Fatalf("the mapping step on B: %d %v", st, out)
	}
	if st, out := b.api("PUT", fmt.Sprintf("/api/v1/imports/%d/mapping", id),
		`{"mapping":{"Full name":"full_name","E-mail":"email","Town":null},"mode":"create"}`); st != 200 {
		t.Fatalf("mapping on B: %d %v", st, out)
	}
	st, pv := b.api("GET", fmt.Sprintf("/api/v1/imports/%d/preview", id), "")
	if counts, _ := pv["counts"].(map[string]any); st != 200 || num(counts, "rows") != rows || num(counts, "valid") != rows {
		t.Fatalf("preview on B: %d %v", st, pv["counts"])
	}
	if st, out := b.api("POST", fmt.Sprintf("/api/v1/imports/%d/submit", id), ""); st != 202 {
		t.Fatalf("submit on B: %d %v", st, out)
	}
	deadline := time.Now().Add(finishWithin)
	for {
		_, j := b.api("GET", fmt.Sprintf("/api/v1/imports/%d", id), "")
		if j["status"] == "done" {
			if num(j, "created") != rows || num(j, "failed") != 0 {
				t.Fatalf("the import: %v", j)
			}
			break
		}
		if j["status"] == "failed" || j["status"] == "canceled" || time.Now().After(deadline) {
			t.Fatalf("the import: %v\nA:\n%s\nB:\n%s", j, a.stderr.String(), b.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	var n int
	if err := a.db().SQL.QueryRow(`SELECT count(*) FROM customers WHERE primary_email LIKE '%@instances.example'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != rows {
		t.Fatalf("%d customers imported, want %d", n, rows)
	}
	// the ended import's stored file is gone from the database
	var chunks int
	if err := a.db().SQL.QueryRow(`SELECT count(*) FROM upload_chunks`).Scan(&chunks); err != nil {
		t.Fatal(err)
	}
	if chunks != 0 {
		t.Fatalf("%d chunks of ended uploads kept", chunks)
	}
}
