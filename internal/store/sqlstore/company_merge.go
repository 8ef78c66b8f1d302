package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/acme/crm/internal/crm"
)

// Possible duplicate companies and the company merge (issue 13). The keys
// compared live in companies.match_name and match_domain (migration 00020):
// NULL until computed, and set back to NULL by the database on any change of
// a name or domain, so that a write from anywhere (an import, the Companies
// table, a rename) leaves them to be computed again here.

// keysPer is how many companies one key-refresh statement updates.
const keysPer = 200

// RefreshCompanyKeys computes the missing keys, a batch at a time. Each
// write is conditional on the name and domain it was computed from: a
// company renamed meanwhile keeps NULL (its trigger ran) for the next call.
func (s *Store) RefreshCompanyKeys(ctx context.Context) error {
	var after int64
	for {
		type co struct {
			id           int64
			name, domain string
		}
		batch, err := queryList(ctx, s.wq(), func(r *sql.Rows) (co, error) {
			var c co
			return c, r.Scan(&c.id, &c.name, &c.domain)
		}, `SELECT id, name, domain FROM companies WHERE match_name IS NULL AND id > $1 ORDER BY id LIMIT $2`, after, keysPer)
		if err != nil || len(batch) == 0 {
			return err
		}
		var b, ids strings.Builder
		args := make([]any, 0, len(batch)*5)
		for i, c := range batch {
			if i > 0 {
				b.WriteString(", ")
				ids.WriteString(", ")
			}
			n := len(args)
			fmt.Fprintf(&b, "(CAST($%d AS BIGINT), CAST($%d AS TEXT), CAST($%d AS TEXT), CAST($%d AS TEXT), CAST($%d AS TEXT))", n+1, n+2, n+3, n+4, n+5)
			fmt.Fprintf(&ids, "$%d", n+1)
			args = append(args, c.id, crm.CompanyNameKey(c.name), crm.CompanyDomainKey(c.domain), c.name, c.domain)
		}
		// (the id list lets SQLite walk only these rows: its UPDATE FROM
		// loops over the target table outside)
		if _, err := s.wq().ExecContext(ctx, `UPDATE companies SET match_name = v.column2, match_domain = v.column3
			FROM (VALUES `+b.String()+`) AS v
			WHERE companies.id IN (`+ids.String()+`) AND companies.id = v.column1 AND companies.name = v.column4 AND companies.domain = v.column5`, args...); err != nil {
			return fmt.Errorf("refresh company keys: %w", err)
		}
		after = batch[len(batch)-1].id
	}
}

// matchColumn is the key column of a reason.
func matchColumn(reason string) string {
	if reason == crm.SameDomain {
		return "match_domain"
	}
	return "match_name"
}

// CompanyDuplicateGroups lists the groups of each reason in key order,
// domain groups first. The groups come from the partial index of the key
// (active companies with a key), read in order and cut at limit; their
// companies from the same index.
func (s *Store) CompanyDuplicateGroups(ctx context.Context, after crm.CompanyGroupKey, limit int) ([]crm.CompanyGroup, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	var out []crm.CompanyGroup
	for _, reason := range []string{crm.SameDomain, crm.SameName} {
		if len(out) >= limit || (crm.CompanyGroupKey{Reason: reason, Key: "\U0010FFFF"}).Before(after) {
			continue
		}
		from := ""
		if after.Reason == reason {
			from = after.Key
		}
		col := matchColumn(reason)
		type g struct {
			key string
			n   int
		}
		groups, err := queryList(ctx, s.rq(), func(r *sql.Rows) (g, error) {
			var x g
			return x, r.Scan(&x.key, &x.n)
		}, `SELECT `+col+`, count(*) FROM companies
		    WHERE archived_at IS NULL AND `+col+` <> '' AND `+col+` > $1
		    GROUP BY `+col+` HAVING count(*) > 1 ORDER BY `+col+` LIMIT $2`, from, limit-len(out))
		if err != nil {
			return nil, err
		}
		if len(groups) == 0 {
			continue
		}
		keys := make([]string, len(groups))
		for i, x := range groups {
			keys[i] = x.key
		}
		members, err := s.groupMembers(ctx, reason, keys)
		if err != nil {
			return nil, err
		}
		for _, x := range groups {
			out = append(out, crm.CompanyGroup{Reason: reason, Key: x.key, Total: x.n, Companies: members[x.key]})
		}
	}
	return out, nil
}

