package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/acme/crm/internal/crm"
)

func (s *Store) CreateCompany(ctx context.Context, c *crm.Company) error {
	c.CreatedAt = ts(c.CreatedAt)
	c.UpdatedAt = c.CreatedAt
	err := s.wq().QueryRowContext(ctx,
		`INSERT INTO companies (name, name_key, domain, domain_key, country, created_at, updated_at)
		 VALUES ($1, $2, $3, $3, $4, $5, $5) RETURNING id`,
		c.Name, crm.NameKey(c.Name), c.Domain, c.Country, c.CreatedAt).Scan(&c.ID)
	return s.conflict(err, "a company named "+c.Name+" or with the domain "+c.Domain+" already exists")
}

const companyCols = `co.id, co.name, co.domain, co.country, co.customers_active, co.created_at, co.updated_at`

func scanCompany(row interface{ Scan(...any) error }) (*crm.Company, error) {
	var c crm.Company
	if err := row.Scan(&c.ID, &c.Name, &c.Domain, &c.Country, &c.CustomersActive, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return nil, err
	}
	c.Customers = c.CustomersActive
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return &c, nil
}

func (s *Store) GetCompany(ctx context.Context, id int64) (*crm.Company, error) {
	c, err := scanCompany(s.rq().QueryRowContext(ctx, `SELECT `+companyCols+` FROM companies co WHERE co.id = $1`, id))
	return c, notFound(err, "company")
}

func (s *Store) CurrentCompany(ctx context.Context, id int64) (*crm.Company, error) {
	c, err := scanCompany(s.rq().QueryRowContext(ctx, `SELECT `+companyCols+` FROM companies co
		WHERE co.id = (SELECT COALESCE(x.merged_into_id, x.id) FROM companies x WHERE x.id = $1)`, id))
	return c, notFound(err, "company")
}

func (s *Store) FindCompanyByName(ctx context.Context, name string) (*crm.Company, error) {
	// (a company merged into another leads to that one)
	c, err := scanCompany(s.rq().QueryRowContext(ctx, `SELECT `+companyCols+` FROM companies co
		WHERE co.id = (SELECT COALESCE(x.merged_into_id, x.id) FROM companies x WHERE x.name_key = $1)`,
		crm.NameKey(name)))
	return c, notFound(err, "company")
}

