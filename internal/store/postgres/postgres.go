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
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
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
	pool, err := connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	cfg := pool.Config()
	db := stdlib.OpenDBFromPool(pool)
	if err := migrate(ctx, db, pool); err != nil {
		db.Close()
		pool.Close()
		return nil, fmt.Errorf("migrating PostgreSQL database %s: %w", cfg.ConnConfig.Database, err)
	}
	st := &Store{Store: sqlstore.New(dialect{}, db, db), Pool: pool}
	if err := st.Prepare(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if err := st.BackfillSearch(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("indexing PostgreSQL database %s for search: %w", cfg.ConnConfig.Database, err)
	}
	return st, nil
}

// defaultPoolConns is the least connections the pool opens when the DSN
// names no pool_max_conns (several instances share max_connections, 100 by
// default: keep instances x this well below it).
const defaultPoolConns = 16

// Close closes the database/sql handle and the pool under it.
func (s *Store) Close() error {
	err := s.Store.Close()
	s.Pool.Close()
	return err
}

// connect opens a pool on dsn with the session settings every connection
// of the app gets (the primary's and a read replica's alike) and checks
// that the server answers.
func connect(ctx context.Context, dsn string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("invalid PostgreSQL address: %w", err)
	}
	setSession(cfg, dsn)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("cannot connect to PostgreSQL %s@%s/%s: %w", cfg.ConnConfig.User, cfg.ConnConfig.Host, cfg.ConnConfig.Database, err)
	}
	return pool, nil
}

// OpenReplica opens a pool on a streaming read replica of primary, with
// the session settings of the primary's connections. A replica that is down at start is no error (reads go to the primary until
// it answers); one that answers must be in recovery, of the same cluster,
// and hold the same database.
func OpenReplica(ctx context.Context, dsn string, primary *sql.DB) (*sql.DB, *pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("invalid PostgreSQL address of the read replica: %w", err)
	}
	setSession(cfg, dsn)
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > 2*time.Second {
		cfg.ConnConfig.ConnectTimeout = 2 * time.Second // a replica that does not answer falls back quickly
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	db := stdlib.OpenDBFromPool(pool)
	fail := func(err error) (*sql.DB, *pgxpool.Pool, error) {
		db.Close()
		pool.Close()
		return nil, nil, err
	}
	var recovery bool
	var sysID, dbName string
	err = db.QueryRowContext(ctx, `SELECT pg_is_in_recovery(), (SELECT system_identifier::text FROM pg_control_system()), current_database()`).Scan(&recovery, &sysID, &dbName)
	if err != nil {
		return db, pool, nil // down: the router finds it when it answers
	}
	var pSysID, pDBName string
	if err := primary.QueryRowContext(ctx, `SELECT (SELECT system_identifier::text FROM pg_control_system()), current_database()`).Scan(&pSysID, &pDBName); err != nil {
		return fail(err)
	}
	where := fmt.Sprintf("%s@%s:%d/%s", cfg.ConnConfig.User, cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	switch {
	case !recovery:
		return fail(fmt.Errorf("the read replica %s is not a standby (pg_is_in_recovery() is false): --db-read must name a streaming replica of --db", where))
	case sysID != pSysID:
		return fail(fmt.Errorf("the read replica %s is a standby of another cluster than --db (system identifier %s, the primary's %s)", where, sysID, pSysID))
	case dbName != pDBName:
		return fail(fmt.Errorf("the read replica %s names the database %q, the primary %q: both must name the same database", where, dbName, pDBName))
	}
	return db, pool, nil
}

// setSession sets what every connection of the app runs with.
func setSession(cfg *pgxpool.Config, dsn string) {
	// The app's queries are short and index-driven. A parallel plan starts
	// worker processes and, for a merge or nested-loop join, has every worker
	// read the whole inner side again: on the 2-core machines of
	// docs/benchmarks.md the list filtered by two tags took 67-86 ms with
	// parallel workers and 35-45 ms without.
	if _, set := cfg.ConnConfig.RuntimeParams["max_parallel_workers_per_gather"]; !set {
		cfg.ConnConfig.RuntimeParams["max_parallel_workers_per_gather"] = "0"
	}
	// pgx prepares every statement and keeps up to 512 per connection.
	// Statements run once (ids written as literal lists) are kept out of it
	// (OneOff); those whose number of parameters varies with their input
	// still make one entry per count. Kept at 512 with the one-off ones, a
	// million-row re-import held 149 MB (docs/import-benchmarks.md); 64 are
	// plenty for the app's repeated statements.
	if !strings.Contains(dsn, "statement_cache_capacity") {
		cfg.ConnConfig.StatementCacheCapacity = 64
	}
	// pgxpool's default of max(4, cores) connections is shared with River:
	// under the load test's 50 callers on 2 cores, requests queued for a
	// connection and River's leader election and job fetches timed out
	// ("pool at its connection limit"). Waiting requests now wait in
	// PostgreSQL, where a short query can pass a long one.
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = max(defaultPoolConns, int32(4*runtime.NumCPU()))
	}
}

