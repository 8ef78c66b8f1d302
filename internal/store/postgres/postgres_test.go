package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store/postgres"
	"github.com/acme/crm/internal/store/storetest"
	"github.com/acme/crm/internal/testdb"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) crm.Store {
		s, err := postgres.Open(context.Background(), testdb.DSN(t, "postgres"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// Statements written once each (ids as literal lists) must not pile up in
// pgx's statement cache: the pool keeps 64 per connection unless the
// address says otherwise.
func TestStatementCacheIsSmallUnlessSet(t *testing.T) {
	dsn := testdb.DSN(t, "postgres")
	for _, c := range []struct {
		dsn  string
		want int
	}{{dsn, 64}, {dsn + map[bool]string{true: "&", false: "?"}[strings.Contains(dsn, "?")] + "statement_cache_capacity=7", 7}} {
		s, err := postgres.Open(t.Context(), c.dsn)
		if err != nil {
			t.Fatal(err)
		}
		got := s.Pool.Config().ConnConfig.StatementCacheCapacity
		s.Close()
		if got != c.want {
			t.Errorf("%s: statement cache of %d, want %d", c.dsn, got, c.want)
		}
	}
}

// A statement that names its ids as a literal list is run without being
// kept among the connection's prepared statements; one that binds its
// values is kept, to be run again.
func TestOneOffStatementsAreNotKept(t *testing.T) {
	dsn := testdb.DSN(t, "postgres")
	dsn += map[bool]string{true: "&", false: "?"}[strings.Contains(dsn, "?")] + "pool_max_conns=1" // one session
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	batch := make([]int64, 600) // an import's batch: more than a page
	for i := range batch {
		batch[i] = 424242 + int64(i)
	}
	if _, err := s.GetCustomers(t.Context(), batch); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindCustomers(t.Context(), crm.CustomerQuery{Limit: 10}); err != nil {
		t.Fatal(err)
	}
	var kept, oneOff int
	if err := s.DB().QueryRowContext(t.Context(), `SELECT count(*), count(*) FILTER (WHERE statement LIKE '%' || $1 || '%')
		FROM pg_prepared_statements`, "424242").Scan(&kept, &oneOff); err != nil {
		t.Fatal(err)
	}
	if oneOff != 0 || kept == 0 {
		t.Fatalf("%d prepared statements kept, %d of them naming the ids of a one-off read", kept, oneOff)
	}
}

// The tag search is a range of name_key in byte order (migration 00012 makes
// the column COLLATE "C"): on a database whose collation is linguistic, as
// most production ones are, prefixes such as "ä" or "50%" still find their
// tags. The test databases are C.UTF-8, so this one is made with ICU's en-US.
func TestSearchTagsUnderLinguisticCollation(t *testing.T) {
	server := os.Getenv("CRM_TEST_POSTGRES")
	if server == "" {
		t.Skip("CRM_TEST_POSTGRES is not set")
	}
	admin, err := pgx.Connect(t.Context(), server)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "crm_test_icu_" + hex.EncodeToString(b)
	if _, err := admin.Exec(t.Context(), "CREATE DATABASE "+name+" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'"); err != nil {
		admin.Close(context.Background())
		t.Skipf("no ICU collation on this server: %v", err)
	}
	t.Cleanup(func() { // after the store below is closed; the admin connection is kept open for it
		_, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close(context.Background())
	})
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	s, err := postgres.Open(t.Context(), u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.SearchTags(t, s)
}
