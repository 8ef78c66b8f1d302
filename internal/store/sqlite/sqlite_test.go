package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store/sqlite"
	"github.com/acme/crm/internal/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) crm.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "crm.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
