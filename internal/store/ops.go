package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/acme/crm/internal/metrics"
	"github.com/acme/crm/internal/store/postgres"
	"github.com/acme/crm/internal/store/sqlite"
	"github.com/acme/crm/internal/store/sqlstore"
)

// readers is the pool of the read-only connections (SQLite), else the primary's.
func (db *DB) readers() *sql.DB {
	if r, ok := db.Store.(interface{ ReaderDB() *sql.DB }); ok {
		return r.ReaderDB()
	}
	return db.SQL
}

// RegisterMetrics reports the database pools in the crm_db_pool_* series:
// "primary" (the pgx pool) on PostgreSQL, "sqlite_writer" and
// "sqlite_readers" on SQLite.
func (db *DB) RegisterMetrics() {
	if db.Pool != nil {
		metrics.RegisterPool(metrics.PoolPrimary, metrics.PgxPool(db.Pool))
		return
	}
	metrics.RegisterPool(metrics.PoolSQLiteWriter, metrics.SQLPool(db.SQL))
	metrics.RegisterPool(metrics.PoolSQLiteReaders, metrics.SQLPool(db.readers()))
}

// Ready reports why the database cannot serve, or nil: it must answer (the
// caller bounds the wait with ctx), and every migration this binary embeds
// must be applied (a schema behind means another, older process or a
// restore left it so; this one was built for the newer one). On SQLite the
// check reads through a reader, never queueing behind the one writer.
func (db *DB) Ready(ctx context.Context) error {
	var want []int64
	var err error
	if db.Pool != nil {
		want, err = postgres.MigrationVersions()
	} else {
		want, err = sqlite.MigrationVersions()
	}
	if err != nil {
		return err
	}
	q := db.SQL
	if db.Pool == nil {
		q = db.readers()
	}
	applied, err := sqlstore.AppliedMigrations(ctx, q)
	if err != nil {
		return fmt.Errorf("database unavailable: %w", err)
	}
	var missing []string
	for _, v := range want {
		if !applied[v] {
			missing = append(missing, fmt.Sprint(v))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("schema not current: migration %s not applied (run crm migrate)", strings.Join(missing, ", "))
	}
	return nil
}

// Backup writes a consistent online copy of the database dsn names to out:
// SQLite with VACUUM INTO, PostgreSQL with pg_dump --format=custom.
func Backup(ctx context.Context, dsn, out string) error {
	if IsPostgres(dsn) {
		return postgres.Backup(ctx, dsn, out)
	}
	return sqlite.Backup(ctx, strings.TrimPrefix(dsn, "sqlite:"), out)
}

// Restore loads the backup file into the empty database dsn names, then
// opens it, which brings the schema of an older backup up to date.
func Restore(ctx context.Context, file, dsn string) error {
	var err error
	if IsPostgres(dsn) {
		err = postgres.Restore(ctx, file, dsn)
	} else {
		err = sqlite.Restore(ctx, file, strings.TrimPrefix(dsn, "sqlite:"))
	}
	if err != nil {
		return err
	}
	db, err := Open(ctx, dsn)
	if err != nil {
		return fmt.Errorf("restored, but bringing the schema up to date failed: %w", err)
	}
	return db.Close()
}
