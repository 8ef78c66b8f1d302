package replica_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acme/crm/internal/replica"
	"github.com/acme/crm/internal/store"
)

func TestLSN(t *testing.T) {
	for in, want := range map[string]uint64{"0/0": 0, "0/16B3748": 0x16B3748, "16/B374D848": 0x16<<32 | 0xB374D848, "FFFFFFFF/FFFFFFFF": 1<<64 - 1} {
		got, err := replica.ParseLSN(in)
		if err != nil || got != want {
			t.Errorf("%s: %x %v, want %x", in, got, err, want)
		}
		if back := replica.FormatLSN(got); back != strings.ToUpper(in) {
			t.Errorf("%x written as %s, want %s", got, back, in)
		}
	}
	for _, in := range []string{"", "0", "/1", "1/", "x/1", "1/1/1", "100000000/0", "-1/0", "0/ 1"} {
		if _, err := replica.ParseLSN(in); err == nil {
			t.Errorf("%q read as a WAL position", in)
		}
	}
}

// A SQLite database has readers of its own: a replica is refused with a
// clear error.
func TestReplicaRefusedOnSQLite(t *testing.T) {
	t.Parallel()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "crm.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.UseReplica(context.Background(), "postgres://postgres@127.0.0.1:1/crm", replica.Options{})
	if err == nil || !strings.Contains(err.Error(), "needs a PostgreSQL database") {
		t.Fatalf("replica on SQLite: %v", err)
	}
}
