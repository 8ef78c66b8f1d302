// Package sqlstore is the SQL shared by both stores. SQLite (modernc) and
// PostgreSQL (pgx) both bind $1, $2 by position and both speak RETURNING,
// ON CONFLICT, partial and expression indexes and row-value comparisons, so
// the queries are written once here; what differs (connection set-up,
// migrations, error codes, text search, bulk loading) is a Dialect supplied by
// internal/store/sqlite and internal/store/postgres.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/acme/crm/internal/crm"
)

// Dialect is what differs between the engines.
type Dialect interface {
	Name() string
	// IsUniqueViolation reports a unique or primary key constraint failure.
	IsUniqueViolation(err error) bool
	// SearchCondition returns a SQL condition (on alias c = customers) that
	// matches customers whose search text has a word starting with each term
	// (crm.MatchesSearch), with its arguments numbered from next.
	SearchCondition(terms []string, next int) (cond string, args []any)
	// IndexSearch updates the engine's search index for one customer.
	IndexSearch(ctx context.Context, q Querier, id int64, text string) error
	// TimeText is SQL for a stored time as text that parseTimeText reads
	// (seconds since 1970, RFC 3339, or SQLite's stored form), NULL for NULL.
	TimeText(expr string) string
	// LongRead sets up a pinned reader connection for a long sequential read
	// (an export) and returns what undoes it.
	LongRead(ctx context.Context, conn *sql.Conn) (restore func(), err error)
}

// Copier is a Dialect that can bulk-load rows into a table on the
// connection of a transaction (PostgreSQL's COPY). Bulk work uses it when
// the dialect has it and multi-row INSERTs otherwise.
type Copier interface {
	CopyFrom(ctx context.Context, conn *sql.Conn, table string, cols []string, rows [][]any) error
}

// OneOffer is a Dialect with arguments to put before those of a statement
// that is run once (one that writes ids as a literal list): PostgreSQL's
// driver would otherwise prepare it and keep it with the statements it
// runs again.
type OneOffer interface {
	OneOff() []any
}

// once is args for a statement run once (OneOffer).
func (s *Store) once(args ...any) []any {
	if o, ok := s.d.(OneOffer); ok {
		return append(o.OneOff(), args...)
	}
	return args
}

// Analyzer is a Dialect whose planner plans from statistics that a bulk
// load leaves behind (PostgreSQL: autovacuum refreshes them, but only
// after its next nap, and never where it is turned off). SQLite's planner
// has none unless ANALYZE is run, and the SQL is written not to need them.
type Analyzer interface {
	// AnalyzeSQL is the statement that refreshes the statistics of the
	// tables a bulk load writes.
	AnalyzeSQL() string
}

// Locker is a Dialect whose write transactions run side by side, so that
// one must lock the rows it decides on (PostgreSQL: FOR UPDATE). SQLite's
// run one at a time on the one writer connection (BEGIN IMMEDIATE), so
// nothing changes a row between a read and a write of one transaction.
type Locker interface {
	// ForUpdate is the clause that makes a SELECT lock the rows it reads.
	ForUpdate() string
	// ForNoKeyUpdate locks rows the transaction goes on to update, though
	// not their keys (a kept count): taken up front, two such transactions
	// queue, where two that first shared the rows would deadlock upgrading.
	ForNoKeyUpdate() string
}

// RefreshStatistics runs the dialect's AnalyzeSQL, when it has one.
func (s *Store) RefreshStatistics(ctx context.Context) error {
	a, ok := s.d.(Analyzer)
	if !ok {
		return nil
	}
	_, err := s.wq().ExecContext(ctx, a.AnalyzeSQL())
	return err
}

// Querier is what *sql.DB and *sql.Tx have in common.
type Querier = querier

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Store implements crm.Store over database/sql.
type Store struct {
	d     Dialect
	w     *sql.DB      // the writer (SQLite: one connection)
	r     *sql.DB      // readers (may be the same pool as w)
	tx    *sql.Tx      // set inside InTx
	conn  *sql.Conn    // the connection tx runs on (for a Copier), or, without tx, a pinned reader (ExportCustomers)
	stmts *sync.Map    // SQL text -> *sql.Stmt prepared on w, shared with transactions
	rr    ReadRouter   // where the reads a replica may answer go (nil: r)
	drive *driveBounds // when a count drives from the rows, when a score sort hashes (nil: the defaults)
}

// ReadRouter sends the reads a read replica may answer (the table, its
// counts and search, the drawer, exports) to one, per request: every other
// read and every write stays on the store's own pools, and inside a
// transaction everything stays on it.
type ReadRouter interface {
	// Reader is where such a read under ctx goes; primary when ctx asks
	// for no replica, or the replica is down or behind.
	Reader(ctx context.Context, primary *sql.DB) Querier
	// Conn is a connection for a long read (an export) under ctx.
	Conn(ctx context.Context, primary *sql.DB) (*sql.Conn, error)
}

// SetReadRouter sends the reads a replica may answer through rr (set once,
// before the store is used).
func (s *Store) SetReadRouter(rr ReadRouter) { s.rr = rr }

// lq returns where a read that a replica may answer goes: as rq, unless a
// ReadRouter is set and neither a transaction nor a pinned connection is.
func (s *Store) lq(ctx context.Context) querier {
	if s.tx != nil || s.conn != nil || s.rr == nil {
		return s.rq()
	}
	return s.rr.Reader(ctx, s.r)
}

