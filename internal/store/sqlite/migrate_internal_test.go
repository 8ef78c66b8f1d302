package sqlite

import (
	"database/sql"
	"io/fs"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store/storetest"
)

// Migration 00008 moves contact-level suppressions to their addresses.
func TestAddressSuppressionMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crm.db")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+pragmas)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sub, _ := fs.Sub(migrations, "migrations")
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(t.Context(), 7); err != nil {
		t.Fatal(err)
	}
	storetest.AddressSuppressionMigration(t, db, func() crm.Store {
		db.Close()
		st, err := Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	})
}

// Migration 00015 adds the company and owner sort keys; the store refolds search text.
func TestSortKeysAndFoldMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "crm.db")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+pragmas)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sub, _ := fs.Sub(migrations, "migrations")
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(t.Context(), 12); err != nil {
		t.Fatal(err)
	}
	index := func(id int64, text string) {
		if _, err := db.ExecContext(t.Context(), `INSERT INTO customers_fts (rowid, search_text) VALUES ($1, $2)`, id, text); err != nil {
			t.Fatal(err)
		}
	}
	storetest.SortKeysAndFoldMigration(t, db, index, func() crm.Store {
		db.Close()
		st, err := Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	})
}
