package importer

import (
	"fmt"
	"os"
	"path/filepath"
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
	})
}
