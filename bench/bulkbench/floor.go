package main

// The engine floor (--floor): what the database engine alone costs for the
// rows a bulk action over 100,000 customers spread through a million must
// change, an import must insert and an export must read, without the product
// around it: the same statements, in the same chunks, on copies of the
// benchmark's tables with all their indexes, fewer, or none. The copies live
// in a file of their own (SQLite) or in tables named floor_* that are dropped
// at the end (PostgreSQL); the benchmark's own tables are only read.
// docs/benchmarks.md says what the numbers show.

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

const (
	selected = 100_000
	perTx    = 5000
)

// floor prints the engine floor's rows for one engine and database.
func floor(ctx context.Context, engine, dsn string) error {
	if engine == "postgres" {
		return floorPostgres(ctx, dsn)
	}
	return floorSQLite(ctx, dsn)
}

// spread is every 9th id of the table's range, starting at class k.
func spread(ctx context.Context, db *sql.DB, table string, k int) ([]int64, error) {
	var lo int64
	if err := db.QueryRowContext(ctx, `SELECT min(id) FROM `+table).Scan(&lo); err != nil {
		return nil, err
	}
	ids := make([]int64, 0, selected)
	for id := lo + int64(k); len(ids) < selected; id += 9 {
		ids = append(ids, id)
	}
	return ids, nil
}

func inList(ids []int64) string {
	b := []byte{'('}
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ')'))
}

// measure runs stmts (each with %s for the id list) over ids, perTx ids per
// transaction, as the bulk actions do, and prints the time.
func measure(ctx context.Context, db *sql.DB, engine, label string, ids []int64, stmts ...string) error {
	start := time.Now()
	for i := 0; i < len(ids); i += perTx {
		list := inList(ids[i:min(i+perTx, len(ids))])
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, fmt.Sprintf(s, list)); err != nil {
				tx.Rollback()
				return fmt.Errorf("%s: %w", label, err)
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	fmt.Printf("| %s | %s | %.2f |\n", engine, label, time.Since(start).Seconds())
	return nil
}

func execAll(ctx context.Context, db *sql.DB, stmts ...string) error {
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%.80s: %w", s, err)
		}
	}
	return nil
}

func floorSQLite(ctx context.Context, source string) error {
	path := filepath.Join(filepath.Dir(source), "floor.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
	defer func() {
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(path + suffix)
		}
	}()
	// the store's writer settings (internal/store/sqlite), foreign keys aside
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-16384)&_txlock=immediate")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := execAll(ctx, db, `ATTACH 'file:`+source+`?mode=ro' AS src`); err != nil {
		return err
	}
	schema := func(kind, table string) ([]string, error) {
		rows, err := db.QueryContext(ctx, `SELECT sql FROM src.sqlite_master WHERE type = ? AND tbl_name = ? AND sql IS NOT NULL`, kind, table)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, rows.Err()
	}
	copyTable := func(table string) error {
		create, err := schema("table", table)
		if err != nil || len(create) != 1 {
			return fmt.Errorf("table %s: %v", table, err)
		}
		return execAll(ctx, db, create[0], `INSERT INTO main.`+table+` SELECT * FROM src.`+table)
	}
	now := `'2026-11-28 12:00:00+00:00'`
	archive := `UPDATE customers SET archived_at = ` + now + `, updated_at = ` + now + ` WHERE id IN %s`

	create, err := schema("table", "customers")
	if err != nil {
		return err
	}
	indexes, err := schema("index", "customers")
	if err != nil {
		return err
	}
	var cols string
	if err := db.QueryRowContext(ctx, `SELECT group_concat(name, ', ') FROM pragma_table_info('customers', 'src')`).Scan(&cols); err != nil {
		return err
	}
	if err := execAll(ctx, db, append(create, indexes...)...); err != nil {
		return err
	}
	if err := importFloor(ctx, db, "sqlite", "customers", "src.customers", cols, now, len(indexes)); err != nil {
		return err
	}
	if err := execAll(ctx, db, `DROP TABLE customers`); err != nil {
		return err
	}
	if err := copyTable("customers"); err != nil {
		return err
	}
	ids, err := spread(ctx, db, "customers", 1)
	if err != nil {
		return err
	}
	if err := measure(ctx, db, "sqlite", "archive: UPDATE customers, no index but the id", ids, archive); err != nil {
		return err
	}
	if err := execAll(ctx, db, `CREATE INDEX customers_updated ON customers (updated_at, id)`); err != nil {
		return err
	}
	if ids, err = spread(ctx, db, "customers", 2); err != nil {
		return err
	}
	if err := measure(ctx, db, "sqlite", "tag's row change: UPDATE customers SET updated_at, with its index only", ids,
		`UPDATE customers SET updated_at = `+now+` WHERE id IN %s`); err != nil {
		return err
	}
	if err := execAll(ctx, db, `DROP INDEX customers_updated`); err != nil {
		return err
	}
	if err := execAll(ctx, db, indexes...); err != nil {
		return err
	}
	if ids, err = spread(ctx, db, "customers", 3); err != nil {
		return err
	}
	if err := measure(ctx, db, "sqlite", fmt.Sprintf("archive: UPDATE customers with its %d indexes", len(indexes)), ids, archive); err != nil {
		return err
	}
	for _, t := range []string{"customer_tags", "activity"} {
		if err := copyTable(t); err != nil {
			return err
		}
		idx, err := schema("index", t)
		if err != nil {
			return err
		}
		if err := execAll(ctx, db, idx...); err != nil {
			return err
		}
	}
	if ids, err = spread(ctx, db, "customers", 4); err != nil {
		return err
	}
	if err := measure(ctx, db, "sqlite", "tag's rows alone: INSERT customer_tags and activity, no customers change", ids, tagRows("", now)...); err != nil {
		return err
	}
	// the export's floor reads the benchmark's own database, as an export does
	src, err := sql.Open("sqlite", "file:"+source+"?mode=ro&_pragma=cache_size(-2048)")
	if err != nil {
		return err
	}
	defer src.Close()
	return readAll(ctx, src, "sqlite")
}

