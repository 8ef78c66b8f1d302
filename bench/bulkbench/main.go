// Command bulkbench measures the bulk operations of the customer table at a
// million customers, on SQLite and PostgreSQL, and prints a Markdown table:
//
//	go run ./bench/bulkbench [--customers 1000000] [--engines sqlite,postgres] [--export=false] [--undo=false]
//	go run ./bench/bulkbench --floor
//
// --floor prints the engine floor instead (floor.go): what the same rows cost
// the engine alone, by bare statements on copies of the tables.
//
// Its databases are its own (bulk actions change data): a SQLite file under
// /tmp/crm-bench and a PostgreSQL database crm_bulkbench_<N>, seeded when
// missing and reused after. Timings are server-side: the service calls the
// API handlers make, on the real store.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/exporter"
	"github.com/acme/crm/internal/seed"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/webhooks"
)

func main() {
	if len(os.Args) > 2 && os.Args[1] == "export-child" {
		exportChild(os.Args[2])
		return
	}
	n := flag.Int("customers", 1_000_000, "customers in the benchmark databases")
	engines := flag.String("engines", "sqlite,postgres", "engines to measure")
	pgServer := flag.String("postgres", envOr("CRM_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"), "PostgreSQL server")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the bulk operations to this file")
	flag.BoolVar(&withExport, "export", true, "measure the export too")
	flag.BoolVar(&withUndo, "undo", true, "measure the undo of the bulk tag too")
	flag.BoolVar(&withWebhook, "webhook", false, "with a webhook endpoint registered (all events) and the dispatcher and senders running")
	name := flag.String("name", "", "a topic for the benchmark's own databases (crm_<name>_bulkbench_<N>, bulk-<name>-<N>.db), so runs of different branches do not share them")
	floorOnly := flag.Bool("floor", false, "measure the engine floor instead: the same rows written and read by bare statements on copies of the tables")
	flag.Parse()
	ctx := context.Background()
	defer profile(*cpuprofile)()
	if *floorOnly {
		fmt.Printf("## Engine floor at %s customers (%s, %d cores, %s)\n\n", thousands(*n), time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), runtime.Version())
		fmt.Println("| engine | statements, on a copy of the tables | seconds |")
		fmt.Println("|---|---|---:|")
	} else {
		fmt.Printf("## Bulk operations at %s customers (%s, %d cores, %s)\n\n", thousands(*n), time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), runtime.Version())
		fmt.Println("| engine | operation | result | target | met |")
		fmt.Println("|---|---|---|---|---|")
	}
	for _, e := range strings.Split(*engines, ",") {
		dsn := filepath.Join(os.TempDir(), "crm-bench", fmt.Sprintf("bulk-%d.db", *n))
		pgName := fmt.Sprintf("crm_bulkbench_%d", *n)
		if *name != "" {
			dsn = filepath.Join(os.TempDir(), "crm-bench", fmt.Sprintf("bulk-%s-%d.db", *name, *n))
			pgName = fmt.Sprintf("crm_%s_bulkbench_%d", *name, *n)
		}
		if e == "postgres" {
			dsn = pgDatabase(ctx, *pgServer, pgName)
		}
		if *floorOnly {
			seeded(ctx, e, dsn, *n).Close()
			if err := floor(ctx, e, dsn); err != nil {
				log.Fatalf("%s: %v", e, err)
			}
			continue
		}
		run(ctx, e, dsn, *n)
	}
}

// withExport is false to measure the bulk actions and the merge alone.
var withExport bool

// withUndo is false to leave out the undo of the bulk tag.
var withUndo bool

