// Command importbench measures CSV import end to end: it generates a file
// with the standard columns, starts the real `crm serve` on a fresh
// database, uploads the file through the API, submits it and waits for the
// end, then prints rows/s and the server's peak RSS (VmHWM).
//
//	go run ./bench/importbench [-rows 1000000] [-pg postgres://...]
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

func main() {
	rows := flag.Int("rows", 1_000_000, "rows in the generated file")
	pg := flag.String("pg", os.Getenv("CRM_TEST_POSTGRES"), "a PostgreSQL server to also measure on (a fresh database is created)")
	flag.StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile of each server to `PREFIX`-<engine>.prof")
	engines := flag.String("engines", "sqlite,postgres", "the engines to measure (postgres only with -pg or CRM_TEST_POSTGRES)")
	flag.BoolVar(&reimport, "reimport", false, "then import the same file again in upsert mode: every row an existing customer")
	flag.Parse()
	dir, err := os.MkdirTemp("", "importbench-")
	check(err)
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "crm")
	out, err := exec.Command("go", "build", "-o", bin, "./cmd/crm").CombinedOutput()
	if err != nil {
		fail("build: %v\n%s", err, out)
	}
	file := filepath.Join(dir, "customers.csv")
	size := generate(file, *rows)
	fmt.Printf("file: %d rows, %.1f MB, standard columns\n\n", *rows, float64(size)/1e6)
	fmt.Println("| engine | mode | rows | seconds | rows/s | peak RSS (MB) | load average after |")
	fmt.Println("|---|---|---:|---:|---:|---:|---|")
	if strings.Contains(*engines, "sqlite") {
		measure(bin, "sqlite", filepath.Join(dir, "bench.db"), dir, file, *rows)
	}
	if *pg != "" && strings.Contains(*engines, "postgres") {
		dsn, drop := freshPG(*pg)
		defer drop()
		measure(bin, "postgres", dsn, dir, file, *rows)
	}
}

func generate(path string, rows int) int64 {
	f, err := os.Create(path)
	check(err)
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString("first_name,last_name,email,linkedin_url,company_name,tags,segment_id,owner_email\n")
	firsts := []string{"Anna", "Boris", "Chloé", "Dev", "Emma", "Farid", "Greta", "Hiro", "Ines", "Jonas"}
	lasts := []string{"Berg", "Nowak", "Dubois", "Patel", "Smith", "Haddad", "Lund", "Sato", "García", "Weber"}
	for i := 1; i <= rows; i++ {
		fn, ln := firsts[i%len(firsts)], lasts[(i/10)%len(lasts)]
		li := ""
		if i%3 == 0 {
			li = fmt.Sprintf("https://www.linkedin.com/in/%s-%s-%d", strings.ToLower(fn[:1]), strings.ToLower(ln[:1]), i)
		}
		fmt.Fprintf(w, "%s,%s,%s.%s.%d@example.com,%s,Company %d,\"lead;t%d\",,\n", fn, ln, strings.ToLower(fn[:1]), strings.ToLower(ln[:1]), i, li, i%5000, i%20)
	}
	check(w.Flush())
	st, err := f.Stat()
	check(err)
	check(f.Close())
	return st.Size()
}

var (
	cpuprofile string
	reimport   bool
)

var runningAt = regexp.MustCompile(`running at (http://\S+)`)

