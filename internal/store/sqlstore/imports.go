package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/acme/crm/internal/crm"
)

const importCols = `id, user_id, filename, path, size, status, mode, mapping, total, processed, created, updated, skipped, failed,
	byte_offset, error, created_at, updated_at, ended_at, header`

func scanImport(r interface{ Scan(...any) error }) (crm.ImportJob, error) {
	var j crm.ImportJob
	var mapping, header string
	var ended sql.NullTime
	if err := r.Scan(&j.ID, &j.UserID, &j.Filename, &j.Path, &j.Size, &j.Status, &j.Mode, &mapping, &j.Total, &j.Processed,
		&j.Created, &j.Updated, &j.Skipped, &j.Failed, &j.Offset, &j.Error, &j.CreatedAt, &j.UpdatedAt, &ended, &header); err != nil {
		return j, err
	}
	j.CreatedAt, j.UpdatedAt, j.EndedAt = j.CreatedAt.UTC(), j.UpdatedAt.UTC(), timePtr(ended)
	if header != "" {
		if err := json.Unmarshal([]byte(header), &j.Header); err != nil {
			return j, err
		}
	}
	return j, json.Unmarshal([]byte(mapping), &j.Mapping)
}

func (s *Store) CreateImport(ctx context.Context, j *crm.ImportJob) error {
	m, err := json.Marshal(j.Mapping)
	if err != nil {
		return err
	}
	header := ""
	if j.Header != nil {
		h, err := json.Marshal(j.Header)
		if err != nil {
			return err
		}
		header = string(h)
	}
	j.CreatedAt = ts(j.CreatedAt)
	j.UpdatedAt = j.CreatedAt
	return s.wq().QueryRowContext(ctx,
		`INSERT INTO imports (user_id, filename, path, size, status, mode, mapping, created_at, updated_at, header)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9) RETURNING id`,
		j.UserID, j.Filename, j.Path, j.Size, j.Status, j.Mode, string(m), j.CreatedAt, header).Scan(&j.ID)
}