// groupMembers reads the first companies of groups of one reason, with
// their active customers counted.
func (s *Store) groupMembers(ctx context.Context, reason string, keys []string) (map[string][]crm.CompanyMember, error) {
	col := matchColumn(reason)
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	out := map[string][]crm.CompanyMember{}
	rows, err := s.rq().QueryContext(ctx, `SELECT x.k, x.id, x.name, x.domain, x.created_at,
		    (SELECT count(*) FROM customers c WHERE c.company_id = x.id AND c.archived_at IS NULL)
		FROM (SELECT co.`+col+` AS k, co.id, co.name, co.domain, co.created_at,
		        row_number() OVER (PARTITION BY co.`+col+` ORDER BY co.id) AS rn
		      FROM companies co WHERE co.archived_at IS NULL AND co.`+col+` <> '' AND co.`+col+` IN `+placeholders(1, len(keys))+`) x
		WHERE x.rn <= `+fmt.Sprint(crm.MaxGroupMembers)+` ORDER BY x.k, x.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var m crm.CompanyMember
		if err := rows.Scan(&k, &m.ID, &m.Name, &m.Domain, &m.CreatedAt, &m.CustomersActive); err != nil {
			return nil, err
		}
		m.CreatedAt = m.CreatedAt.UTC()
		out[k] = append(out[k], m)
	}
	return out, rows.Err()
}

// CompanyGroupsOf returns the groups of possible duplicates an active
// company belongs to (none for an archived one).
func (s *Store) CompanyGroupsOf(ctx context.Context, id int64) ([]crm.CompanyGroup, error) {
	var name, domain sql.NullString
	err := s.rq().QueryRowContext(ctx, `SELECT match_name, match_domain FROM companies WHERE id = $1 AND archived_at IS NULL`, id).Scan(&name, &domain)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []crm.CompanyGroup
	for _, g := range []struct{ reason, key string }{{crm.SameDomain, domain.String}, {crm.SameName, name.String}} {
		if g.key == "" {
			continue
		}
		var n int
		col := matchColumn(g.reason)
		if err := s.rq().QueryRowContext(ctx, `SELECT count(*) FROM companies WHERE archived_at IS NULL AND `+col+` <> '' AND `+col+` = $1`, g.key).Scan(&n); err != nil {
			return nil, err
		}
		if n < 2 {
			continue
		}
		members, err := s.groupMembers(ctx, g.reason, []string{g.key})
		if err != nil {
			return nil, err
		}
		out = append(out, crm.CompanyGroup{Reason: g.reason, Key: g.key, Total: n, Companies: members[g.key]})
	}
	return out, nil
}

// GetCompanyState returns a company with its archive state.
func (s *Store) GetCompanyState(ctx context.Context, id int64) (*crm.CompanyState, error) {
	var c crm.CompanyState
	var archived sql.NullTime
	var into sql.NullInt64
	err := s.rq().QueryRowContext(ctx, `SELECT co.id, co.name, co.domain, co.created_at, co.updated_at,
		    (SELECT count(*) FROM customers c WHERE c.company_id = co.id AND c.archived_at IS NULL), co.archived_at, co.merged_into_id
		FROM companies co WHERE co.id = $1`, id).Scan(&c.ID, &c.Name, &c.Domain, &c.CreatedAt, &c.UpdatedAt, &c.Customers, &archived, &into)
	if err != nil {
		return nil, notFound(err, "company")
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	c.ArchivedAt, c.MergedInto = timePtr(archived), int64Ptr(into)
	return &c, nil
}

// LockCompanies locks the companies' rows in id order (PostgreSQL), so that
// two merges sharing a company run one after the other and never deadlock.
func (s *Store) LockCompanies(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return s.lockRows(ctx, "LockCompanies", "")
	}
	in, args := idArgs(slices.Compact(slices.Sorted(slices.Values(ids))), 1)
	return s.lockRows(ctx, "LockCompanies", `SELECT id FROM companies WHERE id IN `+in+` ORDER BY id`, args...)
}

// currentCompanies maps company ids to the companies a customer written
// with them is put in: the company itself, or the one it was merged into.
// Every customer write resolves its company here, so that no customer is
// ever put in an archived company, whatever the form or import read before.
// An id that is no company is missing from the map.
//
// Where writers run side by side (Locker) the companies found are then
// locked until the write commits, together with also (the company a
// customer leaves), in one statement in id order: the kept count of
// customers of the companies, which the customer's write updates, locks
// the same rows in the same order, and any other order deadlocked two
// edits that swapped customers between two companies. A company merge
// locks its companies before it archives them and moves their customers,
// so either it waits for this write and then moves the customer with the
// rest, or it committed first: then a company found here is archived once
// locked, and is resolved again to the merge's primary.
func (s *Store) currentCompanies(ctx context.Context, ids []int64, also ...int64) (map[int64]int64, error) {
	out := make(map[int64]int64, len(ids))
	for _, id := range ids {
		out[id] = id
	}
	lock := ""
	if l, ok := s.d.(Locker); ok && s.tx != nil {
		lock = l.ForNoKeyUpdate()
	}
	type row struct {
		id   int64
		into sql.NullInt64
	}
	read := func(ids []int64, lock string) (map[int64]row, error) {
		in, args := idArgs(ids, 1)
		got, err := queryList(ctx, s.wq(), func(r *sql.Rows) (row, error) {
			var x row
			return x, r.Scan(&x.id, &x.into)
		}, `SELECT id, merged_into_id FROM companies WHERE id IN `+in+` ORDER BY id`+lock, args...)
		m := make(map[int64]row, len(got))
		for _, x := range got {
			m[x.id] = x
		}
		return m, err
	}
	for round := 0; len(out) > 0; round++ {
		if round == 8 {
			return nil, crm.Conflict("The company was merged again while this was saved; nothing was changed. Try again.")
		}
		targets := slices.Compact(slices.Sorted(maps.Values(out)))
		found, err := read(targets, "")
		if err != nil {
			return nil, err
		}
		moved := false
		for k, v := range out {
			switch x, ok := found[v]; {
			case !ok:
				delete(out, k)
			case x.into.Valid:
				out[k], moved = x.into.Int64, true
			}
		}
		if moved {
			continue // merged into another: resolve that one in turn
		}
		if lock == "" {
			return out, nil
		}
		locked, err := read(slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(targets), also...)))), lock)
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(targets, func(id int64) bool { return locked[id].into.Valid }) {
			return out, nil // none was merged while it was being locked
		}
	}
	return out, nil
}

// currentCompany is currentCompanies for one id (nil: none), with
// crm.ErrNotFound for an id that is no company.
func (s *Store) currentCompany(ctx context.Context, id *int64, also ...int64) (*int64, error) {
	if id == nil {
		return nil, nil
	}
	m, err := s.currentCompanies(ctx, []int64{*id}, also...)
	if err != nil {
		return nil, err
	}
	c, ok := m[*id]
	if !ok {
		return nil, crm.NotFound("company")
	}
	return &c, nil
}

// CountCompanyCustomers counts the customers of companies.
func (s *Store) CountCompanyCustomers(ctx context.Context, ids []int64, owner int64) (all, active, others int, err error) {
	if len(ids) == 0 {
		return 0, 0, 0, nil
	}
	in, args := idArgs(ids, 2)
	err = s.rq().QueryRowContext(ctx, `SELECT count(*),
		    COALESCE(sum(CASE WHEN archived_at IS NULL THEN 1 ELSE 0 END), 0),
		    COALESCE(sum(CASE WHEN owner_id IS NOT NULL AND owner_id <> $1 THEN 1 ELSE 0 END), 0)
		FROM customers WHERE company_id IN `+in, append([]any{owner}, args...)...).Scan(&all, &active, &others)
	return all, active, others, err
}

// MergeCompanies moves the customers with set-based statements: one UPDATE
// for their company and its sort key, then their search text in batches.
func (s *Store) MergeCompanies(ctx context.Context, primaryID int64, secondaryIDs []int64, domain string, now time.Time) ([]crm.MovedCustomer, error) {
	if s.tx == nil {
		return nil, errors.New("sqlstore: MergeCompanies outside a transaction")
	}
	if len(secondaryIDs) == 0 {
		return nil, nil
	}
	at := ts(now)
	in, ids := idArgs(secondaryIDs, 3) // after two arguments
	args := func(first ...any) []any { return append(first, ids...) }
	in1 := placeholders(2, len(ids)) // after one

	// The primary must be active, and stays so (its row is written first).
	res, err := s.wq().ExecContext(ctx, `UPDATE companies SET updated_at = $2 WHERE id = $1 AND archived_at IS NULL`, primaryID, at)
	if err := mustAffect(res, err, "company"); err != nil {
		return nil, companyNotActive(err, primaryID)
	}
	var key string
	if err := s.wq().QueryRowContext(ctx, `SELECT name_key FROM companies WHERE id = $1`, primaryID).Scan(&key); err != nil {
		return nil, err
	}
	// Each secondary is archived only if still active: of two merges of one
	// company, the second changes nothing.
	res, err = s.wq().ExecContext(ctx, `UPDATE companies SET archived_at = $2, merged_into_id = $1, updated_at = $2
		WHERE id IN `+in+` AND archived_at IS NULL`, args(primaryID, at)...)
	if err != nil {
		return nil, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, err
	} else if int(n) != len(secondaryIDs) {
		return nil, crm.Conflict("A company was archived or merged meanwhile; nothing was changed.")
	}
	// Companies merged into a secondary before lead to the primary now.
	if _, err := s.wq().ExecContext(ctx, `UPDATE companies SET merged_into_id = $1 WHERE merged_into_id IN `+in1,
		args(primaryID)...); err != nil {
		return nil, err
	}
	// The primary's empty domain takes the secondaries' (after they are
	// archived: a domain may be unique among active companies).
	if domain != "" {
		if _, err := s.wq().ExecContext(ctx, `UPDATE companies SET domain = $2 WHERE id = $1 AND domain = ''`, primaryID, domain); err != nil {
			return nil, s.conflict(err, "Another company already has the domain "+domain+"; nothing was changed.")
		}
	}

	moved, err := queryList(ctx, s.wq(), func(r *sql.Rows) (crm.MovedCustomer, error) {
		var m crm.MovedCustomer
		return m, r.Scan(&m.CustomerID, &m.FromCompany)
	}, `SELECT id, company_id FROM customers WHERE company_id IN `+placeholders(1, len(ids))+` ORDER BY id`, ids...)
	if err != nil {
		return nil, err
	}
	if len(moved) == 0 {
		return nil, nil
	}
	if _, err := s.wq().ExecContext(ctx, `UPDATE customers SET company_id = $1, company_key = $2, updated_at = $3
		WHERE company_id IN `+placeholders(4, len(ids)), append([]any{primaryID, key, at}, ids...)...); err != nil {
		return nil, err
	}
	cids := make([]int64, len(moved))
	for i, m := range moved {
		cids[i] = m.CustomerID
	}
	// their search text holds their company's name
	if err := s.reindexMany(ctx, cids); err != nil {
		return nil, err
	}
	return moved, nil
}

// SearchBulkIndexer is a Dialect that refreshes its search index for many
// customers at once from their stored search_text (SQLite's FTS table).
type SearchBulkIndexer interface {
	IndexSearchMany(ctx context.Context, q Querier, ids []int64) error
}

// reindexMany recomputes the search text of many customers: one read and
// one write per batch of 500 (reindex writes a row at a time).
func (s *Store) reindexMany(ctx context.Context, ids []int64) error {
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		in, args := idArgs(part, 1)
		type row struct {
			id   int64
			text string
		}
		rows, err := queryList(ctx, s.wq(), func(r *sql.Rows) (row, error) {
			var x row
			var name, email, phone string
			var company sql.NullString
			err := r.Scan(&x.id, &name, &email, &phone, &company)
			x.text = crm.SearchText(name, email, phone, company.String)
			return x, err
		}, `SELECT c.id, c.full_name, c.primary_email, c.primary_phone, co.name FROM customers c
		    LEFT JOIN companies co ON co.id = c.company_id WHERE c.id IN `+in, args...)
		if err != nil {
			return err
		}
		var b, list strings.Builder
		vals := make([]any, 0, 2*len(rows))
		for i, x := range rows {
			if i > 0 {
				b.WriteString(", ")
				list.WriteString(", ")
			}
			fmt.Fprintf(&b, "(CAST($%d AS BIGINT), CAST($%d AS TEXT))", 2*i+1, 2*i+2)
			fmt.Fprintf(&list, "$%d", 2*i+1)
			vals = append(vals, x.id, x.text)
		}
		if len(rows) > 0 {
			if _, err := s.wq().ExecContext(ctx, `UPDATE customers SET search_text = v.column2 FROM (VALUES `+b.String()+`) AS v
				WHERE customers.id IN (`+list.String()+`) AND customers.id = v.column1`, vals...); err != nil {
				return err
			}
		}
		if bi, ok := s.d.(SearchBulkIndexer); ok {
			if err := bi.IndexSearchMany(ctx, s.wq(), part); err != nil {
				return err
			}
			continue
		}
		for _, x := range rows {
			if err := s.d.IndexSearch(ctx, s.wq(), x.id, x.text); err != nil {
				return err
			}
		}
	}
	return nil
}

// AddCompanyActivity appends entries to companies' logs in one statement.
func (s *Store) AddCompanyActivity(ctx context.Context, as []crm.CompanyActivity) error {
	if len(as) == 0 {
		return nil
	}
	var b strings.Builder
	args := make([]any, 0, 5*len(as))
	for i, a := range as {
		if i > 0 {
			b.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&b, "($%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5)
		var actor any
		if a.Actor != nil {
			actor = a.Actor.ID
		}
		data := string(a.Data)
		if data == "" {
			data = "{}"
		}
		args = append(args, a.CompanyID, actor, a.Kind, data, ts(a.At))
	}
	_, err := s.wq().ExecContext(ctx, `INSERT INTO company_activity (company_id, user_id, kind, data, at) VALUES `+b.String(), args...)
	return err
}

// ListCompanyActivity returns a company's log, newest first.
func (s *Store) ListCompanyActivity(ctx context.Context, companyID int64, limit int) ([]crm.CompanyActivity, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	return queryList(ctx, s.rq(), func(r *sql.Rows) (crm.CompanyActivity, error) {
		var a crm.CompanyActivity
		var uid sql.NullInt64
		var uname, uemail sql.NullString
		var data string
		err := r.Scan(&a.ID, &a.CompanyID, &uid, &uname, &uemail, &a.Kind, &data, &a.At)
		a.Data, a.At = []byte(data), a.At.UTC()
		if uid.Valid {
			a.Actor = &crm.UserRef{ID: uid.Int64, Name: uname.String, Email: uemail.String}
		}
		return a, err
	}, `SELECT a.id, a.company_id, u.id, u.name, u.email, a.kind, a.data, a.at
	    FROM company_activity a LEFT JOIN users u ON u.id = a.user_id
	    WHERE a.company_id = $1 ORDER BY a.id DESC LIMIT $2`, companyID, limit)
}

// companyNotActive says a not-found of a company that exists is a conflict.
func companyNotActive(err error, id int64) error {
	if errors.Is(err, crm.ErrNotFound) {
		return crm.Conflict("Company %d was archived or merged meanwhile; nothing was changed.", id)
	}
	return err
}
