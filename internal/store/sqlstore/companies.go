package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/acme/crm/internal/crm"
)

// companySorts maps the Companies table's sort keys to columns of companies.
// Each has a partial index over the listed companies (migration 00019):
// (key, id), or for a column that may be empty ((key = ”), key, id) and
// ((key <> ”), key, id), so that empty values come last in both directions
// and every page is a range of one index.
var companySorts = map[string]struct {
	col       string
	kind      sortKind
	emptyable bool
}{
	"name":             {"co.name_key", sortText, false},
	"domain":           {"co.domain", sortText, true},
	"country":          {"co.country", sortText, true},
	"customers_active": {"co.customers_active", sortScore, false},
	"created":          {"co.created_at", sortTime, false},
}

// companyCursor is a keyset position in the Companies table.
type companyCursor struct {
	V  string `json:"v"`
	ID int64  `json:"id"`
}

// companyWhere is the SQL condition of a company filter, with its arguments.
// country is how the country column is written: "co.country", or on SQLite
// "+co.country" where the query must not be planned on the country index.
func companyWhere(f crm.CompanyFilter, country string) (string, []any) {
	conds := []string{"co.archived_at IS NULL"}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q := crm.NameKey(f.Q); q != "" {
		p := arg(likeContains(q))
		conds = append(conds, "(co.name_key LIKE "+p+` ESCAPE '\' OR co.domain LIKE `+p+` ESCAPE '\')`)
	}
	if f.Name != "" {
		conds = append(conds, "co.name_key = "+arg(crm.NameKey(f.Name)))
	}
	if len(f.Countries) > 0 {
		var ps []string
		for _, c := range f.Countries {
			ps = append(ps, arg(c))
		}
		conds = append(conds, country+" IN ("+strings.Join(ps, ", ")+")")
	}
	if f.HasCustomers != nil {
		if *f.HasCustomers {
			conds = append(conds, "co.customers_active > 0")
		} else {
			conds = append(conds, "co.customers_active = 0")
		}
	}
	if f.CreatedFrom != nil {
		conds = append(conds, "co.created_at >= "+arg(ts(*f.CreatedFrom)))
	}
	if f.CreatedTo != nil {
		conds = append(conds, "co.created_at < "+arg(ts(*f.CreatedTo)))
	}
	return strings.Join(conds, " AND "), args
}

// searchOnly says that a company filter's one selective condition is its
// search, which no index serves: a country, a name, "without customers" and
// a creation range each have one.
func searchOnly(f crm.CompanyFilter) bool {
	return crm.NameKey(f.Q) != "" && len(f.Countries) == 0 && f.Name == "" && (f.HasCustomers == nil || *f.HasCustomers) &&
		f.CreatedFrom == nil && f.CreatedTo == nil
}

// likeContains makes a LIKE pattern matching values that contain q.
func likeContains(q string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(q) + "%"
}

