package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/store"
)

// cmdCompanies times the Companies table (issue 13): each call is one
// GET /api/v1/companies through the real handler plus the owners query the
// page runs for the ids it shows, which is what /crm/companies costs before
// its template.
func cmdCompanies(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("companies", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o tableOptions
	var engines, only string
	fs.IntVar(&o.customers, "customers", 1_000_000, "customers in the benchmark database (seeded once, then reused; companies are 1 per 20, at most 50,000)")
	fs.IntVar(&o.runs, "runs", 40, "timed calls per query")
	fs.IntVar(&o.warmup, "warmup", 3, "untimed calls per query before the timed ones")
	fs.StringVar(&o.sqlitePath, "sqlite", "", "SQLite database file (default $TMPDIR/crm-bench/crm_companies_<customers>.db)")
	fs.StringVar(&o.postgres, "postgres", defaultPostgres(), "PostgreSQL server on which the database crm_companies_<customers> is created")
	fs.StringVar(&engines, "engines", "sqlite,postgres", "engines to measure, comma-separated")
	fs.StringVar(&only, "only", "", "measure only the queries whose name matches this regular expression")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.customers < 1 || o.runs < 1 || o.warmup < 0 {
		return errors.New("--customers and --runs must be at least 1, --warmup at least 0")
	}
	if o.sqlitePath == "" {
		o.sqlitePath = filepath.Join(os.TempDir(), "crm-bench", fmt.Sprintf("crm_companies_%d.db", o.customers))
	}
	for _, e := range strings.Split(engines, ",") {
		switch e = strings.TrimSpace(e); e {
		case "sqlite", "postgres":
			o.engines = append(o.engines, e)
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
	fmt.Fprintf(stdout, "# Companies table, server-side latency\n\n%s\n", machine())
	for _, engine := range o.engines {
		if err := companiesFor(ctx, engine, o, stdout, stderr); err != nil {
			return fmt.Errorf("%s: %w", engine, err)
		}
	}
	return nil
}

type companyQuery struct {
	name   string
	params url.Values
	deep   int // pages to walk first
}

func companyQueries() []companyQuery {
	var qs []companyQuery
	for _, key := range crm.CompanySortKeys {
		qs = append(qs, companyQuery{"sort " + key, vals("sort", key), 0}, companyQuery{"sort -" + key, vals("sort", "-"+key), 0})
	}
	qs = append(qs,
		companyQuery{"sort name, page 21", vals("sort", "name"), 20},
		companyQuery{"sort -customers_active, page 21", vals("sort", "-customers_active"), 20},
		companyQuery{"search \"ac\" (common), by name", vals("q", "ac"), 0},
		companyQuery{"search \"ac\", by -customers_active", vals("q", "ac", "sort", "-customers_active"), 0},
		companyQuery{"search \"zzq\" (no match)", vals("q", "zzq"), 0},
		companyQuery{"search a domain \".io\", by -created", vals("q", ".io", "sort", "-created"), 0},
		companyQuery{"country DE", vals("country", "DE"), 0},
		companyQuery{"country DE, by -customers_active", vals("country", "DE", "sort", "-customers_active"), 0},
		companyQuery{"country DE,FR,US by domain", vals("country", "DE", "country", "FR", "country", "US", "sort", "domain"), 0},
		companyQuery{"has_customers true", vals("has_customers", "true"), 0},
		companyQuery{"has_customers false", vals("has_customers", "false"), 0},
		companyQuery{"has_customers false, by -created", vals("has_customers", "false", "sort", "-created"), 0},
		companyQuery{"created in 3 months, by country", vals("created_from", "2024-03-01", "created_to", "2024-05-31", "sort", "country"), 0},
		companyQuery{"country DE + has + created, by -customers_active", vals("country", "DE", "has_customers", "true", "created_from", "2024-01-01", "sort", "-customers_active"), 0},
		companyQuery{"search \"ac\" + country US, by -domain", vals("q", "ac", "country", "US", "sort", "-domain"), 0},
	)
	return qs
}

func companiesFor(ctx context.Context, engine string, o tableOptions, stdout, stderr io.Writer) error {
	var db *store.DB
	var err error
	var where string
	if engine == "sqlite" {
		db, err = openSQLite(ctx, o.sqlitePath, o.customers, stderr)
		where = o.sqlitePath
	} else {
		name := fmt.Sprintf("crm_companies_%d", o.customers)
		db, err = openPostgresNamed(ctx, o.postgres, name, o.customers, stderr)
		where = "database " + name
	}
	if err != nil {
		return err
	}
	defer db.Close()
	app, err := startApp(ctx, db, "bench companies")
	if err != nil {
		return err
	}
	defer app.stop()
	handler, token := app.handler, app.token

	var nCompanies int
	if err := db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM companies WHERE archived_at IS NULL`).Scan(&nCompanies); err != nil {
		return err
	}
	type page struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
		NextCursor string `json:"next_cursor"`
		Total      int    `json:"total"`
	}
	call := func(params url.Values) (time.Duration, *page, error) {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/companies?"+params.Encode(), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		start := time.Now()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			return 0, nil, fmt.Errorf("GET %s: %d %s", req.URL, rec.Code, strings.TrimSpace(rec.Body.String()))
		}
		var p page
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			return 0, nil, err
		}
		// the page's owners, for the ids it shows, in one query
		ids := make([]int64, len(p.Items))
		for i, it := range p.Items {
			ids[i] = it.ID
		}
		if _, err := db.CompanyOwners(ctx, ids, customers.MaxCompanyOwners); err != nil {
			return 0, nil, err
		}
		return time.Since(start), &p, nil
	}
	target := targetSQLite
	if engine == "postgres" {
		target = targetPostgres
	}
	fmt.Fprintf(stdout, "\n## %s\n\n%s, %s customers, %s companies (%s); %d timed calls per query after %d warm-up calls; a call is the list API and the page's owners query.\n\n",
		map[string]string{"sqlite": "SQLite", "postgres": "PostgreSQL"}[engine], engineVersion(ctx, db), group(o.customers), group(nCompanies), where, o.runs, o.warmup)
	fmt.Fprintln(stdout, "| query | matches | p50 ms | p95 ms | target | meets it |")
	fmt.Fprintln(stdout, "|---|---:|---:|---:|---:|---|")
	for _, q := range companyQueries() {
		if o.only != nil && !o.only.MatchString(q.name) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		params := url.Values{}
		for k, v := range q.params {
			params[k] = slices.Clone(v)
		}
		for i := range q.deep {
			_, p, err := call(params)
			if err != nil {
				return err
			}
			if p.NextCursor == "" {
				return fmt.Errorf("%s: page %d is the last", q.name, i+1)
			}
			params.Set("cursor", p.NextCursor)
		}
		var times []time.Duration
		total := 0
		for i := range o.warmup + o.runs {
			d, p, err := call(params)
			if err != nil {
				return fmt.Errorf("%s: %w", q.name, err)
			}
			total = p.Total
			if i >= o.warmup {
				times = append(times, d)
			}
		}
		p50, p95 := percentile(times, 50), percentile(times, 95)
		fmt.Fprintf(stderr, "%-8s %-55s p50 %7.1f ms  p95 %7.1f ms\n", engine, q.name, ms(p50), ms(p95))
		meets := "yes"
		if p95 > target {
			meets = "**no**"
		}
		fmt.Fprintf(stdout, "| %s | %s | %.1f | %.1f | %d ms | %s |\n", q.name, group(total), ms(p50), ms(p95), target.Milliseconds(), meets)
	}
	return nil
}
