package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/acme/crm/internal/accounts"
	"github.com/acme/crm/internal/seed"
	"github.com/acme/crm/internal/store"
)

// seedNow is "today" for the benchmark data, so that every machine seeds the
// same customers (created over the two years before it).
var seedNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// defaultSQLitePath is where the SQLite benchmark database of n customers
// lives unless --sqlite names a file: under $TMPDIR (else /tmp), kept between
// runs so that the seed is paid once.
func defaultSQLitePath(n int) string {
	return filepath.Join(os.TempDir(), "crm-bench", fmt.Sprintf("table-%d.db", n))
}

// defaultPostgres is the server the PostgreSQL benchmark database is created on.
func defaultPostgres() string {
	if s := os.Getenv("CRM_TEST_POSTGRES"); s != "" {
		return s
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// openSQLite opens (creating and seeding when empty) the SQLite database at path.
func openSQLite(ctx context.Context, path string, n int, log io.Writer) (*store.DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := ensureSeeded(ctx, db, n, "SQLite "+path, log); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// openPostgres opens the database crm_bench_<n> on the server named by
// server, creating and seeding it when missing or empty.
func openPostgres(ctx context.Context, server string, n int, log io.Writer) (*store.DB, error) {
	return openPostgresNamed(ctx, server, fmt.Sprintf("crm_bench_%d", n), n, log)
}

// openPostgresNamed is openPostgres for the database called name.
func openPostgresNamed(ctx context.Context, server, name string, n int, log io.Writer) (*store.DB, error) {
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("--postgres must be a postgres:// URL, not %q", server)
	}
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL %s: %w", u.Redacted(), err)
	}
	var exists bool
	err = admin.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists)
	if err == nil && !exists {
		fmt.Fprintf(log, "creating PostgreSQL database %s\n", name)
		_, err = admin.Exec(ctx, "CREATE DATABASE "+name)
	}
	admin.Close(ctx)
	if err != nil {
		return nil, err
	}
	u.Path = "/" + name
	db, err := store.Open(ctx, u.String())
	if err != nil {
		return nil, err
	}
	if err := ensureSeeded(ctx, db, n, "PostgreSQL database "+name, log); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// ensureSeeded seeds an empty database with n customers, accepts one that
// holds exactly n, and refuses anything else (it never deletes data).
func ensureSeeded(ctx context.Context, db *store.DB, n int, what string, log io.Writer) error {
	var have int
	if err := db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM customers`).Scan(&have); err != nil {
		return err
	}
	switch {
	case have == n:
		fmt.Fprintf(log, "reusing %s (%d customers)\n", what, have)
		if u, err := unsettled(ctx, db); err != nil || !u {
			return err
		}
		return settle(ctx, db, log)
	case have != 0:
		return fmt.Errorf("%s holds %d customers, not %d: remove it (or name another) to seed a fresh one", what, have, n)
	}
	fmt.Fprintf(log, "seeding %s with %d customers\n", what, n)
	acc := accounts.New(db)
	st, err := seed.Run(ctx, db, seed.Options{Customers: n, Seed: 1, Now: seedNow, HashPassword: acc.HashPassword, Progress: log})
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "seeded %s in %s\n", what, st.Elapsed.Round(time.Second))
	return settle(ctx, db, log)
}

// settle brings a freshly seeded database to the state a running one is in:
// SQLite with its write-ahead log checkpointed into the database file (reads
// of pages still in a large WAL go through its index, which a running server
// checkpoints long before), PostgreSQL vacuumed and analysed (autovacuum
// does the same soon after a bulk load; until then no index-only scan can
// skip the table).
func settle(ctx context.Context, db *store.DB, log io.Writer) error {
	start := time.Now()
	var err error
	if db.Engine() == "postgres" {
		fmt.Fprintln(log, "vacuuming and analysing (as autovacuum would after a bulk load)")
		_, err = db.SQL.ExecContext(ctx, `VACUUM (ANALYZE)`)
	} else {
		fmt.Fprintln(log, "checkpointing the write-ahead log")
		_, err = db.SQL.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "settled in %s\n", time.Since(start).Round(time.Second))
	return nil
}

// unsettled reports whether a reused database missed settle (a run killed
// between the seed and its end). A SQLite checkpoint costs nothing when there
// is nothing to copy, so it is always done.
func unsettled(ctx context.Context, db *store.DB) (bool, error) {
	if db.Engine() != "postgres" {
		_, err := db.SQL.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
		return false, err
	}
	var visible int
	err := db.SQL.QueryRowContext(ctx, `SELECT relallvisible FROM pg_class WHERE relname = 'customers' AND relkind = 'r'`).Scan(&visible)
	return visible == 0, err
}

// engineVersion reports the engine's version string.
func engineVersion(ctx context.Context, db *store.DB) string {
	var v string
	if db.Engine() == "postgres" {
		if err := db.SQL.QueryRowContext(ctx, `SHOW server_version`).Scan(&v); err != nil {
			return "?"
		}
		if i := strings.IndexByte(v, ' '); i > 0 {
			v = v[:i]
		}
		return "PostgreSQL " + v
	}
	if err := db.SQL.QueryRowContext(ctx, `SELECT sqlite_version()`).Scan(&v); err != nil {
		return "?"
	}
	return "SQLite " + v + " (modernc.org/sqlite)"
}