// FindCompanies is one page of the Companies table: a keyset page over
// (sort key, id), and the count of the whole match.
func (s *Store) FindCompanies(ctx context.Context, q crm.CompanyQuery) (*crm.CompanyPage, error) {
	sortKey := q.Sort
	if sortKey == "" {
		sortKey = "name"
	}
	desc := strings.HasPrefix(sortKey, "-")
	spec, ok := companySorts[strings.TrimPrefix(sortKey, "-")]
	if !ok {
		return nil, crm.Invalid("sort", "%q is not a sortable column", sortKey)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	if limit > 500 {
		limit = 500
	}
	var cur *companyCursor
	var curV any
	if q.Cursor != "" {
		c, v, err := decodeCompanyCursor(q.Cursor, spec.kind)
		if err != nil {
			return nil, err
		}
		cur, curV = &c, v
	}
	sqlite := s.d.Name() == "sqlite"
	page := &crm.CompanyPage{Items: []crm.Company{}}
	if !q.NoTotal {
		// SQLite plans a count it has no index for on any partial index of
		// the active companies, then looks up every row: a search (a LIKE on
		// name and domain) read the table in its own order instead, 4x as fast.
		from := "companies co"
		if sqlite && searchOnly(q.Filter) {
			from = "companies co NOT INDEXED"
		}
		where, args := companyWhere(q.Filter, "co.country")
		if err := s.rq().QueryRowContext(ctx, `SELECT count(*) FROM `+from+` WHERE `+where, args...).Scan(&page.Total); err != nil {
			return nil, err
		}
		if page.Total == 0 {
			return page, nil // nothing to page through (a search found nothing: the page walked every company)
		}
	}
	// The page walks the sort's index, checking each company until it has
	// limit+1: cheap while the matches are many. SQLite's planner has no
	// statistics, so it is told which way to go: with fewer matches than
	// four pages' worth, the walk would pass more companies than a read of
	// all of them, so the matches are read (through a filter's index, or the
	// whole table for a search alone) and sorted; with more, the walk is
	// kept off the country index, which would read and sort every company
	// of the countries.
	from, country := "companies co", "co.country"
	if sqlite {
		if few := !q.NoTotal && page.Total < 4*(limit+1); !few {
			country = "+co.country"
		} else if searchOnly(q.Filter) {
			from = "companies co NOT INDEXED"
		}
	}
	where, args := companyWhere(q.Filter, country)

	// the order: ((col = '') or (col <> '') for a column that may be
	// empty, so that the empty ones come last), col, id; all one direction
	dir, cmp := "", ">"
	if desc {
		dir, cmp = " DESC", "<"
	}
	var keys []string
	if spec.emptyable {
		if desc {
			keys = append(keys, "("+spec.col+" <> '')")
		} else {
			keys = append(keys, "("+spec.col+" = '')")
		}
	}
	keys = append(keys, spec.col, "co.id")
	if cur != nil {
		c, v := *cur, curV
		var vals []string
		if spec.emptyable {
			empty := c.V == ""
			flag := empty
			if desc {
				flag = !empty
			}
			vals = append(vals, s.boolArg(&args, flag))
		}
		args = append(args, v)
		vals = append(vals, "$"+strconv.Itoa(len(args)))
		args = append(args, c.ID)
		vals = append(vals, "$"+strconv.Itoa(len(args)))
		where += " AND (" + strings.Join(keys, ", ") + ") " + cmp + " (" + strings.Join(vals, ", ") + ")"
	}
	order := make([]string, len(keys))
	for i, k := range keys {
		order[i] = k + dir
	}
	args = append(args, limit+1)
	rows, err := s.rq().QueryContext(ctx, `SELECT `+companyCols+` FROM `+from+` WHERE `+where+
		` ORDER BY `+strings.Join(order, ", ")+` LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanCompany(rows)
		if err != nil {
			return nil, err
		}
		page.Items = append(page.Items, *c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		last := page.Items[limit-1]
		var v string
		switch strings.TrimPrefix(sortKey, "-") {
		case "name":
			v = crm.NameKey(last.Name)
		case "domain":
			v = last.Domain
		case "country":
			v = last.Country
		case "customers_active":
			v = strconv.Itoa(last.CustomersActive)
		case "created":
			v = last.CreatedAt.UTC().Format(time.RFC3339Nano)
		}
		b, _ := json.Marshal(companyCursor{V: v, ID: last.ID})
		page.NextCursor = base64.RawURLEncoding.EncodeToString(b)
	}
	return page, nil
}

// boolArg appends a boolean argument as the engine compares it with a
// boolean expression (SQLite: 0 or 1).
func (s *Store) boolArg(args *[]any, b bool) string {
	if s.d.Name() == "sqlite" {
		n := 0
		if b {
			n = 1
		}
		*args = append(*args, n)
	} else {
		*args = append(*args, b)
	}
	return "$" + strconv.Itoa(len(*args))
}

func decodeCompanyCursor(s string, kind sortKind) (companyCursor, any, error) {
	var c companyCursor
	bad := crm.Invalid("cursor", "is not a cursor from a previous page")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.ID <= 0 {
		return c, nil, bad
	}
	switch kind {
	case sortTime:
		t, err := time.Parse(time.RFC3339Nano, c.V)
		if err != nil {
			return c, nil, bad
		}
		return c, ts(t), nil
	case sortScore:
		n, err := strconv.Atoi(c.V)
		if err != nil {
			return c, nil, bad
		}
		return c, n, nil
	}
	return c, c.V, nil
}

// CompanyOwners reads the distinct owners of the active customers of the
// given companies in one query (over the index customers_company_owner).
func (s *Store) CompanyOwners(ctx context.Context, ids []int64, few int) (map[int64]crm.CompanyOwners, error) {
	out := map[int64]crm.CompanyOwners{}
	if len(ids) == 0 {
		return out, nil
	}
	in, args := idArgs(ids, 1)
	rows, err := s.rq().QueryContext(ctx, `SELECT o.company_id, u.id, u.name, u.email
		FROM (SELECT DISTINCT c.company_id, c.owner_id FROM customers c
		      WHERE c.company_id IN `+in+` AND c.archived_at IS NULL AND c.owner_id IS NOT NULL) o
		JOIN users u ON u.id = o.owner_id
		ORDER BY o.company_id, u.name, u.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var cid int64
		var u crm.UserRef
		if err := rows.Scan(&cid, &u.ID, &u.Name, &u.Email); err != nil {
			return nil, err
		}
		o := out[cid]
		if len(o.First) < few {
			o.First = append(o.First, u)
		} else {
			o.More++
		}
		out[cid] = o
	}
	return out, rows.Err()
}

// FindCompanyByDomain is the listed company with that domain (the first,
// when companies from before domains were unique share it).
func (s *Store) FindCompanyByDomain(ctx context.Context, domain string) (*crm.Company, error) {
	// the unique key first (an index lookup); companies that shared their
	// domain before domains were unique keep "domain#id" keys, and the one
	// that held the plain key may since have been archived
	c, err := scanCompany(s.rq().QueryRowContext(ctx, `SELECT `+companyCols+` FROM companies co
		WHERE co.domain_key = $1 AND co.domain_key <> '' AND co.archived_at IS NULL`, domain))
	if err == sql.ErrNoRows {
		c, err = scanCompany(s.rq().QueryRowContext(ctx, `SELECT `+companyCols+` FROM companies co
			WHERE co.domain = $1 AND co.domain <> '' AND co.archived_at IS NULL ORDER BY co.id LIMIT 1`, domain))
	}
	return c, notFound(err, "company")
}

// fillCompanyCountries sets the country of those companies that have none
// from the most common country of their active customers (ties: the first
// code); a country once set is never overwritten.
func (s *Store) fillCompanyCountries(ctx context.Context, ids []int64) error {
	for start := 0; start < len(ids); start += chunk {
		in, args := idArgs(ids[start:min(start+chunk, len(ids))], 1)
		if _, err := s.wq().ExecContext(ctx, `UPDATE companies SET country = COALESCE((
			SELECT c.country FROM customers c
			WHERE c.company_id = companies.id AND c.archived_at IS NULL AND c.country <> ''
			GROUP BY c.country ORDER BY count(*) DESC, c.country LIMIT 1), '')
			WHERE id IN `+in+` AND country = ''`, args...); err != nil {
			return err
		}
	}
	return nil
}

// RecountSQL recomputes every company's count of active customers,
// fills missing countries and unique domain keys, and recounts the segments'
// members: for loaders that write rows directly into a database nobody uses
// yet, some with the database's triggers off (the seeder).
var RecountSQL = []string{
	`UPDATE companies SET customers_active =
		(SELECT count(*) FROM customers c WHERE c.company_id = companies.id AND c.archived_at IS NULL)
	 WHERE customers_active <> (SELECT count(*) FROM customers c WHERE c.company_id = companies.id AND c.archived_at IS NULL)`,
	`UPDATE companies SET country = COALESCE((
		SELECT c.country FROM customers c
		WHERE c.company_id = companies.id AND c.archived_at IS NULL AND c.country <> ''
		GROUP BY c.country ORDER BY count(*) DESC, c.country LIMIT 1), '')
	 WHERE country = ''`,
	`UPDATE companies SET domain_key = domain
	 WHERE domain_key = '' AND domain <> '' AND archived_at IS NULL
	   AND NOT EXISTS (SELECT 1 FROM companies o
	       WHERE o.domain_key = companies.domain AND o.domain_key <> '' AND o.archived_at IS NULL)`,
	// the segments' member counts (migration 00023) as one row per segment:
	// with triggers off (PostgreSQL) the loader wrote none, and with them on
	// (SQLite) one delta per membership, which every table page would sum
	`DELETE FROM segment_counts`,
	`INSERT INTO segment_counts (segment_id, members, active)
	 SELECT m.segment_id, count(*), sum(CASE WHEN c.archived_at IS NULL THEN 1 ELSE 0 END)
	 FROM segment_members m JOIN customers c ON c.id = m.customer_id
	 GROUP BY m.segment_id`,
}
