package postgres_test

import (
	"context"
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