func run(ctx context.Context, engine, dsn string, n int) {
	db := seeded(ctx, engine, dsn, n)
	defer db.Close()
	admin, err := db.GetUserByEmail(ctx, seed.DemoAdminEmail)
	if err != nil {
		log.Fatal(err)
	}
	svc := customers.New(db)
	limit := map[string]time.Duration{"sqlite": time.Second, "postgres": 2 * time.Second}[engine]

	// 100,000 active customers spread over the table, as a filter selects
	// them (every 9th id), that no earlier run changed: a run's changes
	// leave its customers side by side in the updated_at index, and a second
	// run over them would measure that instead
	ids, class, err := spreadSelection(ctx, db, dsn, 100_000)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("%s: bulk actions over every 9th customer, ids ≡ %d (mod 9)", engine, class)
	var wb *webhookBench
	if withWebhook {
		wb = startWebhooks(ctx, db, admin)
		defer wb.stop()
	}
	tag := "bench " + strconv.FormatInt(time.Now().UnixNano(), 36)
	// recorded for its undo, as every bulk action of the product is (a
	// negative id: never one of River's jobs)
	actionID := -time.Now().UnixNano()
	took := timed(func() error {
		_, err := svc.Bulk(ctx, admin, customers.BulkRequest{Action: customers.BulkTag, IDs: ids, Tags: []string{tag}, ActionID: actionID}, func(customers.BulkResult, []customers.Skip) error { return nil })
		return err
	})
	row(engine, fmt.Sprintf("bulk tag of %s customers", thousands(len(ids))), took.String(), "≤ "+limit.String(), took <= limit)
	if wb != nil {
		all := wb.drained(webhooks.CustomerTagged, len(ids), time.Now().Add(-took))
		row(engine, fmt.Sprintf("its %s customer.tagged events received (batches of 100), from the tag's start", thousands(len(ids))), all.Round(time.Millisecond).String(), "-", true)
	}
	if withUndo {
		tagTook := took
		var res *customers.BulkResult
		took = timed(func() error {
			var err error
			res, err = svc.Undo(ctx, admin, customers.UndoRequest{ActionID: actionID}, func(customers.BulkResult, []customers.Skip) error { return nil })
			return err
		})
		if res != nil && res.Done != len(ids) {
			log.Fatalf("the undo undid %d of %d customers", res.Done, len(ids))
		}
		row(engine, fmt.Sprintf("undo of that bulk tag (%s customers)", thousands(len(ids))), took.String(), "≤ the tag ("+tagTook.String()+")", took <= tagTook)
	}

	took = timed(func() error {
		_, err := svc.Bulk(ctx, admin, customers.BulkRequest{Action: customers.BulkArchive, IDs: ids}, func(customers.BulkResult, []customers.Skip) error { return nil })
		return err
	})
	row(engine, fmt.Sprintf("bulk archive of %s customers", thousands(len(ids))), took.String(), "≤ "+limit.String(), took <= limit)
	if wb != nil {
		all := wb.drained(webhooks.CustomerArchived, len(ids), time.Now().Add(-took))
		row(engine, fmt.Sprintf("its %s customer.archived events received, from the archive's start", thousands(len(ids))), all.Round(time.Millisecond).String(), "-", true)
	}
	if _, err := svc.Bulk(ctx, admin, customers.BulkRequest{Action: customers.BulkRestore, IDs: ids}, func(customers.BulkResult, []customers.Skip) error { return nil }); err != nil {
		log.Fatal(err) // put them back for the next run
	}

	if withExport {
		export(engine, dsn)
	}
	merge(ctx, engine, db, svc, admin)
}

// seeded opens the benchmark's database, seeding it the first time.
func seeded(ctx context.Context, engine, dsn string, n int) *store.DB {
	db, err := store.Open(ctx, dsn)
	if err != nil {
		log.Fatal(err)
	}
	page, err := db.FindCustomers(ctx, crm.CustomerQuery{Filter: crm.CustomerFilter{Archived: crm.ArchivedAll}, Limit: 1})
	if err != nil {
		log.Fatal(err)
	}
	if page.Total == 0 {
		log.Printf("%s: seeding %d customers (once)", engine, n)
		if _, err := seed.Run(ctx, db, seed.Options{Customers: n, Seed: 1, HashPassword: func(p string) (string, error) { return "x:" + p, nil }}); err != nil {
			log.Fatal(err)
		}
	}
	return db
}

// export measures an export of every customer, in a child process so that
// its peak memory is its own.
func export(engine, dsn string) {
	out, err := exec.Command(os.Args[0], "export-child", dsn).Output()
	if err != nil {
		log.Fatalf("export: %v", err)
	}
	var ex struct {
		Rows  int
		Secs  float64
		PeakK int
	}
	if err := json.Unmarshal(out, &ex); err != nil {
		log.Fatalf("export output %q: %v", out, err)
	}
	rate := float64(ex.Rows) / ex.Secs
	row(engine, fmt.Sprintf("export of %s customers", thousands(ex.Rows)), fmt.Sprintf("%s rows/s", thousands(int(rate))), "≥ 200,000 rows/s", rate >= 200_000)
	row(engine, "export peak RSS", fmt.Sprintf("%d MB", ex.PeakK/1024), "≤ 150 MB", ex.PeakK/1024 <= 150)
}

