// Package store opens the store a DSN names: a file path or sqlite:PATH for
// SQLite, postgres:// or postgresql:// for PostgreSQL.
package store

import (
	"context"
	"database/sql"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store/postgres"
	"github.com/acme/crm/internal/store/sqlite"
)

// DB is an open, migrated store with the handles background jobs and bulk
// loaders need beside the crm.Store.
type DB struct {
	crm.Store
	SQL  *sql.DB       // the writer pool
	Pool *pgxpool.Pool // PostgreSQL only
}

// IsPostgres reports whether a DSN names PostgreSQL.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open opens and migrates the database named by dsn.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if IsPostgres(dsn) {
		s, err := postgres.Open(ctx, dsn)
		if err != nil {
			return nil, err
		}
		return &DB{Store: s, SQL: s.DB(), Pool: s.Pool}, nil
	}
	s, err := sqlite.Open(ctx, strings.TrimPrefix(dsn, "sqlite:"))
	if err != nil {
		return nil, err
	}
	return &DB{Store: s, SQL: s.DB()}, nil
}