func (s *Store) GetImport(ctx context.Context, id int64) (*crm.ImportJob, error) {
	j, err := scanImport(s.rq().QueryRowContext(ctx, `SELECT `+importCols+` FROM imports WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "import")
	}
	return &j, nil
}

func (s *Store) UpdateImport(ctx context.Context, j *crm.ImportJob) error {
	m, err := json.Marshal(j.Mapping)
	if err != nil {
		return err
	}
	j.UpdatedAt = ts(j.UpdatedAt)
	// only while still uploaded: a submit, a cancel or the expiry of the
	// upload committed meanwhile must not be overwritten (a canceled import
	// revived, a submitted one set back to uploaded and never run)
	res, err := s.wq().ExecContext(ctx,
		`UPDATE imports SET status = $2, mode = $3, mapping = $4, total = $5, processed = $6, created = $7, updated = $8,
		        skipped = $9, failed = $10, byte_offset = $11, error = $12, updated_at = $13, ended_at = $14
		  WHERE id = $1 AND status = 'uploaded'`,
		j.ID, j.Status, j.Mode, string(m), j.Total, j.Processed, j.Created, j.Updated, j.Skipped, j.Failed, j.Offset, j.Error,
		j.UpdatedAt, tsp(j.EndedAt))
	if err := mustAffect(res, err, "import"); !errors.Is(err, crm.ErrNotFound) {
		return err
	}
	if _, err := s.GetImport(ctx, j.ID); err != nil {
		return err
	}
	return crm.Conflict("The import was submitted, canceled or expired meanwhile; nothing was changed.")
}

func (s *Store) ListImports(ctx context.Context, limit int) ([]crm.ImportJob, error) {
	if limit <= 0 {
		limit = 100
	}
	return queryList(ctx, s.rq(), func(r *sql.Rows) (crm.ImportJob, error) { return scanImport(r) },
		`SELECT `+importCols+` FROM imports ORDER BY id DESC LIMIT $1`, limit)
}

// ClaimImport hands the import to runner and marks it running.
func (s *Store) ClaimImport(ctx context.Context, id int64, runner string, now time.Time) (*crm.ImportJob, error) {
	res, err := s.wq().ExecContext(ctx,
		`UPDATE imports SET runner = $2, status = 'running', updated_at = $3 WHERE id = $1 AND status IN ('queued', 'running')`,
		id, runner, ts(now))
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.GetImport(ctx, id); err != nil {
			return nil, err
		}
		return nil, crm.Conflict("the import is not waiting to run")
	}
	j, err := scanImport(s.wq().QueryRowContext(ctx, `SELECT `+importCols+` FROM imports WHERE id = $1`, id))
	return &j, err
}

// SaveImportProgress writes the import's counters and position while runner holds it.
func (s *Store) SaveImportProgress(ctx context.Context, j *crm.ImportJob, runner string) error {
	j.UpdatedAt = ts(j.UpdatedAt)
	res, err := s.wq().ExecContext(ctx,
		`UPDATE imports SET status = $3, total = $4, processed = $5, created = $6, updated = $7, skipped = $8, failed = $9,
		        byte_offset = $10, error = $11, updated_at = $12, ended_at = $13
		 WHERE id = $1 AND runner = $2 AND status = 'running'`,
		j.ID, runner, j.Status, j.Total, j.Processed, j.Created, j.Updated, j.Skipped, j.Failed, j.Offset, j.Error,
		j.UpdatedAt, tsp(j.EndedAt))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return crm.Conflict("the import was canceled or taken over by another process")
	}
	return nil
}

// CancelImport cancels an import that has not ended.
func (s *Store) CancelImport(ctx context.Context, id int64, now time.Time) (bool, error) {
	res, err := s.wq().ExecContext(ctx,
		`UPDATE imports SET status = 'canceled', updated_at = $2, ended_at = $2 WHERE id = $1 AND status IN ('uploaded', 'queued', 'running')`,
		id, ts(now))
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// ImportsHoldingFiles lists the imports not yet ended that keep a file.
func (s *Store) ImportsHoldingFiles(ctx context.Context, userID int64) ([]crm.ImportJob, error) {
	q := `SELECT ` + importCols + ` FROM imports WHERE path <> '' AND status IN ('uploaded', 'queued', 'running')`
	var args []any
	if userID != 0 {
		q += ` AND user_id = $1`
		args = append(args, userID)
	}
	return queryList(ctx, s.rq(), func(r *sql.Rows) (crm.ImportJob, error) { return scanImport(r) }, q+` ORDER BY id`, args...)
}

// ImportFilesToRemove lists imports whose file is no longer needed.
func (s *Store) ImportFilesToRemove(ctx context.Context, staleBefore time.Time, limit int) ([]crm.ImportJob, error) {
	return queryList(ctx, s.rq(), func(r *sql.Rows) (crm.ImportJob, error) { return scanImport(r) },
		`SELECT `+importCols+` FROM imports WHERE path <> ''
		   AND (status IN ('done', 'failed', 'canceled') OR (status = 'uploaded' AND updated_at < $1)) ORDER BY id LIMIT $2`,
		ts(staleBefore), limit)
}

// ExpireImport cancels an import that was uploaded and left alone since staleBefore.
func (s *Store) ExpireImport(ctx context.Context, id int64, staleBefore, now time.Time, reason string) (bool, error) {
	res, err := s.wq().ExecContext(ctx,
		`UPDATE imports SET status = 'canceled', error = $4, updated_at = $3, ended_at = $3
		 WHERE id = $1 AND status = 'uploaded' AND updated_at < $2`, id, ts(staleBefore), ts(now), reason)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// ForgetImportFile empties the path of an ended import whose file was deleted.
func (s *Store) ForgetImportFile(ctx context.Context, id int64) error {
	_, err := s.wq().ExecContext(ctx,
		`UPDATE imports SET path = '' WHERE id = $1 AND status IN ('done', 'failed', 'canceled')`, id)
	return err
}

// ImportMatches finds the active customers holding each e-mail.
func (s *Store) ImportMatches(ctx context.Context, emails []string) (_ map[string]int64, err error) {
	out := make(map[string]int64, len(emails))
	if s.tx != nil && s.d.Name() == "postgres" {
		// A plan cached while the tables were empty (an import filling a new
		// database) scans whole tables for ever after: plan with today's sizes.
		if _, err := s.tx.ExecContext(ctx, `SET LOCAL plan_cache_mode = force_custom_plan`); err != nil {
			return nil, err
		}
		// ... for these lookups only: forced for the rest of the transaction,
		// it also re-planned the foreign key check of every row inserted
		// after them (three quarters of an import's time on PostgreSQL).
		defer func() {
			if err == nil {
				_, err = s.tx.ExecContext(ctx, `SET LOCAL plan_cache_mode = DEFAULT`)
			}
		}()
	}
	for start := 0; start < len(emails); start += chunk {
		part := emails[start:min(start+chunk, len(emails))]
		args := make([]any, len(part))
		for i, e := range part {
			args[i] = e
		}
		// one index probe per address (contacts_value): a plain IN list lets
		// PostgreSQL, with the stale statistics of a table an import is
		// filling, scan another index whole for every batch
		var vals strings.Builder
		for i := range args {
			if i > 0 {
				vals.WriteByte(',')
			}
			fmt.Fprintf(&vals, "($%d)", i+1)
		}
		rows, err := s.rq().QueryContext(ctx, `SELECT v.column1, (SELECT min(k.customer_id) FROM contacts k JOIN customers c ON c.id = k.customer_id
			WHERE k.channel = 'email' AND k.value = v.column1 AND k.removed_at IS NULL AND c.archived_at IS NULL)
			FROM (VALUES `+vals.String()+`) AS v`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var v string
			var id sql.NullInt64
			if err := rows.Scan(&v, &id); err != nil {
				rows.Close()
				return nil, err
			}
			if id.Valid {
				out[v] = id.Int64
			}
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// EnsureCompanies finds companies by name case-insensitively, creating
// missing ones: a few set-based statements per call, whatever the count. A
// name of a company merged into another finds the one it was merged into
// (currentCompanies, which also locks them for the caller's transaction).
func (s *Store) EnsureCompanies(ctx context.Context, names []string, now time.Time) (map[string]int64, error) {
	out := map[string]int64{}
	first := map[string]string{} // name key -> the name as first written
	var keys []string
	for _, n := range names {
		n = strings.TrimSpace(n)
		key := crm.NameKey(n)
		if n == "" || first[key] != "" {
			continue
		}
		first[key] = n
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return out, nil
	}
	find := func(q querier, keys []string) error {
		for start := 0; start < len(keys); start += chunk {
			part := keys[start:min(start+chunk, len(keys))]
			args := make([]any, len(part))
			for i, k := range part {
				args[i] = k
			}
			rows, err := q.QueryContext(ctx, `SELECT name_key, id FROM companies WHERE name_key IN `+placeholders(1, len(args)), args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var k string
				var id int64
				if err := rows.Scan(&k, &id); err != nil {
					rows.Close()
					return err
				}
				out[k] = id
			}
			if err := rows.Close(); err != nil {
				return err
			}
		}
		return nil
	}
	err := s.inTx(ctx, func(tx *Store) error {
		if err := find(tx.wq(), keys); err != nil {
			return err
		}
		var missing []string
		var vals []any
		for _, k := range keys {
			if _, ok := out[k]; !ok {
				missing = append(missing, k)
				vals = append(vals, first[k], k, "", ts(now), ts(now))
			}
		}
		if len(missing) > 0 {
			if err := tx.multiInsert(ctx, `INSERT INTO companies (name, name_key, domain, created_at, updated_at)`, 5, vals, " ON CONFLICT DO NOTHING"); err != nil {
				return err
			}
			if err := find(tx.wq(), missing); err != nil {
				return err
			}
		}
		cur, err := tx.currentCompanies(ctx, slices.Collect(maps.Values(out)))
		if err != nil {
			return err
		}
		for k, id := range out {
			c, ok := cur[id]
			if !ok {
				return crm.NotFound("company")
			}
			out[k] = c
		}
		return nil
	})
	return out, err
}

// multiInsert inserts rows of equal width with as few statements as the
// parameter limits allow.
func (s *Store) multiInsert(ctx context.Context, head string, ncol int, vals []any, tail string) error {
	if len(vals) == 0 {
		return nil
	}
	per := max(1, min(250, 30000/ncol))
	// SQLite numbers $N parameters with a linear search per parameter, which
	// makes parsing a statement of thousands of them quadratic; ? is free.
	sqlite := s.d.Name() == "sqlite"
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", ncol), ",") + ")"
	var row strings.Builder
	for start := 0; start < len(vals); start += per * ncol {
		part := vals[start:min(start+per*ncol, len(vals))]
		n := len(part) / ncol
		row.Reset()
		row.WriteString(head)
		row.WriteString(" VALUES ")
		for i := 0; i < n; i++ {
			if i > 0 {
				row.WriteByte(',')
			}
			if sqlite {
				row.WriteString(one)
			} else {
				row.WriteString(placeholders(i*ncol+1, ncol))
			}
		}
		row.WriteString(tail)
		if _, err := s.wq().ExecContext(ctx, row.String(), part...); err != nil {
			return err
		}
	}
	return nil
}

// nextCustomerIDs reserves n customer ids. On SQLite the caller holds the
// only writer, so max(id)+1... are free; PostgreSQL draws them from the
// column's sequence.
func (s *Store) nextCustomerIDs(ctx context.Context, n int) ([]int64, error) {
	ids := make([]int64, 0, n)
	if s.d.Name() == "postgres" {
		rows, err := s.wq().QueryContext(ctx, `SELECT nextval(pg_get_serial_sequence('customers', 'id')) FROM generate_series(1, $1)`, n)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			ids = append(ids, id)
		}
		return ids, rows.Err()
	}
	var last int64
	if err := s.wq().QueryRowContext(ctx, `SELECT COALESCE(max(id), 0) FROM customers`).Scan(&last); err != nil {
		return nil, err
	}
	for i := 1; i <= n; i++ {
		ids = append(ids, last+int64(i))
	}
	return ids, nil
}

// sortKeysOf reads the name keys of the companies and owners of imported
// rows: their customers' sort keys (migration 00015), as companyKeySQL and
// ownerKeySQL write them for one customer.
func (s *Store) sortKeysOf(ctx context.Context, rows []crm.ImportedCustomer) (companies, owners map[int64]string, err error) {
	companies, owners = map[int64]string{}, map[int64]string{}
	var cids, uids []int64
	for _, r := range rows {
		if id := r.Customer.CompanyID; id != nil {
			if _, ok := companies[*id]; !ok {
				companies[*id], cids = "", append(cids, *id)
			}
		}
		if id := r.Customer.OwnerID; id != nil {
			if _, ok := owners[*id]; !ok {
				owners[*id], uids = "", append(uids, *id)
			}
		}
	}
	read := func(table string, ids []int64, into map[int64]string) error {
		for start := 0; start < len(ids); start += chunk {
			part := ids[start:min(start+chunk, len(ids))]
			in, args := idArgs(part, 1)
			type kv struct {
				id  int64
				key string
			}
			got, err := queryList(ctx, s.wq(), func(r *sql.Rows) (kv, error) {
				var x kv
				return x, r.Scan(&x.id, &x.key)
			}, `SELECT id, name_key FROM `+table+` WHERE id IN `+in, args...)
			if err != nil {
				return err
			}
			for _, x := range got {
				into[x.id] = x.key
			}
		}
		return nil
	}
	if err := read("companies", cids, companies); err != nil {
		return nil, nil, err
	}
	return companies, owners, read("users", uids, owners)
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// currentCompaniesOf puts each row in its current company (currentCompanies):
// EnsureCompanies found them so in the same transaction, which this checks
// again where the rows are written. The company's name in the search text
// is the company's own, not the file's (which may name a company merged
// into it): one more read per batch.
func (s *Store) currentCompaniesOf(ctx context.Context, rows []crm.ImportedCustomer) error {
	var ids []int64
	for _, r := range rows {
		if r.Customer.CompanyID != nil {
			ids = append(ids, *r.Customer.CompanyID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	cur, err := s.currentCompanies(ctx, ids)
	if err != nil {
		return err
	}
	for i := range rows {
		if p := rows[i].Customer.CompanyID; p != nil {
			c, ok := cur[*p]
			if !ok {
				return crm.NotFound("company")
			}
			rows[i].Customer.CompanyID = &c
		}
	}
	in, args := idArgs(slices.Compact(slices.Sorted(maps.Values(cur))), 1)
	type named struct {
		id   int64
		name string
	}
	got, err := queryList(ctx, s.wq(), func(r *sql.Rows) (named, error) {
		var x named
		return x, r.Scan(&x.id, &x.name)
	}, `SELECT id, name FROM companies WHERE id IN `+in, args...)
	if err != nil {
		return err
	}
	names := make(map[int64]string, len(got))
	for _, x := range got {
		names[x.id] = x.name
	}
	for i := range rows {
		if p := rows[i].Customer.CompanyID; p != nil {
			rows[i].CompanyName = names[*p]
		}
	}
	return nil
}

// importTable is one table InsertImported writes, with a batch's rows.
type importTable struct {
	name string
	cols []string
	rows [][]any
}

// importTables are the tables of a new customer, in the order they are
// written.
func importTables() []*importTable {
	return []*importTable{
		{name: "customers", cols: []string{"id", "full_name", "first_name", "last_name", "name_key", "company_id", "owner_id", "language",
			"country", "timezone", "primary_email", "primary_phone", "search_text", "created_at", "updated_at", "company_key", "owner_key"}},
		{name: "contacts", cols: []string{"customer_id", "channel", "value", "is_primary", "created_at"}},
		{name: "customer_tags", cols: []string{"customer_id", "tag_id", "added_at"}},
		{name: "segment_members", cols: []string{"segment_id", "customer_id", "added_at"}},
		{name: "customer_scores", cols: []string{"customer_id", "product_id", "score"}},
		{name: "custom_values", cols: []string{"customer_id", "field_id", "value"}},
		{name: "activity", cols: []string{"customer_id", "user_id", "kind", "data", "at"}},
	}
}

// InsertImported adds new customers in bulk: customers (with their primary
// e-mail and phone and search text), contacts, tags, segment memberships,
// scores, custom values and one "created" activity entry each. The rows are
// new customers, so nothing they bring can already exist: duplicates within
// a customer (a contact or tag given twice) are dropped here, and every row
// goes in as it is: COPYed on PostgreSQL, one-row prepared INSERTs on
// SQLite (insertImportedSQLite says why).
func (s *Store) InsertImported(ctx context.Context, rows []crm.ImportedCustomer, now time.Time) error {
	if len(rows) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *Store) error {
		if err := tx.currentCompaniesOf(ctx, rows); err != nil {
			return err
		}
		ids, err := tx.nextCustomerIDs(ctx, len(rows))
		if err != nil {
			return err
		}
		companyKeys, ownerKeys, err := tx.sortKeysOf(ctx, rows)
		if err != nil {
			return err
		}
		at := ts(now)
		tables := importTables()
		cust, contacts, tags, segs, scores, custom, acts := tables[0], tables[1], tables[2], tables[3], tables[4], tables[5], tables[6]
		for i := range rows {
			r := &rows[i]
			r.ID = ids[i]
			c := r.Customer
			var email, phone string
			seen := map[crm.Channel]bool{}
			seenValue := map[string]bool{}
			for _, k := range r.Contacts {
				if seenValue[string(k.Channel)+" "+k.Value] {
					continue
				}
				seenValue[string(k.Channel)+" "+k.Value] = true
				primary := !seen[k.Channel]
				seen[k.Channel] = true
				if primary && k.Channel == crm.ChannelEmail {
					email = k.Value
				}
				if primary && k.Channel == crm.ChannelPhone {
					phone = k.Value
				}
				contacts.rows = append(contacts.rows, []any{r.ID, string(k.Channel), k.Value, primary, at})
			}
			text := crm.SearchText(c.FullName, email, phone, r.CompanyName)
			cust.rows = append(cust.rows, []any{r.ID, c.FullName, c.FirstName, c.LastName, crm.NameKey(c.FullName), nullInt(c.CompanyID),
				nullInt(c.OwnerID), c.Language, c.Country, c.Timezone, email, phone, text, at, at,
				companyKeys[deref(c.CompanyID)], ownerKeys[deref(c.OwnerID)]})
			for k, t := range r.TagIDs {
				if !slices.Contains(r.TagIDs[:k], t) {
					tags.rows = append(tags.rows, []any{r.ID, t, at})
				}
			}
			if r.SegmentID != nil {
				segs.rows = append(segs.rows, []any{*r.SegmentID, r.ID, at})
			}
			for p, v := range r.Scores {
				scores.rows = append(scores.rows, []any{r.ID, p, int64(v)})
			}
			for f, v := range r.Custom {
				custom.rows = append(custom.rows, []any{r.ID, f, v})
			}
			data := r.Activity
			if data == "" {
				data = "{}"
			}
			acts.rows = append(acts.rows, []any{r.ID, nullInt(r.ActorID), crm.ActCreated, data, at})
		}
		if cp, ok := tx.d.(Copier); ok {
			for _, t := range tables {
				if err := cp.CopyFrom(ctx, tx.conn, t.name, t.cols, t.rows); err != nil {
					return err
				}
			}
		} else if err := tx.insertImportedSQLite(ctx, tables); err != nil {
			return err
		}
		return tx.fillCompanyCountries(ctx, slices.Collect(maps.Keys(companyKeys)))
	})
}

// insertImportedSQLite writes every row with a one-row INSERT per table,
// prepared once per call and run through the driver directly on the
// transaction's connection (database/sql would copy and check each of the
// arguments once more).
//
// One row per statement is deliberate: SQLite must be able to undo a
// statement that inserts several rows and fails half-way (a foreign key, a
// NOT NULL), so it copies every page such a statement changes into a
// statement journal first. For a one-row INSERT it needs none. At a million
// rows the journal of the multi-row INSERTs was a quarter of the import's
// time (its writes and the memory it allocated).
func (s *Store) insertImportedSQLite(ctx context.Context, tables []*importTable) error {
	fts := &importTable{name: "customers_fts", cols: []string{"rowid", "search_text"}}
	for _, r := range tables[0].rows {
		fts.rows = append(fts.rows, []any{r[0], r[12]}) // id, search_text
	}
	tables = append(tables, fts)
	return s.conn.Raw(func(dc any) error {
		c, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return fmt.Errorf("insert imported customers: the driver cannot prepare (%T)", dc)
		}
		// The driver watches a cancellable context with a goroutine per
		// statement run; rows are checked for cancellation every 1,000 instead.
		rowCtx := context.WithoutCancel(ctx)
		var args []driver.NamedValue
		for _, t := range tables {
			if len(t.rows) == 0 {
				continue
			}
			q := "INSERT INTO " + t.name + " (" + strings.Join(t.cols, ", ") + ") VALUES (" +
				strings.TrimSuffix(strings.Repeat("?,", len(t.cols)), ",") + ")"
			st, err := c.PrepareContext(ctx, q)
			if err != nil {
				return fmt.Errorf("insert into %s: %w", t.name, err)
			}
			ex, ok := st.(driver.StmtExecContext)
			if !ok {
				st.Close()
				return fmt.Errorf("insert into %s: the driver cannot execute (%T)", t.name, st)
			}
			for k, r := range t.rows {
				if k%1000 == 0 {
					if err = ctx.Err(); err != nil {
						break
					}
				}
				args = args[:0]
				for i, v := range r {
					args = append(args, driver.NamedValue{Ordinal: i + 1, Value: v})
				}
				if _, err = ex.ExecContext(rowCtx, args); err != nil {
					break
				}
			}
			st.Close()
			if err != nil {
				return fmt.Errorf("insert into %s: %w", t.name, err)
			}
		}
		return nil
	})
}

// AddImportErrors records failed rows (a row already recorded is kept as is).
func (s *Store) AddImportErrors(ctx context.Context, importID int64, errs []crm.ImportError) error {
	vals := make([]any, 0, 4*len(errs))
	for _, e := range errs {
		b, err := json.Marshal(e.Values)
		if err != nil {
			return err
		}
		vals = append(vals, importID, e.Row, e.Error, string(b))
	}
	return s.multiInsert(ctx, `INSERT INTO import_errors (import_id, row_number, error, row_values)`, 4, vals, " ON CONFLICT DO NOTHING")
}

// ListImportErrors pages the failed rows of an import.
func (s *Store) ListImportErrors(ctx context.Context, importID, afterRow int64, limit int) ([]crm.ImportError, error) {
	return queryList(ctx, s.rq(), func(r *sql.Rows) (crm.ImportError, error) {
		var e crm.ImportError
		var vals string
		if err := r.Scan(&e.Row, &e.Error, &vals); err != nil {
			return e, err
		}
		return e, json.Unmarshal([]byte(vals), &e.Values)
	}, `SELECT row_number, error, row_values FROM import_errors WHERE import_id = $1 AND row_number > $2 ORDER BY row_number LIMIT $3`,
		importID, afterRow, limit)
}