func measure(bin, engine, dsn, dir, file string, rows int) {
	run := func(args ...string) string {
		out, err := exec.Command(bin, append(args, "--db", dsn)...).CombinedOutput()
		if err != nil {
			fail("crm %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	run("user", "add", "--email", "bench@example.com", "--name", "Bench", "--role", "admin", "--password", "correct horse battery")
	tok := run("token", "create", "--email", "bench@example.com")
	tok = tok[strings.LastIndex(tok, "\n")+1:]
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", dsn, "--data-dir", filepath.Join(dir, "data-"+engine), "--log-level", "error")
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if cpuprofile != "" {
		cmd.Env = append(os.Environ(), "CRM_CPUPROFILE="+cpuprofile+"-"+engine+".prof")
	}
	check(cmd.Start())
	defer func() {
		// a clean stop, so that the server writes its CPU profile
		_ = cmd.Process.Signal(os.Interrupt)
		t := time.AfterFunc(30*time.Second, func() { _ = cmd.Process.Kill() })
		_ = cmd.Wait()
		t.Stop()
	}()
	sc := bufio.NewScanner(stdout)
	base := ""
	for sc.Scan() {
		if m := runningAt.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
			break
		}
	}
	go io.Copy(io.Discard, stdout)

	importOnce(base, tok, engine, file, "create", rows, cmd.Process.Pid)
	if reimport {
		importOnce(base, tok, engine, file, "upsert", rows, cmd.Process.Pid)
	}
}

// importOnce uploads file, submits it in mode and prints a line when it is done.
func importOnce(base, tok, engine, file, mode string, rows, pid int) {
	start := time.Now()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() { // stream the upload, as a browser does
		fw, _ := mw.CreateFormFile("file", "customers.csv")
		f, _ := os.Open(file)
		io.Copy(fw, f)
		f.Close()
		mw.Close()
		pw.Close()
	}()
	var up struct {
		ID      int64
		Mapping map[string]*string
	}
	call(http.MethodPost, base+"/api/v1/imports", tok, mw.FormDataContentType(), pr, &up)
	if mode != "create" {
		body, _ := json.Marshal(map[string]any{"mapping": up.Mapping, "mode": mode})
		call(http.MethodPut, fmt.Sprintf("%s/api/v1/imports/%d/mapping", base, up.ID), tok, "application/json", bytes.NewReader(body), nil)
	}
	call(http.MethodPost, fmt.Sprintf("%s/api/v1/imports/%d/submit", base, up.ID), tok, "", nil, nil)
	var j struct {
		Status                                       string
		Processed, Created, Updated, Skipped, Failed int64
	}
	var peak int64
	for {
		time.Sleep(100 * time.Millisecond)
		peak = max(peak, vmHWM(pid))
		call(http.MethodGet, fmt.Sprintf("%s/api/v1/imports/%d", base, up.ID), tok, "", nil, &j)
		if j.Status == "done" || j.Status == "failed" || j.Status == "canceled" {
			break
		}
	}
	secs := time.Since(start).Seconds()
	peak = max(peak, vmHWM(pid))
	if done := map[string]int64{"create": j.Created, "upsert": j.Updated}[mode]; j.Status != "done" || done != int64(rows) {
		fail("%s: %s import ended %s: %+v", engine, mode, j.Status, j)
	}
	fmt.Printf("| %s | %s | %d | %.1f | %.0f | %.0f | %s |\n", engine, mode, rows, secs, float64(rows)/secs, float64(peak)/1024, loadavg())
}

func call(method, url, tok, ctype string, body io.Reader, out any) {
	req, err := http.NewRequestWithContext(context.Background(), method, url, body)
	check(err)
	req.Header.Set("Authorization", "Bearer "+tok)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	res, err := http.DefaultClient.Do(req)
	check(err)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		fail("%s %s: %d %s", method, url, res.StatusCode, b)
	}
	if out != nil {
		check(json.Unmarshal(b, out))
	}
}

// loadavg is the machine's 1, 5 and 15 minute load averages (other work
// running at the same time makes the numbers noisy).
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// vmHWM is the peak resident set of a process, in kB.
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(string(v), "kB")), &kb)
			return kb
		}
	}
	return 0
}

// freshPG creates a database on server for one run and returns its DSN
// and what drops it.
func freshPG(server string) (string, func()) {
	ctx := context.Background()
	c, err := pgx.Connect(ctx, server)
	check(err)
	defer c.Close(ctx)
	name := fmt.Sprintf("crm_importbench_%d", time.Now().UnixNano())
	_, err = c.Exec(ctx, "CREATE DATABASE "+name)
	check(err)
	i := strings.LastIndex(server, "/")
	q := ""
	if k := strings.Index(server[i:], "?"); k >= 0 {
		q = server[i+k:]
	}
	return server[:i+1] + name + q, func() {
		c, err := pgx.Connect(ctx, server)
		if err == nil {
			_, err = c.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)")
			c.Close(ctx)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "importbench: dropping the database %s: %v\n", name, err)
		}
	}
}

func check(err error) {
	if err != nil {
		fail("%v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "importbench: "+format+"\n", args...)
	os.Exit(1)
}