// ListCompanies lists active companies whose name starts with q (case-insensitively), by name.
func (s *Store) ListCompanies(ctx context.Context, q string, limit int) ([]crm.Company, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := s.rq().QueryContext(ctx,
		`SELECT `+companyCols+` FROM companies co
		 WHERE co.name_key LIKE $1 ESCAPE '\' AND co.archived_at IS NULL
		 ORDER BY co.name_key, co.id LIMIT $2`, likePrefix(q), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []crm.Company
	for rows.Next() {
		c, err := scanCompany(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

func (s *Store) UpdateCompany(ctx context.Context, c *crm.Company) error {
	c.UpdatedAt = ts(c.UpdatedAt)
	return s.inTx(ctx, func(tx *Store) error {
		// the unique key follows the domain only when the domain changes, so
		// that a company sharing its domain from before domains were unique
		// (migration 00019) can still be renamed
		res, err := tx.wq().ExecContext(ctx, `UPDATE companies SET name = $2, name_key = $3,
			domain_key = CASE WHEN domain = $4 THEN domain_key ELSE $4 END, domain = $4, country = $5, updated_at = $6
			WHERE id = $1 AND archived_at IS NULL`, // a company merged meanwhile is not written (NotFound)
			c.ID, c.Name, crm.NameKey(c.Name), c.Domain, c.Country, c.UpdatedAt)
		if err := tx.conflict(mustAffect(res, err, "company"), "a company named "+c.Name+" or with the domain "+c.Domain+" already exists"); err != nil {
			return err
		}
		// its customers sort by its name
		if _, err := tx.wq().ExecContext(ctx, `UPDATE customers SET company_key = $2 WHERE company_id = $1 AND company_key <> $2`,
			c.ID, crm.NameKey(c.Name)); err != nil {
			return err
		}
		return tx.reindexCompany(ctx, c.ID) // its customers are found by its name
	})
}

// EnsureTags returns the named tags, creating the missing ones.
func (s *Store) EnsureTags(ctx context.Context, names []string, now time.Time) ([]crm.Tag, error) {
	var out []crm.Tag
	err := s.inTx(ctx, func(tx *Store) error {
		seen := map[string]bool{}
		for _, n := range names {
			n = strings.TrimSpace(n)
			key := crm.NameKey(n)
			if n == "" || seen[key] {
				continue
			}
			seen[key] = true
			if _, err := tx.wq().ExecContext(ctx,
				`INSERT INTO tags (name, name_key, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, n, key, ts(now)); err != nil {
				return err
			}
			var t crm.Tag
			if err := tx.wq().QueryRowContext(ctx, `SELECT id, name, created_at FROM tags WHERE name_key = $1`, key).
				Scan(&t.ID, &t.Name, &t.CreatedAt); err != nil {
				return err
			}
			t.CreatedAt = t.CreatedAt.UTC()
			out = append(out, t)
		}
		return nil
	})
	return out, err
}

func (s *Store) ListTags(ctx context.Context) ([]crm.Tag, error) {
	rows, err := s.rq().QueryContext(ctx,
		`SELECT t.id, t.name, t.created_at, (SELECT count(*) FROM customer_tags ct WHERE ct.tag_id = t.id)
		 FROM tags t ORDER BY t.name_key`)
	if err != nil {
		return nil, err
	}
	return scanTags(rows)
}

// SearchTags lists at most limit tags whose folded name starts with the folded
// prefix and sorts after the folded after, in name order, each with its
// customer count. A prefix is a range of the unique index on name_key, which
// orders by bytes on both engines (SQLite's BINARY; PostgreSQL's column is
// COLLATE "C" since migration 00012), so the cost is that of the tags
// returned, whatever the number of tags; no LIKE, so % and _ are plain.
func (s *Store) SearchTags(ctx context.Context, prefix, after string, limit int) ([]crm.Tag, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	lo := crm.NameKey(prefix)
	if !utf8.ValidString(lo) {
		return nil, nil // no name is
	}
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	var cond string
	if a := crm.NameKey(after); a != "" && a >= lo && utf8.ValidString(a) {
		cond = `name_key > ` + arg(a)
	} else {
		cond = `name_key >= ` + arg(lo)
	}
	if hi := prefixEnd(lo); hi != "" {
		cond += ` AND name_key < ` + arg(hi)
	}
	rows, err := s.rq().QueryContext(ctx,
		`SELECT t.id, t.name, t.created_at, (SELECT count(*) FROM customer_tags ct WHERE ct.tag_id = t.id)
		 FROM (SELECT id, name, name_key, created_at FROM tags WHERE `+cond+` ORDER BY name_key LIMIT `+arg(limit)+`) t
		 ORDER BY t.name_key`, args...)
	if err != nil {
		return nil, err
	}
	return scanTags(rows)
}

// prefixEnd is the least string above every string that starts with p, in
// byte (code point) order: p with its last character incremented; "" when
// there is none (p is empty, or only U+10FFFF).
func prefixEnd(p string) string {
	for p != "" {
		r, size := utf8.DecodeLastRuneInString(p)
		p = p[:len(p)-size]
		switch {
		case r == utf8.MaxRune:
			continue // no character above it: the range ends where p's shorter prefix's does
		case r == 0xD7FF:
			return p + string(rune(0xE000)) // over the surrogates, which UTF-8 cannot hold
		default:
			return p + string(r+1)
		}
	}
	return ""
}

func scanTags(rows *sql.Rows) ([]crm.Tag, error) {
	defer rows.Close()
	var out []crm.Tag
	for rows.Next() {
		var t crm.Tag
		if err := rows.Scan(&t.ID, &t.Name, &t.CreatedAt, &t.Customers); err != nil {
			return nil, err
		}
		t.CreatedAt = t.CreatedAt.UTC()
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *Store) CreateSegment(ctx context.Context, sg *crm.Segment) error {
	sg.CreatedAt = ts(sg.CreatedAt)
	sg.UpdatedAt = sg.CreatedAt
	err := s.wq().QueryRowContext(ctx,
		`INSERT INTO segments (name, name_key, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id`, sg.Name, crm.NameKey(sg.Name), sg.CreatedAt).Scan(&sg.ID)
	return s.conflict(err, "a segment named "+sg.Name+" already exists")
}

// segmentCols count a segment's members, and those of them not archived
// (the customers the table shows for ?segment=ID): the sums of the deltas
// that triggers write with every change (migration 00023).
const segmentCols = `sg.id, sg.name, sg.created_at, sg.updated_at,
	(SELECT CAST(COALESCE(sum(k.members), 0) AS BIGINT) FROM segment_counts k WHERE k.segment_id = sg.id),
	(SELECT CAST(COALESCE(sum(k.active), 0) AS BIGINT) FROM segment_counts k WHERE k.segment_id = sg.id)`

// CompactSegmentCounts folds the count deltas of each segment into one row
// when there are more than `over` of them (a bulk change of 100,000 members
// leaves as many), so that reading the counts stays a handful of rows. The
// sums, and so every count read at any moment, stay the same.
func (s *Store) CompactSegmentCounts(ctx context.Context, over int) (bool, error) {
	var n int
	if err := s.rq().QueryRowContext(ctx, `SELECT count(*) FROM segment_counts`).Scan(&n); err != nil || n <= over {
		return false, err
	}
	err := s.inTx(ctx, func(tx *Store) error {
		var top int64
		if err := tx.wq().QueryRowContext(ctx, `SELECT COALESCE(max(id), 0) FROM segment_counts`).Scan(&top); err != nil {
			return err
		}
		// the deltas up to top are deleted and their sums written in one
		// statement on PostgreSQL, where deltas of transactions running now
		// may commit with lower ids: exactly the rows deleted are summed
		if s.d.Name() == "postgres" {
			_, err := tx.wq().ExecContext(ctx, `WITH d AS (DELETE FROM segment_counts WHERE id <= $1 RETURNING segment_id, members, active)
				INSERT INTO segment_counts (segment_id, members, active)
				SELECT segment_id, sum(members), sum(active) FROM d GROUP BY segment_id`, top)
			return err
		}
		// SQLite: one writer at a time, so the transaction sees every delta
		if _, err := tx.wq().ExecContext(ctx, `INSERT INTO segment_counts (segment_id, members, active)
			SELECT segment_id, sum(members), sum(active) FROM segment_counts WHERE id <= $1 GROUP BY segment_id`, top); err != nil {
			return err
		}
		_, err := tx.wq().ExecContext(ctx, `DELETE FROM segment_counts WHERE id <= $1`, top)
		return err
	})
	return err == nil, err
}

func scanSegment(row interface{ Scan(...any) error }) (*crm.Segment, error) {
	var sg crm.Segment
	if err := row.Scan(&sg.ID, &sg.Name, &sg.CreatedAt, &sg.UpdatedAt, &sg.Members, &sg.Active); err != nil {
		return nil, err
	}
	sg.Archived = sg.Members - sg.Active
	sg.CreatedAt, sg.UpdatedAt = sg.CreatedAt.UTC(), sg.UpdatedAt.UTC()
	return &sg, nil
}

func (s *Store) GetSegment(ctx context.Context, id int64) (*crm.Segment, error) {
	sg, err := scanSegment(s.rq().QueryRowContext(ctx, `SELECT `+segmentCols+` FROM segments sg WHERE sg.id = $1`, id))
	return sg, notFound(err, "segment")
}

func (s *Store) ListSegments(ctx context.Context) ([]crm.Segment, error) {
	rows, err := s.rq().QueryContext(ctx, `SELECT `+segmentCols+` FROM segments sg ORDER BY sg.name_key`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []crm.Segment
	for rows.Next() {
		sg, err := scanSegment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *sg)
	}
	return out, rows.Err()
}

func (s *Store) RenameSegment(ctx context.Context, id int64, name string, now time.Time) error {
	res, err := s.wq().ExecContext(ctx, `UPDATE segments SET name = $2, name_key = $3, updated_at = $4 WHERE id = $1`, id, name, crm.NameKey(name), ts(now))
	return s.conflict(mustAffect(res, err, "segment"), "a segment named "+name+" already exists")
}

func (s *Store) CreateProduct(ctx context.Context, p *crm.Product) error {
	err := s.wq().QueryRowContext(ctx, `INSERT INTO products (key, name, position) VALUES ($1, $2, $3) RETURNING id`,
		p.Key, p.Name, p.Position).Scan(&p.ID)
	return s.conflict(err, "a product with key "+p.Key+" already exists")
}

func (s *Store) ListProducts(ctx context.Context) ([]crm.Product, error) {
	rows, err := s.rq().QueryContext(ctx, `SELECT id, key, name, position FROM products ORDER BY position, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []crm.Product
	for rows.Next() {
		var p crm.Product
		if err := rows.Scan(&p.ID, &p.Key, &p.Name, &p.Position); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func (s *Store) UpdateProduct(ctx context.Context, p *crm.Product) error {
	return s.exec1(ctx, "product", `UPDATE products SET name = $2, position = $3 WHERE id = $1`, p.ID, p.Name, p.Position)
}

func (s *Store) CreateCustomField(ctx context.Context, f *crm.CustomField) error {
	opts, err := json.Marshal(nonNil(f.Options))
	if err != nil {
		return err
	}
	f.CreatedAt = ts(f.CreatedAt)
	err = s.wq().QueryRowContext(ctx,
		`INSERT INTO custom_fields (key, label, type, options, position, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		f.Key, f.Label, string(f.Type), string(opts), f.Position, f.CreatedAt).Scan(&f.ID)
	return s.conflict(err, "a custom field with key "+f.Key+" already exists")
}

func (s *Store) ListCustomFields(ctx context.Context, includeRetired bool) ([]crm.CustomField, error) {
	rows, err := s.rq().QueryContext(ctx,
		`SELECT id, key, label, type, options, position, retired_at, created_at FROM custom_fields
		 WHERE $1 OR retired_at IS NULL ORDER BY position, id`, includeRetired)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []crm.CustomField
	for rows.Next() {
		var f crm.CustomField
		var opts string
		var retired sql.NullTime
		if err := rows.Scan(&f.ID, &f.Key, &f.Label, &f.Type, &opts, &f.Position, &retired, &f.CreatedAt); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(opts), &f.Options); err != nil {
			return nil, err
		}
		f.RetiredAt, f.CreatedAt = timePtr(retired), f.CreatedAt.UTC()
		out = append(out, f)
	}
	return out, rows.Err()
}

// UpdateCustomField changes label, options, position and retirement (key and type are fixed).
func (s *Store) UpdateCustomField(ctx context.Context, f *crm.CustomField) error {
	opts, err := json.Marshal(nonNil(f.Options))
	if err != nil {
		return err
	}
	return s.exec1(ctx, "custom field",
		`UPDATE custom_fields SET label = $2, options = $3, position = $4, retired_at = $5 WHERE id = $1`,
		f.ID, f.Label, string(opts), f.Position, tsp(f.RetiredAt))
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// likePrefix makes a LIKE pattern matching lower-cased values that start with q.
func likePrefix(q string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(crm.NameKey(q)) + "%"
}