var _ crm.Store = (*Store)(nil)

// New returns a Store over a writer pool and a reader pool (may be the same).
func New(d Dialect, writer, reader *sql.DB) *Store {
	return &Store{d: d, w: writer, r: reader, stmts: &sync.Map{}}
}

// Prepare readies the statements bulk work reuses; the engines call it on open.
func (s *Store) Prepare(ctx context.Context) error {
	_, err := s.stmt(ctx, fullActivityInsert)
	return err
}

// Engine names the database engine.
func (s *Store) Engine() string { return s.d.Name() }

// DB returns the writer pool (for migrations, River and bulk loaders).
func (s *Store) DB() *sql.DB { return s.w }

// ReaderDB returns the readers' pool (the writer's on PostgreSQL), for its
// metrics and for checks that must not queue behind the writer.
func (s *Store) ReaderDB() *sql.DB { return s.r }

// MigrationVersions lists the versions of the goose migrations in fsys
// (migrations/*.sql), ascending.
func MigrationVersions(fsys fs.FS) ([]int64, error) {
	names, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	out := make([]int64, 0, len(names))
	for _, n := range names {
		v, err := goose.NumericComponent(n)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	slices.Sort(out)
	return out, nil
}

// AppliedMigrations lists the goose migration versions applied in db, for
// the readiness check: a version counts when its latest row says applied
// (goose writes version 0 for itself, left out).
func AppliedMigrations(ctx context.Context, db *sql.DB) (map[int64]bool, error) {
	rows, err := db.QueryContext(ctx, `SELECT version_id, is_applied FROM goose_db_version ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var v int64
		var applied bool
		if err := rows.Scan(&v, &applied); err != nil {
			return nil, err
		}
		if v > 0 {
			out[v] = applied
		}
	}
	return out, rows.Err()
}

// Close closes both pools.
func (s *Store) Close() error {
	s.stmts.Range(func(_, v any) bool { v.(*sql.Stmt).Close(); return true })
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

// rq returns where reads go: the transaction when in one, else the readers.
func (s *Store) rq() querier {
	if s.tx != nil {
		return s.tx
	}
	if s.conn != nil {
		return s.conn
	}
	return s.r
}

// wq returns where writes go.
func (s *Store) wq() querier {
	if s.tx != nil {
		return s.tx
	}
	return s.w
}

// InTx runs fn in one transaction on the writer.
func (s *Store) InTx(ctx context.Context, fn func(tx crm.Store) error) (err error) {
	if s.tx != nil {
		return fn(s) // already in one: join it
	}
	// The transaction runs on a connection of its own, so that engine
	// features outside database/sql (COPY) can join it.
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
			return
		}
		err = tx.Commit()
	}()
	return fn(&Store{d: s.d, w: s.w, r: s.r, tx: tx, conn: conn, stmts: s.stmts, rr: s.rr, drive: s.drive})
}

// inTx runs fn in a transaction of this package's own type.
func (s *Store) inTx(ctx context.Context, fn func(tx *Store) error) error {
	return s.InTx(ctx, func(tx crm.Store) error { return fn(tx.(*Store)) })
}

// ts is how every time is written: UTC, microseconds (PostgreSQL's precision),
// so that both engines store and compare the same instant.
func ts(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// tsp is ts for optional times.
func tsp(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ts(*t)
}

func timePtr(nt sql.NullTime) *time.Time {
	if !nt.Valid {
		return nil
	}
	t := nt.Time.UTC()
	return &t
}

func int64Ptr(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	v := n.Int64
	return &v
}

func nullInt(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// conflict turns a unique violation into a crm conflict with msg; other errors pass through.
func (s *Store) conflict(err error, msg string) error {
	if err != nil && s.d.IsUniqueViolation(err) {
		return &crm.Error{Code: crm.CodeConflict, Message: msg, Err: err}
	}
	return err
}

// notFound turns sql.ErrNoRows into a crm not-found error.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return crm.NotFound(what)
	}
	return err
}

// mustAffect returns a not-found error when an update touched no row.
func mustAffect(res sql.Result, err error, what string) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return crm.NotFound(what)
	}
	return nil
}

// exec1 runs a statement that must touch at least one row, else reports what as not found.
func (s *Store) exec1(ctx context.Context, what, query string, args ...any) error {
	res, err := s.wq().ExecContext(ctx, query, args...)
	return mustAffect(res, err, what)
}

// stmt returns a prepared statement for a fixed SQL text (the big multi-row
// INSERTs of bulk work), prepared once: re-preparing them for every batch
// cost SQLite more than running them.
//
// Inside a transaction it never asks the pool for a connection: on SQLite the
// pool has one, which the transaction holds. Statements are prepared on the
// pool when the store opens (see Prepare).
func (s *Store) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	v, ok := s.stmts.Load(query)
	if !ok && s.tx != nil {
		return s.tx.PrepareContext(ctx, query) // not cached: belongs to this transaction
	}
	if !ok {
		st, err := s.w.PrepareContext(ctx, query)
		if err != nil {
			return nil, err
		}
		if v, ok = s.stmts.LoadOrStore(query, st); ok {
			st.Close() // another goroutine prepared it first
		}
	}
	st := v.(*sql.Stmt)
	if s.tx != nil {
		return s.tx.StmtContext(ctx, st), nil
	}
	return st, nil
}
