// Package sqlite opens the SQLite store (the default): a pure-Go driver, WAL,
// one writer connection and a small pool of read-only connections, with the
// schema migrated on open (goose for ours, rivermigrate for River's).
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/acme/crm/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the SQLite store.
type Store struct {
	*sqlstore.Store
	Path string
}

// pragmas: WAL for concurrent readers, a busy timeout, foreign keys, and
// BEGIN IMMEDIATE so read-then-write transactions queue instead of failing.
const pragmas = "_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)" +
	"&_pragma=synchronous(NORMAL)&_txlock=immediate&_time_format=sqlite"

// The page caches, in KiB. Readers keep 64 MiB each for the customer table
// at a million rows (docs/benchmarks.md). The writer's cache mostly holds
// pages an import or a bulk action is changing; measured on the import
// (docs/import-benchmarks.md), 16 MiB wrote as fast as 64 MiB, and the
// server's peak memory went from about 215 MB to 115-135 MB.
const writerCacheKiB, readerCacheKiB = 16 << 10, 64 << 10

// readerMmap is how much of the file readers map into memory (the most
// this SQLite build allows). In WAL mode a reader drops its whole page
// cache whenever another connection has written since its last read, and
// River's leader election writes every few seconds: without the map every
// reader read its pages again with a system call each into freshly
// allocated cache pages, and the server held about 600 MB of them; with it,
// pages of the file are read where the kernel caches them (measured in
// docs/benchmarks.md, "Several users at once").
const readerMmap = 2147418112

// Open opens (creating when missing) the database file at path and migrates it.
func Open(ctx context.Context, path string) (*Store, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("cannot create the database folder %s: %w", dir, err)
		}
	}
	base := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + pragmas
	w, err := sql.Open("sqlite", base+fmt.Sprintf("&_pragma=cache_size(-%d)", writerCacheKiB))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1) // SQLite has one writer; River also wants one connection
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("cannot open SQLite database %s: %w", path, err)
	}
	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, fmt.Errorf("migrating SQLite database %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", readerDSN(base))
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(max(4, runtime.NumCPU()*2))
	r.SetMaxIdleConns(max(4, runtime.NumCPU()*2))
	st := &Store{Store: sqlstore.New(dialect{}, w, r), Path: path}
	if err := st.Prepare(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if err := st.BackfillSearch(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("indexing SQLite database %s for search: %w", path, err)
	}
	return st, nil
}

// readerDSN is the data source of the readers, from the writer's base.
func readerDSN(base string) string {
	return base + fmt.Sprintf("&_pragma=cache_size(-%d)&_pragma=query_only(1)&_pragma=mmap_size(%d)", readerCacheKiB, readerMmap)
}

func migrate(ctx context.Context, db *sql.DB) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	// Out of order: a migration numbered below one already applied (work
	// merged from a parallel branch) is applied rather than refused.
	p, err := goose.NewProvider(goose.DialectSQLite3, db, sub, goose.WithAllowOutofOrder(true))
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return err
	}
	rm, err := rivermigrate.New(riversqlite.New(db), nil)
	if err != nil {
		return err
	}
	_, err = rm.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}

type dialect struct{}

func (dialect) Name() string { return "sqlite" }

func (dialect) IsUniqueViolation(err error) bool {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// SearchCondition asks FTS5 for customers with a word starting with each
// term: "jo"* AND "dudek"* (terms hold only letters and digits).
//
// The condition is a set of ids, "c.id IN (SELECT rowid ...)", and the list
// query relies on that shape: SQLite reads the matches first and looks the
// customers up, which is right for a count and for a page of few matches;
// for a page of many, the list writes "+c.id IN (...)" so that SQLite walks
// the sort order and checks each customer against the matches (read once)
// instead of sorting all of them. A correlated form (one MATCH per customer)
// would repeat the prefix expansion for every row: seconds at a million.
//
// A one-letter term ("a" of "a.adam") has no prefix index (the index keeps
// prefixes of 2 and 3), so FTS5 would gather the rows of every word that
// starts with it, most of the table, before intersecting. When a longer term
// is typed too, the one-letter terms are checked on the rows the others
// found instead: search_text is the folded words joined by single spaces
// (crm.SearchText), so " a" in " " || search_text is a word starting with a.
// The meaning is unchanged: every term must match.
func (dialect) SearchCondition(terms []string, next int) (string, []any) {
	longer := slices.ContainsFunc(terms, func(t string) bool { return utf8.RuneCountInString(t) > 1 })
	var parts []string
	var checks []any
	for _, t := range terms {
		if longer && utf8.RuneCountInString(t) == 1 {
			checks = append(checks, " "+t)
		} else {
			parts = append(parts, `"`+t+`"*`)
		}
	}
	cond := fmt.Sprintf(`c.id IN (SELECT rowid FROM customers_fts WHERE customers_fts MATCH $%d)`, next)
	args := []any{strings.Join(parts, " AND ")}
	for i := range checks {
		cond += fmt.Sprintf(` AND instr(' ' || c.search_text, $%d) > 0`, next+1+i)
	}
	return cond, append(args, checks...)
}

// IndexSearch replaces a customer's row in the FTS index.
func (dialect) IndexSearch(ctx context.Context, q sqlstore.Querier, id int64, text string) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM customers_fts WHERE rowid = $1`, id); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `INSERT INTO customers_fts (rowid, search_text) VALUES ($1, $2)`, id, text)
	return err
}

// IndexSearchMany replaces many customers' rows in the FTS index from their
// stored search_text, in two statements (a company merge moves thousands).
func (dialect) IndexSearchMany(ctx context.Context, q sqlstore.Querier, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	var b strings.Builder
	args := make([]any, len(ids))
	for i, id := range ids {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", i+1)
		args[i] = id
	}
	if _, err := q.ExecContext(ctx, `DELETE FROM customers_fts WHERE rowid IN (`+b.String()+`)`, args...); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `INSERT INTO customers_fts (rowid, search_text) SELECT id, search_text FROM customers WHERE id IN (`+b.String()+`)`, args...)
	return err
}

// TimeText is the stored text itself ("2006-01-02 15:04:05.999999+00:00",
// modernc's _time_format=sqlite): converting it in SQL cost more than
// reading it in Go.
func (dialect) TimeText(expr string) string { return expr }

// LongRead gives the connection a small page cache for the read: an export
// reads each page once (the operating system caches the file), and a pooled
// reader's 64 MB cache, filled by one export, costs the process about twice
// that (each page is a bigger allocation) and stays filled.
//
// It also reads without the file mapped: the map would make every page of
// the database part of the process's resident memory for the export.
func (dialect) LongRead(ctx context.Context, conn *sql.Conn) (func(), error) {
	var size, mapped int64
	if err := conn.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&size); err != nil {
		return nil, err
	}
	if err := conn.QueryRowContext(ctx, `PRAGMA mmap_size`).Scan(&mapped); err != nil {
		return nil, err
	}
	set := func(ctx context.Context, cache, mmap int64) error {
		_, err := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA cache_size = %d`, cache))
		if err == nil {
			_, err = conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA mmap_size = %d`, mmap))
		}
		return err
	}
	if err := set(ctx, -2048, 0); err != nil {
		return nil, err
	}
	return func() {
		// the connection goes back to the pool: give it its cache and map
		// back, or drop it from the pool if that fails
		if err := set(context.Background(), size, mapped); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}, nil
}
