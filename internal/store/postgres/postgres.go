// Package postgres opens the PostgreSQL store: a pgx pool (also used by River
// and for COPY) behind database/sql, with the schema migrated on open.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/acme/crm/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the PostgreSQL store.
type Store struct {
	*sqlstore.Store
	Pool *pgxpool.Pool
}

// Open connects to dsn (postgres://...) and migrates the schema.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("invalid PostgreSQL address: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("cannot connect to PostgreSQL %s@%s/%s: %w", cfg.ConnConfig.User, cfg.ConnConfig.Host, cfg.ConnConfig.Database, err)
	}
	db := stdlib.OpenDBFromPool(pool)
	if err := migrate(ctx, db, pool); err != nil {
		db.Close()
		pool.Close()
		return nil, fmt.Errorf("migrating PostgreSQL database %s: %w", cfg.ConnConfig.Database, err)
	}
	return &Store{Store: sqlstore.New(dialect{}, db, db), Pool: pool}, nil
}

// Close closes the database/sql handle and the pool under it.
func (s *Store) Close() error {
	err := s.Store.Close()
	s.Pool.Close()
	return err
}

func migrate(ctx context.Context, db *sql.DB, pool *pgxpool.Pool) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return err
	}
	rm, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return err
	}
	_, err = rm.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}

type dialect struct{}

func (dialect) Name() string { return "postgres" }

func (dialect) IsUniqueViolation(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505"
}

// SearchCondition matches a name or e-mail prefix.
func (dialect) SearchCondition(q string, next int) (string, []any) {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	p := r.Replace(strings.ToLower(strings.TrimSpace(q))) + "%"
	return fmt.Sprintf(`(c.name_key LIKE $%d OR c.primary_email LIKE $%d)`, next, next), []any{p}
}