func floorPostgres(ctx context.Context, dsn string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	drop := func() {
		db.ExecContext(ctx, `DROP TABLE IF EXISTS floor_customers, floor_customer_tags, floor_activity`)
	}
	drop()
	defer drop()
	// the columns a copy can be given (not generated ones)
	var cols string
	if err := db.QueryRowContext(ctx, `SELECT string_agg(column_name, ', ' ORDER BY ordinal_position) FROM information_schema.columns
		WHERE table_name = 'customers' AND table_schema = current_schema() AND is_generated = 'NEVER'`).Scan(&cols); err != nil {
		return err
	}
	now := `'2026-11-28 12:00:00+00'`
	archive := `UPDATE floor_customers SET archived_at = ` + now + `, updated_at = ` + now + ` WHERE id IN %s`
	copyPlain := `INSERT INTO floor_customers (` + cols + `) SELECT ` + cols + ` FROM customers`
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_indexes WHERE tablename = 'customers' AND schemaname = current_schema()`).Scan(&n); err != nil {
		return err
	}
	if err := execAll(ctx, db, `CREATE TABLE floor_customers (LIKE customers INCLUDING ALL)`); err != nil {
		return err
	}
	if err := importFloor(ctx, db, "postgres", "floor_customers", "customers", cols, now, n); err != nil {
		return err
	}
	if err := execAll(ctx, db, `DROP TABLE floor_customers`); err != nil {
		return err
	}
	if err := execAll(ctx, db, `CREATE TABLE floor_customers (LIKE customers INCLUDING DEFAULTS)`, copyPlain,
		`ALTER TABLE floor_customers ADD PRIMARY KEY (id)`, `VACUUM ANALYZE floor_customers`); err != nil {
		return err
	}
	ids, err := spread(ctx, db, "floor_customers", 1)
	if err != nil {
		return err
	}
	if err := measure(ctx, db, "postgres", "archive: UPDATE customers, no index but the id", ids, archive); err != nil {
		return err
	}
	if err := execAll(ctx, db, `DROP TABLE floor_customers`, `CREATE TABLE floor_customers (LIKE customers INCLUDING ALL)`, copyPlain,
		`VACUUM ANALYZE floor_customers`); err != nil {
		return err
	}
	if ids, err = spread(ctx, db, "floor_customers", 2); err != nil {
		return err
	}
	if err := measure(ctx, db, "postgres", fmt.Sprintf("tag's row change: UPDATE customers SET updated_at, all %d indexes", n), ids,
		`UPDATE floor_customers SET updated_at = `+now+` WHERE id IN %s`); err != nil {
		return err
	}
	if ids, err = spread(ctx, db, "floor_customers", 3); err != nil {
		return err
	}
	if err := measure(ctx, db, "postgres", fmt.Sprintf("archive: UPDATE customers with its %d indexes", n), ids, archive); err != nil {
		return err
	}
	// the tag's own rows, without foreign keys (LIKE copies none)
	if err := execAll(ctx, db, `CREATE TABLE floor_customer_tags (LIKE customer_tags INCLUDING ALL)`, `INSERT INTO floor_customer_tags SELECT * FROM customer_tags`,
		`CREATE TABLE floor_activity (LIKE activity INCLUDING ALL)`, `INSERT INTO floor_activity SELECT * FROM activity`,
		`SELECT setval(pg_get_serial_sequence('floor_activity', 'id'), max(id)) FROM floor_activity`,
		`VACUUM ANALYZE floor_customer_tags`, `VACUUM ANALYZE floor_activity`); err != nil {
		return err
	}
	if ids, err = spread(ctx, db, "floor_customers", 4); err != nil {
		return err
	}
	if err := measure(ctx, db, "postgres", "tag's rows alone: INSERT customer_tags and activity, no customers change, no foreign keys", ids,
		tagRows("floor_", now)...); err != nil {
		return err
	}
	return readAll(ctx, db, "postgres")
}

// tagRows are the rows a tag writes for each customer besides the
// customer's own (the membership and the activity entry), on the tables
// named prefix+name, for an id list (%s).
func tagRows(prefix, now string) []string {
	return []string{
		`INSERT INTO ` + prefix + `customer_tags (customer_id, tag_id, added_at) SELECT id, 999999, ` + now + ` FROM ` + prefix + `customers WHERE id IN %s`,
		`INSERT INTO ` + prefix + `activity (customer_id, user_id, kind, data, at) SELECT id, NULL, 'tagged', '{"tag":"x"}', ` + now + ` FROM ` + prefix + `customers WHERE id IN %s`,
	}
}

// importFloor inserts every customer of from into an empty copy with all
// the indexes of customers, as new customers (created now), 50,000 per
// transaction as an import commits: what an import of as many rows writes
// into the customers table alone, without contacts, tags, search or checks.
func importFloor(ctx context.Context, db *sql.DB, engine, into, from, cols, now string, indexes int) error {
	var sel []string
	for _, c := range strings.Split(cols, ", ") {
		if c == "created_at" || c == "updated_at" {
			c = now
		}
		sel = append(sel, c)
	}
	var lo, hi int64
	if err := db.QueryRowContext(ctx, `SELECT min(id), max(id) FROM `+from).Scan(&lo, &hi); err != nil {
		return err
	}
	start := time.Now()
	for at := lo; at <= hi; at += 50_000 {
		if _, err := db.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s (%s) SELECT %s FROM %s WHERE id >= %d AND id < %d`,
			into, cols, strings.Join(sel, ", "), from, at, at+50_000)); err != nil {
			return err
		}
	}
	secs := time.Since(start).Seconds()
	n := int(hi - lo + 1)
	fmt.Printf("| %s | import: INSERT %s customers into an empty table with the %d indexes of customers, nothing else: %s rows/s at most | %.2f |\n",
		engine, thousands(n), indexes, thousands(int(float64(n)/secs)), secs)
	return nil
}

