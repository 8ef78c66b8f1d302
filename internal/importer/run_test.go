package importer

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

func genFile(t testing.TB, rows int) string {
	var b strings.Builder
	b.WriteString("first_name,last_name,email,company_name,tags\n")
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(&b, "F%d,L%d,p%d@example.com,Co %d,t%d\n", i, i, i, i%50, i%3)
	}
	p := filepath.Join(t.TempDir(), "f.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func admin(t testing.TB, db *store.DB) *crm.User {
	u := &crm.User{Email: "ada@example.com", Name: "Ada", Role: crm.RoleAdmin, Active: true, PasswordHash: "x", CreatedAt: time.Now()}
	if err := db.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

// Run imports a generated file in batches; a second run of the same file in
// create mode skips every row (the e-mails exist), in upsert mode updates them.
func TestRunBatches(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		const rows = 12_345
		path := genFile(t, rows)
		s := New(db, t.TempDir(), nil)
		s.BatchRows, s.TxRows = 1000, 1000
		u := admin(t, db)
		for _, mode := range []string{ModeCreate, ModeCreate, ModeUpsert} {
			j, _, err := s.Register(t.Context(), u, "f.csv", path, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.SetMapping(t.Context(), u, j.ID, nil, mode); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Submit(t.Context(), u, j.ID); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			batches := 0
			if err := s.Run(t.Context(), j.ID, func(crm.ImportJob) { batches++ }); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d rows in %v", mode, rows, time.Since(start))
			j, _ = db.GetImport(t.Context(), j.ID)
			if j.Status != crm.ImportDone || j.Processed != rows || j.Created+j.Updated+j.Skipped+j.Failed != rows || batches < 13 {
				t.Fatalf("%s: %+v after %d batches", mode, j, batches)
			}
		}
		var customers, emails int
		if err := db.SQL.QueryRow(`SELECT count(*), count(DISTINCT primary_email) FROM customers`).Scan(&customers, &emails); err != nil || customers != rows || emails != rows {
			t.Fatalf("%d customers, %d e-mails, %v", customers, emails, err)
		}
		// the 50 companies it created have their match keys (company duplicates)
		var companies, keyless int
		if err := db.SQL.QueryRow(`SELECT count(*), count(*) - count(match_name) FROM companies`).Scan(&companies, &keyless); err != nil || companies != 50 || keyless != 0 {
			t.Fatalf("%d companies, %d without match keys, %v", companies, keyless, err)
		}
	})
}

// An upsert reads the batch's customers at once and logs, for each row, the
// fields that row changed: a value, tag or segment the customer already has
// is not a change, and a second row for the same customer is compared with
// what the first row left.
func TestUpsertLogsWhatEachRowChanged(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		s := New(db, t.TempDir(), nil)
		u := admin(t, db)
		seg := &crm.Segment{Name: "Fair", CreatedAt: time.Now()}
		if err := db.CreateSegment(ctx, seg); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateCustomField(ctx, &crm.CustomField{Key: "size", Label: "Size", Type: crm.FieldNumber, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		run := func(mode, content string) *crm.ImportJob {
			t.Helper()
			path := filepath.Join(t.TempDir(), "f.csv")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			j, _, err := s.Register(ctx, u, "f.csv", path, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.SetMapping(ctx, u, j.ID, nil, mode); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Submit(ctx, u, j.ID); err != nil {
				t.Fatal(err)
			}
			if err := s.Run(ctx, j.ID, func(crm.ImportJob) {}); err != nil {
				t.Fatal(err)
			}
			j, _ = db.GetImport(ctx, j.ID)
			return j
		}
		header := "first_name,last_name,email,tags,segment_id,size\n"
		segID := fmt.Sprint(seg.ID)
		run(ModeCreate, header+"Ann,Berg,ann@example.com,vip,"+segID+",12.5\nBo,Lind,bo@example.com,,,7\n")
		j := run(ModeUpsert, header+
			"Xena,Berg,ann@example.com,VIP,"+segID+",12.50\n"+ // a new first name; the tag, segment and size she has
			"Xena,Berg,ann@example.com,vip;new,"+segID+",12.5\n"+ // the same name again, one new tag
			"Bo,Lind,bo@example.com,,,8\n") // a new size
		if j.Updated != 3 || j.Created != 0 || j.Failed != 0 {
			t.Fatalf("upsert %+v", j)
		}
		fields := func(email string) []string {
			t.Helper()
			page, err := db.FindCustomers(ctx, crm.CustomerQuery{Filter: crm.CustomerFilter{Q: email}, Limit: 2})
			if err != nil || len(page.Items) != 1 {
				t.Fatalf("%s: %v %v", email, page, err)
			}
			acts, err := db.ListActivity(ctx, page.Items[0].ID, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, a := range acts {
				if a.Kind == crm.ActImported {
					var d struct{ Fields []string }
					if err := json.Unmarshal(a.Data, &d); err != nil {
						t.Fatal(err)
					}
					out = append(out, strings.Join(d.Fields, "+"))
				}
			}
			slices.Sort(out)
			return out
		}
		if got := fields("ann@example.com"); !slices.Equal(got, []string{"first_name+full_name", "tags"}) {
			t.Fatalf("ann's import entries: %q", got)
		}
		if got := fields("bo@example.com"); !slices.Equal(got, []string{"custom:size"}) {
			t.Fatalf("bo's import entries: %q", got)
		}
		ann, err := db.FindCustomers(ctx, crm.CustomerQuery{Filter: crm.CustomerFilter{Q: "ann@example.com"}, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if c := ann.Items[0]; c.FirstName != "Xena" || strings.Join(c.Tags, ",") != "new,vip" || len(c.Segments) != 1 {
			t.Fatalf("ann after the upsert %+v", c)
		}
	})
}

// An import of many customers leaves the planner fresh statistics (on
// PostgreSQL; SQLite's planner uses none); a small one leaves them be.
func TestBigImportRefreshesStatistics(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		s := New(db, t.TempDir(), nil)
		s.AnalyzeRows = 100
		u := admin(t, db)
		estimate := func() float64 {
			t.Helper()
			if db.Pool == nil {
				return 0
			}
			var n float64
			if err := db.SQL.QueryRowContext(ctx, `SELECT reltuples FROM pg_class WHERE oid = 'customers'::regclass`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		for _, c := range []struct {
			rows int
			want float64 // PostgreSQL's estimate of the customers afterwards
		}{{50, -1}, {300, 300}} { // -1: never analyzed
			j, _, err := s.Register(ctx, u, "f.csv", genFile(t, c.rows), 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Submit(ctx, u, j.ID); err != nil {
				t.Fatal(err)
			}
			if err := s.Run(ctx, j.ID, nil); err != nil {
				t.Fatal(err)
			}
			if got := estimate(); db.Pool != nil && got != c.want {
				t.Fatalf("after an import of %d rows PostgreSQL estimates %v customers, want %v", c.rows, got, c.want)
			}
		}
	})
}
