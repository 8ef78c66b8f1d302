package postgres_test

import (
	"database/sql"
	"io/fs"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store/postgres"
	"github.com/acme/crm/internal/store/storetest"
	"github.com/acme/crm/internal/testdb"
)

// Migration 00008 moves contact-level suppressions to their addresses.
func TestAddressSuppressionMigration(t *testing.T) {
	dsn := testdb.DSN(t, "postgres")
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sub, _ := fs.Sub(postgres.Migrations, "migrations")
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(t.Context(), 7); err != nil {
		t.Fatal(err)
	}
	storetest.AddressSuppressionMigration(t, db, func() crm.Store {
		db.Close()
		st, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	})
}

// Migration 00015 adds the company and owner sort keys; the store refolds search text.
func TestSortKeysAndFoldMigration(t *testing.T) {
	dsn := testdb.DSN(t, "postgres")
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sub, _ := fs.Sub(postgres.Migrations, "migrations")
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(t.Context(), 12); err != nil {
		t.Fatal(err)
	}
	storetest.SortKeysAndFoldMigration(t, db, nil, func() crm.Store {
		db.Close()
		st, err := postgres.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	})
}
