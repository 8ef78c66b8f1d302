package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/acme/crm/internal/accounts"
	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/importer"
	"github.com/acme/crm/internal/jobs"
	"github.com/acme/crm/internal/outreach"
	"github.com/acme/crm/internal/seed"
	"github.com/acme/crm/internal/server"
	"github.com/acme/crm/internal/store"
)

// Targets of issue 3: server-side time of one list request.
const (
	targetSQLite   = 25 * time.Millisecond
	targetPostgres = 50 * time.Millisecond
	targetSearch   = 50 * time.Millisecond
)

type tableOptions struct {
	customers  int
	runs       int
	warmup     int
	sqlitePath string
	postgres   string
	engines    []string
	only       *regexp.Regexp
	cpuprofile string
	clients    int
}

func cmdTable(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("table", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o tableOptions
	var engines, only string
	fs.IntVar(&o.customers, "customers", 1_000_000, "customers in the benchmark database (seeded once, then reused)")
	fs.IntVar(&o.runs, "runs", 40, "timed calls per query")
	fs.IntVar(&o.warmup, "warmup", 3, "untimed calls per query before the timed ones")
	fs.StringVar(&o.sqlitePath, "sqlite", "", "SQLite database file (default $TMPDIR/crm-bench/table-<customers>.db)")
	fs.StringVar(&o.postgres, "postgres", defaultPostgres(), "PostgreSQL server on which the database crm_bench_<customers> is created ($CRM_TEST_POSTGRES when set)")
	fs.StringVar(&engines, "engines", "sqlite,postgres", "engines to measure, comma-separated")
	fs.StringVar(&only, "only", "", "measure only the queries whose name matches this regular expression")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the timed calls to `PREFIX`-<engine>.prof")
	fs.IntVar(&o.clients, "clients", 1, "callers sending each query's calls at the same time (runs and warm-up calls are per caller)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: go run ./bench table [flags]\n\nTimes GET /api/v1/customers server-side on a seeded database of each engine\nand prints one Markdown table per engine.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("table takes no arguments, only flags (got %q)", fs.Arg(0))
	}
	if o.customers < 1 || o.runs < 1 || o.warmup < 0 || o.clients < 1 {
		return errors.New("--customers, --runs and --clients must be at least 1, --warmup at least 0")
	}
	if o.sqlitePath == "" {
		o.sqlitePath = defaultSQLitePath(o.customers)
	}
	for _, e := range strings.Split(engines, ",") {
		switch e = strings.TrimSpace(e); e {
		case "sqlite", "postgres":
			if !slices.Contains(o.engines, e) {
				o.engines = append(o.engines, e)
			}
		case "":
		default:
			return fmt.Errorf("--engines: %q is not sqlite or postgres", e)
		}
	}
	if only != "" {
		re, err := regexp.Compile(only)
		if err != nil {
			return fmt.Errorf("--only: %w", err)
		}
		o.only = re
	}

	fmt.Fprintf(stdout, "# Customer list, server-side latency\n\n%s\n", machine())
	for _, engine := range o.engines {
		if err := tableFor(ctx, engine, o, stdout, stderr); err != nil {
			return fmt.Errorf("%s: %w", engine, err)
		}
	}
	return nil
}

// machine describes where the numbers were taken.
func machine() string {
	cpu := "?"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	load := "?"
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			load = strings.Join(f[:3], " ")
		}
	}
	return fmt.Sprintf("- date: %s\n- machine: %d cores (nproc), %s, %s/%s; load average at start %s (other work on the machine shows in p95)\n- Go: %s\n",
		time.Now().Format(time.DateOnly), runtime.NumCPU(), cpu, runtime.GOOS, runtime.GOARCH, load, runtime.Version())
}

// result is one line of a table.
type result struct {
	q        query
	total    string
	p50, p95 time.Duration
	target   time.Duration
}

