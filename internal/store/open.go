// Package store opens the store a DSN names: a file path or sqlite:PATH for
// SQLite, postgres:// or postgresql:// for PostgreSQL.
package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/replica"
	"github.com/acme/crm/internal/store/postgres"
	"github.com/acme/crm/internal/store/sqlite"
	"github.com/acme/crm/internal/store/sqlstore"
)

// DB is an open, migrated store with the handles background jobs and bulk
// loaders need beside the crm.Store.
type DB struct {
	crm.Store
	SQL  *sql.DB       // the writer pool
	Pool *pgxpool.Pool // PostgreSQL only
	// Replica routes the reads a streaming replica may answer (UseReplica);
	// nil without one.
	Replica *replica.Router
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

// UseReplica sends the reads a streaming replica may answer (the table, its
// counts and search, the drawer, exports) to the replica at dsn, as the
// returned Router decides per request (its Middleware, its Run). PostgreSQL
// only: SQLite has readers of its own.
func (db *DB) UseReplica(ctx context.Context, dsn string, opt replica.Options) (*replica.Router, error) {
	if db.Pool == nil {
		return nil, errors.New("--db-read (CRM_DB_READ) needs a PostgreSQL database (--db postgres://...): a SQLite database is read by the process's own reader connections")
	}
	if !IsPostgres(dsn) {
		return nil, errors.New("--db-read (CRM_DB_READ) must be a postgres:// address of a streaming replica of --db")
	}
	rs, ok := db.Store.(interface{ SetReadRouter(sqlstore.ReadRouter) })
	if !ok {
		return nil, errors.New("this store cannot read from a replica")
	}
	rdb, pool, err := postgres.OpenReplica(ctx, dsn, db.SQL)
	if err != nil {
		return nil, err
	}
	r := replica.New(ctx, db.SQL, rdb, pool, opt)
	rs.SetReadRouter(r)
	db.Replica = r
	return r, nil
}

// Close closes the replica's pool, then the store.
func (db *DB) Close() error {
	if db.Replica != nil {
		db.Replica.Close()
	}
	return db.Store.Close()
}