func migrate(ctx context.Context, db *sql.DB, pool *pgxpool.Pool) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	// Out of order: a migration numbered below one already applied (work
	// merged from a parallel branch) is applied rather than refused.
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithAllowOutofOrder(true))
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
//
// GIN answers a prefix by collecting the rows of every word that starts with
// it before intersecting, so a short prefix of a common word costs as much as
// the table: "com" of an e-mail address matches most customers and took
// 30-45 ms of a 48-55 ms search for one address. When the query also has a
// long term (6 letters or more, which matches few words and rows), the
// terms shorter than 4 letters are therefore checked on the rows the others
// found, with ts_match_vq: the same match as @@, in a form the planner does
// not take to the index. The meaning is unchanged: every term must match.
func (dialect) SearchCondition(terms []string, next int) (string, []any) {
	hasLong := false
	for _, t := range terms {
		if utf8.RuneCountInString(t) >= 6 {
			hasLong = true
		}
	}
	var indexed, checked []string
	for _, t := range terms {
		if hasLong && utf8.RuneCountInString(t) < 4 {
			checked = append(checked, t+":*")
		} else {
			indexed = append(indexed, t+":*")
		}
	}
	cond := fmt.Sprintf(`c.search_vec @@ to_tsquery('simple', $%d)`, next)
	args := []any{strings.Join(indexed, " & ")}
	if len(checked) > 0 {
		cond += fmt.Sprintf(` AND ts_match_vq(c.search_vec, to_tsquery('simple', $%d))`, next+1)
		args = append(args, strings.Join(checked, " & "))
	}
	return cond, args
}

// IndexSearch has nothing to do: search_vec is a generated column.
func (dialect) IndexSearch(context.Context, sqlstore.Querier, int64, string) error { return nil }

// TimeText is whole seconds since 1970: to_char cost the server four times as much.
func (dialect) TimeText(expr string) string {
	return `CAST(CAST(floor(extract(epoch FROM ` + expr + `)) AS bigint) AS text)`
}

func (dialect) LongRead(context.Context, *sql.Conn) (func(), error) { return func() {}, nil }

// ForUpdate makes a read lock its rows (sqlstore.Locker): transactions
// run side by side under READ COMMITTED.
func (dialect) ForUpdate() string { return " FOR UPDATE" }

// ForNoKeyUpdate is the lock an UPDATE that leaves the keys takes.
func (dialect) ForNoKeyUpdate() string { return " FOR NO KEY UPDATE" }

// OneOff makes pgx run a statement that is run once (ids written as a
// literal list) without preparing it and keeping it among the prepared
// statements of the connection: kept, they pushed out the statements that
// are run again, and a million-row re-import held 149 MB of them.
func (dialect) OneOff() []any { return []any{pgx.QueryExecModeDescribeExec} }

// AnalyzeSQL refreshes the statistics of what an import writes: without
// them, right after a million customers were imported, PostgreSQL took
// "customer_id IN (5,000 ids)" for the whole of customer_tags and walked it
// (490 ms a batch), and re-importing the file ran at 4,200 rows/s instead of
// 15,300. About 2 s at a million customers.
func (dialect) AnalyzeSQL() string {
	return `ANALYZE customers, contacts, companies, customer_tags, segment_members, customer_scores, custom_values, activity`
}

// CopyFrom loads rows into table with COPY on conn, inside the transaction
// open there: pgx's CopyFrom (DESIGN.md measured 440-500k rows/s) instead of
// multi-row INSERTs, which parse and plan thousands of parameters per
// statement.
func (dialect) CopyFrom(ctx context.Context, conn *sql.Conn, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("copy into %s: not a pgx connection (%T)", table, dc)
		}
		if _, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("copy into %s: %w", table, err)
		}
		return nil
	})
}
