package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// importEnv is the test server, which wires the importer as cmd/crm/serve.go does.
func importEnv(t *testing.T, db *store.DB) *env { return newEnv(t, db) }

// upload posts a file as multipart field "file".
func upload(t *testing.T, base, token, name string, content []byte) (int, map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(content)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/imports", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("upload: not JSON (%d): %s", res.StatusCode, b)
	}
	return res.StatusCode, out
}

// waitImport polls the import until it has ended.
func waitImport(t *testing.T, get func() map[string]any) map[string]any {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		j := get()
		switch j["status"] {
		case "done", "failed", "canceled":
			return j
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the import did not end")
	return nil
}

func n(v any) int64 { f, _ := v.(float64); return int64(f) }

func checkSum(t *testing.T, j map[string]any, rows int64) {
	t.Helper()
	if n(j["created"])+n(j["updated"])+n(j["skipped"])+n(j["failed"]) != rows || n(j["processed"]) != rows {
		t.Fatalf("created+updated+skipped+failed != %d rows: %v", rows, j)
	}
}

func errorsCSV(t *testing.T, base, token string, id int64) [][]string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/api/v1/imports/%d/errors.csv", base, id), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("errors.csv: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	r := csv.NewReader(res.Body)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// The whole contract: upload, mapping, preview, submit, status, error report;
// row rules; in-file duplicates in create and in upsert mode.
func TestImportAPI(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		e := importEnv(t, db)
		admin, tok := e.user("ada@example.com", crm.RoleAdmin)
		ctx := t.Context()
		seg := &crm.Segment{Name: "Fair 2024", CreatedAt: time.Now()}
		if err := db.CreateSegment(ctx, seg); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateProduct(ctx, &crm.Product{Key: "pro", Name: "Pro"}); err != nil {
			t.Fatal(err)
		}
		file := "Exported by OtherCRM\n\nGiven Name;Family Name;E-mail Address;Organization Name;Labels;Segment;Owner;Pro;Notes\n" +
			"Anna;Berg;Anna@Example.com;Acme;vip, lead;" + fmt.Sprint(seg.ID) + ";ada@example.com;80;x\n" +
			";;;;;;;;nobody\n" + // no name, no e-mail
			"Bo;Lind;bo@example.com;ACME;;999;;;bad segment\n" +
			"Anna B.;Berg;anna@example.com;;late;;;90;duplicate of row 1\n" +
			"Cy;;cy@example.com;Beta;;;nobody@example.com;;unknown owner\n" +
			"Di;;di@example.com;;;;;;1;2;3\n" + // wider than the header
			"Ed;;;;;;;;no e-mail is fine\n\n\n"
		st, up := upload(t, e.srv.URL, tok, "contacts.csv", []byte(file))
		if st != 201 {
			t.Fatalf("upload %d %v", st, up)
		}
		id := n(up["id"])
		m := up["mapping"].(map[string]any)
		want := map[string]any{"Given Name": "first_name", "Family Name": "last_name", "E-mail Address": "email",
			"Organization Name": "company_name", "Labels": "tags", "Segment": "segment_id", "Owner": "owner_email", "Pro": "score:pro", "Notes": nil}
		for k, v := range want {
			if m[k] != v {
				t.Errorf("mapping %s = %v, want %v", k, m[k], v)
			}
		}
		if cols := up["columns"].([]any); len(cols) != 9 || cols[0] != "Given Name" {
			t.Fatalf("columns %v", cols)
		}
		// a mapping naming an unknown target is refused
		if st, body := e.api("PUT", fmt.Sprintf("/api/v1/imports/%d/mapping", id), tok, `{"mapping": {"Notes": "shoe_size"}}`); st != 400 {
			t.Fatalf("bad target: %d %v", st, body)
		}
		mapping := `{"mapping": {"Notes": null}, "mode": "create"}`
		if st, body := e.api("PUT", fmt.Sprintf("/api/v1/imports/%d/mapping", id), tok, mapping); st != 200 {
			t.Fatalf("mapping: %d %v", st, body)
		}
		st, pv := e.api("GET", fmt.Sprintf("/api/v1/imports/%d/preview", id), tok, "")
		if st != 200 {
			t.Fatalf("preview %d %v", st, pv)
		}
		c := pv["counts"].(map[string]any)
		if n(c["valid"]) != 3 || n(c["failing"]) != 4 || n(c["duplicates"]) != 1 || n(c["existing"]) != 0 {
			t.Fatalf("counts %v", c)
		}
		rows := pv["rows"].([]any)
		first := rows[0].(map[string]any)
		if len(rows) != 7 || first["email"] != "anna@example.com" || first["full_name"] != "Anna Berg" || first["action"] != "create" {
			t.Fatalf("preview rows %v", rows)
		}
		if r := rows[3].(map[string]any); r["action"] != "skip" || len(r["warnings"].([]any)) == 0 {
			t.Fatalf("duplicate row in preview: %v", r)
		}
		if st, j := e.api("POST", fmt.Sprintf("/api/v1/imports/%d/submit", id), tok, ""); st != 202 || j["status"] != "queued" {
			t.Fatalf("submit %d %v", st, j)
		}
		if st, _ := e.api("POST", fmt.Sprintf("/api/v1/imports/%d/submit", id), tok, ""); st != 409 {
			t.Fatalf("second submit: %d", st)
		}
		j := waitImport(t, func() map[string]any { _, j := e.api("GET", fmt.Sprintf("/api/v1/imports/%d", id), tok, ""); return j })
		if j["status"] != "done" || n(j["created"]) != 2 || n(j["skipped"]) != 1 || n(j["failed"]) != 4 || n(j["total"]) != 7 {
			t.Fatalf("result %v", j)
		}
		checkSum(t, j, 7)
		report := errorsCSV(t, e.srv.URL, tok, id)
		if len(report) != 5 || strings.Join(report[0][:3], ",") != "row,error,Given Name" {
			t.Fatalf("report %q", report)
		}
		wantErr := map[string]string{"2": "needs a name", "3": `no segment has the id "999"`, "5": "no user has the e-mail", "6": "has 11 cells but the header has 9"}
		for _, r := range report[1:] {
			if !strings.Contains(r[1], wantErr[r[0]]) {
				t.Errorf("row %s: %q, want %q", r[0], r[1], wantErr[r[0]])
			}
		}
		if report[3][0] != "5" || report[3][8] != "nobody@example.com" {
			t.Fatalf("original values not kept: %q", report[3])
		}
		page, err := db.FindCustomers(ctx, crm.CustomerQuery{Filter: crm.CustomerFilter{Archived: crm.ArchivedAll}, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != 2 {
			t.Fatalf("%d customers", page.Total)
		}
		var anna *crm.Customer
		for _, c := range page.Items {
			if c.PrimaryEmail == "anna@example.com" {
				anna, _ = db.GetCustomer(ctx, c.ID)
			}
		}
		if anna == nil || anna.Company == nil || anna.Company.Name != "Acme" || anna.Owner == nil || anna.Owner.ID != admin.ID ||
			strings.Join(anna.Tags, ",") != "lead,vip" || anna.Scores["pro"] != 80 || len(anna.Segments) != 1 {
			t.Fatalf("anna %+v", anna)
		}
		acts, _ := db.ListActivity(ctx, anna.ID, 0, 10)
		if len(acts) != 1 || acts[0].Kind != crm.ActCreated || !strings.Contains(string(acts[0].Data), "import") {
			t.Fatalf("activity %+v", acts)
		}

		// the same file in upsert mode: the later row of an e-mail updates the earlier
		_, up = upload(t, e.srv.URL, tok, "again.csv", []byte(file))
		id2 := n(up["id"])
		e.api("PUT", fmt.Sprintf("/api/v1/imports/%d/mapping", id2), tok, `{"mapping": {"Notes": null}, "mode": "upsert"}`)
		_, pv = e.api("GET", fmt.Sprintf("/api/v1/imports/%d/preview", id2), tok, "")
		if c := pv["counts"].(map[string]any); n(c["existing"]) != 1 {
			t.Fatalf("existing %v", c)
		}
		e.api("POST", fmt.Sprintf("/api/v1/imports/%d/submit", id2), tok, "")
		j = waitImport(t, func() map[string]any { _, j := e.api("GET", fmt.Sprintf("/api/v1/imports/%d", id2), tok, ""); return j })
		checkSum(t, j, 7)
		if n(j["created"]) != 1 || n(j["updated"]) != 2 || n(j["failed"]) != 4 { // Ed has no e-mail: created again
			t.Fatalf("upsert %v", j)
		}
		anna, _ = db.GetCustomer(ctx, anna.ID)
		if anna.FirstName != "Anna B." || anna.Scores["pro"] != 90 || strings.Join(anna.Tags, ",") != "late,lead,vip" {
			t.Fatalf("anna after upsert %+v", anna)
		}
		// a member sees only their own imports
		_, mtok := e.user("mo@example.com", crm.RoleMember)
		if st, _ := e.api("GET", fmt.Sprintf("/api/v1/imports/%d", id), mtok, ""); st != 404 {
			t.Fatalf("member reads another's import: %d", st)
		}
		if st, l := e.api("GET", "/api/v1/imports", tok, ""); st != 200 || len(l["items"].([]any)) != 2 {
			t.Fatalf("list %d %v", st, l)
		}
	})
}

// Bad files get a clear message and no import; bad rows go to the report.
func TestImportBadInput(t *testing.T) {
	e := importEnv(t, testdb.Open(t, "sqlite"))
	_, tok := e.user("ada@example.com", crm.RoleAdmin)
	for name, c := range map[string]struct{ content, want string }{
		"empty":       {"", "The file is empty."},
		"header only": {"first_name,email\r\n\r\n", "no rows below it"},
		"binary":      {"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not a CSV text file"},
	} {
		st, body := upload(t, e.srv.URL, tok, name+".csv", []byte(c.content))
		if st != 400 || !strings.Contains(body["error"].(map[string]any)["message"].(string), c.want) {
			t.Errorf("%s: %d %v", name, st, body)
		}
	}
	big := strings.Repeat("é", 5<<20) // a 10 MB field
	file := "Name,Email,Notes,Company\nAnn,ann@example.com," + big + ",\nBo,bo@example.com,fine,\nCy,cy@example.com,fine," + big + "\nDi,di@example.com,a,b,c\n"
	st, up := upload(t, e.srv.URL, tok, "big.csv", []byte(file))
	if st != 201 {
		t.Fatalf("%d %v", st, up)
	}
	id := n(up["id"])
	e.api("POST", fmt.Sprintf("/api/v1/imports/%d/submit", id), tok, "")
	j := waitImport(t, func() map[string]any { _, j := e.api("GET", fmt.Sprintf("/api/v1/imports/%d", id), tok, ""); return j })
	checkSum(t, j, 4)
	if n(j["created"]) != 1 || n(j["failed"]) != 3 {
		t.Fatalf("%v", j)
	}
	// rows over 1 MiB fail, saying so, with their start
	report := errorsCSV(t, e.srv.URL, tok, id)
	if len(report) != 4 || report[1][0] != "1" || !strings.Contains(report[1][1], "This row is 10,485,781 bytes long; at most 1,048,576") ||
		!strings.Contains(report[1][4], "cut: the row is 10,485,781 bytes") || report[2][0] != "3" ||
		!strings.Contains(report[2][1], "This row is 10,485,783 bytes long") || !strings.Contains(report[3][1], "5 cells but the header has 4") {
		t.Fatalf("report: %d rows, %q", len(report), report)
	}
}

// crmBinary builds cmd/crm once per test run.
func crmBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "crm")
	cmd := exec.Command("go", "build", "-o", bin, "../../cmd/crm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

var runningAt = regexp.MustCompile(`running at (http://\S+)`)

// startServe runs crm serve and returns its address and process.
func startServe(t *testing.T, bin, dsn, dataDir string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", dsn, "--data-dir", dataDir)
	out, _ := cmd.StdoutPipe()
	logf, err := os.CreateTemp(t.TempDir(), "serve-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logf
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("crm serve log:\n%s", b)
		}
	})
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if m := runningAt.FindStringSubmatch(sc.Text()); m != nil {
			go io.Copy(io.Discard, out)
			return m[1], cmd
		}
	}
	t.Fatal("crm serve did not start")
	return "", nil
}