func tableFor(ctx context.Context, engine string, o tableOptions, stdout, stderr io.Writer) error {
	var db *store.DB
	var err error
	var where string
	if engine == "sqlite" {
		db, err = openSQLite(ctx, o.sqlitePath, o.customers, stderr)
		where = o.sqlitePath
	} else {
		db, err = openPostgres(ctx, o.postgres, o.customers, stderr)
		where = fmt.Sprintf("database crm_bench_%d", o.customers)
	}
	if err != nil {
		return err
	}
	defer db.Close()

	app, err := startApp(ctx, db, "bench table")
	if err != nil {
		return err
	}
	defer app.stop()
	handler, token := app.handler, app.token

	fx, err := loadFixtures(ctx, db, o.customers)
	if err != nil {
		return err
	}
	c := &client{h: handler, token: token}

	if o.cpuprofile != "" {
		f, err := os.Create(o.cpuprofile + "-" + engine + ".prof")
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	target := targetSQLite
	if engine == "postgres" {
		target = targetPostgres
	}
	var results []result
	for _, q := range fx.queries() {
		if o.only != nil && !o.only.MatchString(q.name) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		params := q.params
		if q.deep > 0 {
			if params, err = c.walk(q.params, q.deep); err != nil {
				return fmt.Errorf("%s: %w", q.name, err)
			}
		}
		r := result{q: q, target: target}
		if q.search {
			r.target = targetSearch
		}
		var times []time.Duration
		var mu sync.Mutex
		var callers sync.WaitGroup
		var failed error
		for caller := range o.clients {
			callers.Go(func() {
				for i := range o.warmup + o.runs {
					d, page, err := c.get(params)
					mu.Lock()
					if err != nil {
						failed = cmp.Or(failed, fmt.Errorf("%s: %w", q.name, err))
						mu.Unlock()
						return
					}
					if caller == 0 && i == 0 {
						r.total = fmt.Sprint(page.Total)
						if !page.TotalExact {
							r.total += "+"
						}
					}
					if i >= o.warmup {
						times = append(times, d)
					}
					mu.Unlock()
				}
			})
		}
		callers.Wait()
		if failed != nil {
			return failed
		}
		r.p50, r.p95 = percentile(times, 50), percentile(times, 95)
		fmt.Fprintf(stderr, "%-8s %-60s p50 %7.1f ms  p95 %7.1f ms\n", engine, q.name, ms(r.p50), ms(r.p95))
		results = append(results, r)
	}

	var n int
	_ = db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM customers`).Scan(&n)
	fmt.Fprintf(stdout, "\n## %s\n\n%s, %s customers (%s); %d timed calls per query after %d warm-up calls, by %d caller(s) at once.\n\n",
		map[string]string{"sqlite": "SQLite", "postgres": "PostgreSQL"}[engine], engineVersion(ctx, db), group(n), where, o.runs*o.clients, o.warmup, o.clients)
	fmt.Fprintln(stdout, "| query | matches | p50 ms | p95 ms | target | meets it |")
	fmt.Fprintln(stdout, "|---|---:|---:|---:|---:|---|")
	for _, r := range results {
		meets := "yes"
		if r.p95 > r.target {
			meets = "**no**"
		}
		fmt.Fprintf(stdout, "| %s | %s | %.1f | %.1f | %d ms | %s |\n",
			strings.ReplaceAll(r.q.name, "|", `\|`), r.total, ms(r.p50), ms(r.p95), r.target.Milliseconds(), meets)
	}
	return nil
}

// client sends API requests straight to the handler.
type client struct {
	h     http.Handler
	token string
}

type listPage struct {
	Items      []json.RawMessage `json:"items"`
	NextCursor string            `json:"next_cursor"`
	Total      int               `json:"total"`
	TotalExact bool              `json:"total_exact"`
}

// get times one GET /api/v1/customers: the handler's ServeHTTP, from the
// request to the last byte of the JSON body.
func (c *client) get(params url.Values) (time.Duration, *listPage, error) {
	req := httptest.NewRequest(http.MethodGet, "/api/v1/customers?"+params.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	rec := httptest.NewRecorder()
	start := time.Now()
	c.h.ServeHTTP(rec, req)
	d := time.Since(start)
	if rec.Code != http.StatusOK {
		return d, nil, fmt.Errorf("GET %s: %d %s", req.URL, rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	var p listPage
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		return d, nil, err
	}
	return d, &p, nil
}

// walk follows next_cursor through pages pages and returns the parameters of
// the page after them.
func (c *client) walk(params url.Values, pages int) (url.Values, error) {
	v := url.Values{}
	for k, vs := range params {
		v[k] = slices.Clone(vs)
	}
	for i := range pages {
		_, p, err := c.get(v)
		if err != nil {
			return nil, err
		}
		if p.NextCursor == "" {
			return nil, fmt.Errorf("page %d is the last one", i+1)
		}
		v.Set("cursor", p.NextCursor)
	}
	return v, nil
}

// percentile is the nearest-rank percentile of durations.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	k := (len(s)*p + 99) / 100 // ceil(n*p/100)
	return s[max(k, 1)-1]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// group writes n with thousands separators: 1,000,000.
func group(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// app is the product as `crm serve` builds it, on db: the handler, the
// background jobs running, and an API token of the demo admin.
type app struct {
	handler http.Handler
	token   string
	cs      *customers.Service
	admin   *crm.User
	stop    func() // stops the jobs and revokes the token
}

// startApp builds the handler and starts the background jobs as `crm
// serve` does (River's leader election writes to the database every few
// seconds, and on SQLite each write makes every reader drop its page cache,
// so a benchmark without it measures a server that never is), and makes
// the demo admin an API token named label.
func startApp(ctx context.Context, db *store.DB, label string) (*app, error) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	acc := accounts.New(db)
	out := outreach.New(db, nil, "bench@example.com", "http://bench.invalid")
	cs := customers.New(db)
	queue, err := jobs.Open(db, out, cs, log)
	if err != nil {
		return nil, err
	}
	handler, err := server.New(server.Deps{Store: db, Accounts: acc, Customers: cs, Outreach: out, Jobs: queue,
		Imports: importer.New(db, os.TempDir(), jobs.ImportEnqueuer(queue)), Log: log})
	if err != nil {
		return nil, err
	}
	admin, err := db.GetUserByEmail(ctx, seed.DemoAdminEmail)
	if err != nil {
		return nil, fmt.Errorf("the demo admin %s: %w", seed.DemoAdminEmail, err)
	}
	token, tok, err := acc.CreateToken(ctx, nil, admin.ID, label)
	if err != nil {
		return nil, err
	}
	if err := queue.Start(ctx); err != nil {
		db.RevokeAPIToken(context.Background(), admin.ID, tok.ID, time.Now())
		return nil, err
	}
	return &app{handler: handler, token: token, cs: cs, admin: admin, stop: func() {
		queue.Stop(context.Background())
		db.RevokeAPIToken(context.Background(), admin.ID, tok.ID, time.Now())
	}}, nil
}
