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
	st := &Store{Store: sqlstore.New(dialect{}, db, db), Pool: pool}
	if err := st.BackfillSearch(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("indexing PostgreSQL database %s for search: %w", cfg.ConnConfig.Database, err)
	}
	return st, nil
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

// SearchCondition asks the GIN index for customers with a word starting with
// each term: jo:* & dudek:* (terms hold only letters and digits).
func (dialect) SearchCondition(terms []string, next int) (string, []any) {
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = t + ":*"
	}
	return fmt.Sprintf(`c.search_vec @@ to_tsquery('simple', $%d)`, next), []any{strings.Join(parts, " & ")}
}

// IndexSearch has nothing to do: search_vec is a generated column.
func (dialect) IndexSearch(context.Context, sqlstore.Querier, int64, string) error { return nil }