// exportTables are the tables an export reads (internal/store/sqlstore/export.go).
var exportTables = []string{"customers", "contacts", "customer_tags", "segment_members", "customer_scores", "custom_values"}

// readAll reads every row of the tables an export reads, each table on a
// connection of its own, all at once, and does nothing with the values:
// the least an export through database/sql and this driver can cost.
func readAll(ctx context.Context, db *sql.DB, engine string) error {
	db.SetMaxOpenConns(len(exportTables))
	start := time.Now()
	errs := make(chan error, len(exportTables))
	counts := make([]int, len(exportTables))
	for i, t := range exportTables {
		go func() {
			rows, err := db.QueryContext(ctx, `SELECT * FROM `+t)
			if err != nil {
				errs <- err
				return
			}
			defer rows.Close()
			cols, _ := rows.Columns()
			vals := make([]any, len(cols))
			for j := range vals {
				vals[j] = new(sql.RawBytes)
			}
			for rows.Next() {
				if err := rows.Scan(vals...); err != nil {
					errs <- err
					return
				}
				counts[i]++
			}
			errs <- rows.Err()
		}()
	}
	for range exportTables {
		if err := <-errs; err != nil {
			return err
		}
	}
	secs := time.Since(start).Seconds()
	total := 0
	for _, n := range counts {
		total += n
	}
	fmt.Printf("| %s | export: read every row of its %d tables (%s rows, %s customers) and nothing else: %s customers/s at most | %.2f |\n",
		engine, len(exportTables), thousands(total), thousands(counts[0]), thousands(int(float64(counts[0])/secs)), secs)
	return nil
}
