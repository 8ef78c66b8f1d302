//go:build seedbench

// Measures a full-size seed:
//
//	go test -tags seedbench -run TestSeedSize -v -timeout 30m ./internal/seed
//
// SEED_CUSTOMERS overrides the 1,000,000 customers; CRM_TEST_POSTGRES adds PostgreSQL.
package seed

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/acme/crm/internal/store"
)

func benchCount(t *testing.T) int {
	n := 1_000_000
	if s := os.Getenv("SEED_CUSTOMERS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

func runSize(t *testing.T, db *store.DB) Stats {
	st, err := Run(context.Background(), db, Options{Customers: benchCount(t), Seed: 1, Now: testNow, HashPassword: cheapHash, Progress: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", st)
	return st
}

func TestSeedSizeSQLite(t *testing.T) {
	dir := t.TempDir()
	if d := os.Getenv("SEED_DIR"); d != "" {
		dir = d
	}
	db, err := store.Open(context.Background(), filepath.Join(dir, "crm.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := runSize(t, db)
	var size int64
	matches, _ := filepath.Glob(filepath.Join(dir, "crm.db*"))
	for _, m := range matches {
		if fi, err := os.Stat(m); err == nil {
			size += fi.Size()
		}
	}
	t.Logf("SQLite: %v; database files %d MB", st.Elapsed, size>>20)
}

func TestSeedSizePostgres(t *testing.T) {
	st := runSize(t, openPostgres(t))
	t.Logf("PostgreSQL: %v", st.Elapsed)
}
