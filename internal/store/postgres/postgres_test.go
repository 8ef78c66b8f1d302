package postgres_test

import (
	"context"
	"strings"
	"testing"

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