// The process running an import is killed (kill -9) in the middle; after a
// restart the import resumes from its saved position: every row counted
// once, every customer there exactly once.
func TestImportSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := crmBinary(t)
	for _, engine := range testdb.Engines() {
		t.Run(engine, func(t *testing.T) {
			dsn := testdb.DSN(t, engine)
			dataDir := t.TempDir()
			run := func(args ...string) string {
				out, err := exec.Command(bin, append(args, "--db", dsn)...).CombinedOutput()
				if err != nil {
					t.Fatalf("crm %v: %v\n%s", args, err, out)
				}
				return strings.TrimSpace(string(out))
			}
			run("user", "add", "--email", "ada@example.com", "--name", "Ada", "--role", "admin", "--password", "correct horse battery")
			tok := run("token", "create", "--email", "ada@example.com")
			tok = tok[strings.LastIndex(tok, "\n")+1:]

			// 150,000 rows: every 10th fails (bad e-mail), every 7th repeats an earlier e-mail
			const rows = 150_000
			var b strings.Builder
			b.WriteString("first_name,last_name,email,company_name,tags\n")
			valid, dups, bad := 0, 0, 0
			seen := map[string]bool{}
			for i := 1; i <= rows; i++ {
				email := fmt.Sprintf("p%d@example.com", i)
				if i%7 == 0 {
					email = fmt.Sprintf("p%d@example.com", i-1)
				}
				switch {
				case i%10 == 0:
					email, bad = fmt.Sprintf("broken-%d", i), bad+1
				case seen[email]:
					dups++
				default:
					seen[email] = true
					valid++
				}
				fmt.Fprintf(&b, "First%d,Last%d,%s,Company %d,t%d\n", i, i, email, i%100, i%5)
			}
			base, cmd := startServe(t, bin, dsn, dataDir)
			get := func(base string, id int64) map[string]any {
				req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/v1/imports/%d", base, id), nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					return map[string]any{}
				}
				defer res.Body.Close()
				var j map[string]any
				_ = json.NewDecoder(res.Body).Decode(&j)
				return j
			}
			st, up := upload(t, base, tok, "big.csv", []byte(b.String()))
			if st != 201 {
				t.Fatalf("upload %d %v", st, up)
			}
			id := n(up["id"])
			req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/imports/%d/submit", base, id), nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 202 {
				t.Fatalf("submit: %v %v", err, res)
			}
			var at int64
			for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
				j := get(base, id)
				if at = n(j["processed"]); at > 0 {
					break
				}
				if time.Now().After(deadline) || j["status"] == "done" {
					t.Fatalf("no batch committed before the end: %v", j)
				}
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			t.Logf("killed at %d of %d rows", at, rows)
			if at >= rows {
				t.Fatalf("killed too late (%d rows done)", at)
			}

			base, _ = startServe(t, bin, dsn, dataDir)
			j := waitImport(t, func() map[string]any { time.Sleep(200 * time.Millisecond); return get(base, id) })
			if j["status"] != "done" {
				t.Fatalf("after restart: %v", j)
			}
			checkSum(t, j, rows)
			if n(j["created"]) != int64(valid) || n(j["skipped"]) != int64(dups) || n(j["failed"]) != int64(bad) {
				t.Fatalf("counts %v, want created %d skipped %d failed %d", j, valid, dups, bad)
			}
			db := testdbOpenDSN(t, dsn)
			var customers, distinct, errs, acts int64
			q := func(sql string, dst *int64) {
				if err := db.SQL.QueryRow(sql).Scan(dst); err != nil {
					t.Fatal(err)
				}
			}
			q(`SELECT count(*) FROM customers`, &customers)
			q(`SELECT count(DISTINCT value) FROM contacts WHERE channel = 'email'`, &distinct)
			q(`SELECT count(*) FROM import_errors`, &errs)
			q(`SELECT count(*) FROM activity WHERE kind = 'created'`, &acts)
			if customers != int64(valid) || distinct != int64(valid) || errs != int64(bad) || acts != int64(valid) {
				t.Fatalf("customers %d, distinct e-mails %d, error rows %d, activity %d; want %d, %d, %d, %d",
					customers, distinct, errs, acts, valid, valid, bad, valid)
			}
		})
	}
}

func testdbOpenDSN(t *testing.T, dsn string) *store.DB {
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