func merge(ctx context.Context, engine string, db *store.DB, svc *customers.Service, admin *crm.User) {

	// merge of 10 customers with 1,000 activity entries each
	var mergeIDs []int64
	for i := range 10 {
		c, err := svc.Create(ctx, admin, customers.NewCustomer{FullName: fmt.Sprintf("Merge bench %d", i),
			Contact: &customers.ContactInput{Channel: crm.ChannelEmail, Value: fmt.Sprintf("merge%d.%d@bench.example", i, time.Now().UnixNano())}})
		if err != nil {
			log.Fatal(err)
		}
		acts := make([]crm.Activity, 1000)
		for j := range acts {
			acts[j] = crm.Activity{CustomerID: c.ID, Kind: crm.ActUpdated, Data: json.RawMessage(`{"field":"note"}`), At: time.Now()}
		}
		if err := db.AddActivities(ctx, acts); err != nil {
			log.Fatal(err)
		}
		mergeIDs = append(mergeIDs, c.ID)
	}
	took := timed(func() error {
		_, _, err := svc.Merge(ctx, admin, mergeIDs[0], mergeIDs[1:], true)
		return err
	})
	row(engine, "merge of 10 customers with 1,000 activity entries each", took.String(), "≤ 200ms", took <= 200*time.Millisecond)
}

// spreadSelection returns n active customers whose id ≡ k (mod 9), for a k
// that no earlier run on this database used (kept in a file in the temp
// folder, named after the database).
func spreadSelection(ctx context.Context, db *store.DB, dsn string, n int) ([]int64, int, error) {
	mark := filepath.Join(os.TempDir(), "crm-bench", "bulk-classes-"+strings.Map(func(r rune) rune {
		if r == '/' || r == ':' || r == '?' || r == '@' || r == '=' || r == '&' {
			return '_'
		}
		return r
	}, dsn))
	used, _ := os.ReadFile(mark)
	k := 0
	for k < 8 && strings.Contains(string(used), strconv.Itoa(k)+"\n") {
		k++
	}
	if strings.Contains(string(used), strconv.Itoa(k)+"\n") {
		log.Printf("every class of ids was changed by an earlier run: seed a new database for a clean measurement")
	}
	if err := os.MkdirAll(filepath.Dir(mark), 0o755); err != nil {
		return nil, 0, err
	}
	if err := os.WriteFile(mark, append(used, strconv.Itoa(k)+"\n"...), 0o644); err != nil {
		return nil, 0, err
	}
	var ids []int64
	var after int64
	for len(ids) < n {
		page, err := db.CustomerIDs(ctx, crm.CustomerFilter{}, after, 10_000)
		if err != nil || len(page) == 0 {
			return ids, k, err
		}
		for _, id := range page {
			if id%9 == int64(k) && len(ids) < n {
				ids = append(ids, id)
			}
		}
		after = page[len(page)-1]
	}
	return ids, k, nil
}

// exportChild exports every customer to nowhere and prints rows, seconds and peak RSS.
func exportChild(dsn string) {
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	q, err := customers.New(db).ParseQuery(ctx, &crm.User{}, url.Values{"archived": {"all"}, "sort": {"created"}})
	if err != nil {
		log.Fatal(err)
	}
	defer profile(os.Getenv("BULKBENCH_EXPORT_PROFILE"))()
	start := time.Now()
	rows, err := exporter.Write(ctx, db, q, io.Discard, nil)
	if err != nil {
		log.Fatal(err)
	}
	secs := time.Since(start).Seconds()
	_ = json.NewEncoder(os.Stdout).Encode(map[string]any{"Rows": rows, "Secs": secs, "PeakK": peakRSSKiB()})
}

// profile writes a CPU profile to path ("" for none) until the returned func runs.
func profile(path string) func() {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Fatal(err)
	}
	return pprof.StopCPUProfile
}

// peakRSSKiB is this process's peak resident memory (VmHWM).
func peakRSSKiB() int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			k, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return k
		}
	}
	return 0
}

func timed(f func() error) time.Duration {
	start := time.Now()
	if err := f(); err != nil {
		log.Fatal(err)
	}
	return time.Since(start).Round(time.Millisecond)
}

func row(engine, what, result, target string, ok bool) {
	mark := "yes"
	if !ok {
		mark = "**no**"
	}
	fmt.Printf("| %s | %s | %s | %s | %s |\n", engine, what, result, target, mark)
}

// pgDatabase returns the DSN of a database on server, creating it when missing.
func pgDatabase(ctx context.Context, server, name string) string {
	c, err := pgx.Connect(ctx, server)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(ctx)
	var exists bool
	if err := c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		log.Fatal(err)
	}
	if !exists {
		if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
			log.Fatal(err)
		}
	}
	u, _ := url.Parse(server)
	u.Path = "/" + name
	return u.String()
}

func envOr(k, d string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return d
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
