package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/acme/crm/internal/crm"
)

// CountCap bounds the exact count of a list: beyond it the total is reported
// as "CountCap+" so that a count never costs more than the page itself.
const CountCap = 10000

// sortKind is how a sort key is read and compared.
type sortKind int

const (
	sortText  sortKind = iota // a text column; '' is empty and sorts last
	sortTime                  // a time column, never empty
	sortScore                 // the score of one product (customer_scores); none is empty
)

// sortColumns maps sort keys to indexed columns of customers: each has an
// index (column, id) for keyset pages (created and updated; name, email,
// company and owner keys), or is read from one (score: customer_scores_product).
var sortColumns = map[string]struct {
	col  string
	kind sortKind
}{
	"name":     {"c.name_key", sortText},
	"email":    {"c.primary_email", sortText},
	"company":  {"c.company_key", sortText},
	"owner":    {"c.owner_key", sortText},
	"created":  {"c.created_at", sortTime},
	"updated":  {"c.updated_at", sortTime},
	"country":  {"c.country", sortText},
	"language": {"c.language", sortText},
	"score":    {"ss.score", sortScore},
}

// cursor is the keyset position: the sort value and id of a row shown, whether
// that row is among the empty values (which come last, in id order), and its
// position in the list (0 for the first customer) for "51-100 of N".
type cursor struct {
	V  string `json:"v"`
	ID int64  `json:"id"`
	E  bool   `json:"e,omitempty"`
	N  int    `json:"n,omitempty"`
}

func encodeCursor(v any, id int64, empty bool, pos int) string {
	var sv string
	switch x := v.(type) {
	case time.Time:
		sv = x.UTC().Format(time.RFC3339Nano)
	case string:
		sv = x
	}
	b, _ := json.Marshal(cursor{V: sv, ID: id, E: empty, N: pos})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, kind sortKind) (any, cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c cursor
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	bad := crm.Invalid("cursor", "is not a cursor from a previous page")
	if err != nil || c.ID <= 0 || c.N < 0 {
		return nil, c, bad
	}
	if c.E {
		return nil, c, nil
	}
	switch kind {
	case sortTime:
		t, err := time.Parse(time.RFC3339Nano, c.V)
		if err != nil {
			return nil, c, bad
		}
		return ts(t), c, nil
	case sortScore:
		n, err := strconv.Atoi(c.V)
		if err != nil {
			return nil, c, bad
		}
		return n, c, nil
	}
	return c.V, c, nil
}

// custFilter is a filter as SQL over customers c, in the pieces the list
// arranges differently for its count and for its page:
//   - conds: conditions on the customer row, answered by the indexes of customers;
//   - sets: memberships ("has tag x", "in segment y", "scores 40-60 on z"),
//     each a set of customer ids read from one indexed link table, which a query
//     can either drive from (read the set, then look the customers up) or probe
//     (walk customers in order, look each one up in the set);
//   - search: the dialect's search condition.
//
// Which of drive or probe is right depends on how many customers match: a
// planner with statistics (PostgreSQL) sees both shapes as the same semi-join
// and decides itself; SQLite keeps no statistics unless ANALYZE runs, and
// follows the shape it is given. So the count, which must read every match up
// to CountCap anyway, always drives from the sets; the page then drives from
// them when the count found few matches, and probes them when matches are
// dense enough that walking the sort order finds a page quickly (see sparse).
// With several sets the count lists the matching ids, and a page of few
// matches is read by those ids. docs/benchmarks.md has the measurements.
type custFilter struct {
	conds  []string
	sets   []idSet
	search string
	args   []any
	none   bool // matches nothing (a tag or product that does not exist)
}

// idSet is a set of customer ids: SELECT col FROM table WHERE cond.
type idSet struct {
	table, col, cond string
	unique           bool   // lists each customer at most once
	probeCond        string // cond for checking one customer, when it must differ
}

func (x idSet) sel() string { return "SELECT " + x.col + " FROM " + x.table + " WHERE " + x.cond }

// probe is the set as a check of one customer row.
func (x idSet) probe() string {
	cond := x.cond
	if x.probeCond != "" {
		cond = x.probeCond
	}
	return "EXISTS (SELECT 1 FROM " + x.table + " WHERE " + x.col + " = c.id AND " + cond + ")"
}

// refs are tag and product ids read before building the query, so that the
// planner sees constants (PostgreSQL then knows how common each tag is); nil
// leaves them as subqueries on the names.
type refs struct {
	tags    map[string]int64 // name_key -> id, for the tags that exist
	product int64            // the score product, 0 when it does not exist
}

// filter turns a filter into SQL: the one place a filter becomes SQL.
func (s *Store) filter(f crm.CustomerFilter, r *refs) custFilter {
	var fl custFilter
	arg := func(v any) string {
		fl.args = append(fl.args, v)
		return fmt.Sprintf("$%d", len(fl.args))
	}
	list := func(vals []string) string {
		ps := make([]string, len(vals))
		for i, v := range vals {
			ps[i] = arg(v)
		}
		return "(" + strings.Join(ps, ", ") + ")"
	}
	ids := func(vals []int64) string {
		ps := make([]string, len(vals))
		for i, v := range vals {
			ps[i] = arg(v)
		}
		return "(" + strings.Join(ps, ", ") + ")"
	}
	cond := func(c string) { fl.conds = append(fl.conds, c) }
	if f.None { // a saved view's missing reference: nobody, on every path (list, count, export, bulk)
		fl.none = true
		cond("1 = 0")
	}

	switch f.Archived {
	case crm.ArchivedOnly:
		cond("c.archived_at IS NOT NULL")
	case crm.ArchivedAll:
	default:
		cond(activeOnly)
	}
	switch f.Owner {
	case crm.OwnerNone:
		cond("c.owner_id IS NULL")
	case crm.OwnerMe, "user":
		cond("c.owner_id = " + arg(f.OwnerID))
	}
	if len(f.Tags) > 0 {
		var keys []string
		for _, t := range f.Tags {
			if k := crm.NameKey(t); !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
		// tagIn is the condition on ct.tag_id for some of the names.
		tagIn := func(keys []string) string {
			if r == nil {
				return "ct.tag_id IN (SELECT t.id FROM tags t WHERE t.name_key IN " + list(keys) + ")"
			}
			var found []int64
			for _, k := range keys {
				if id, ok := r.tags[k]; ok {
					found = append(found, id)
				}
			}
			if len(found) == 0 || f.TagsAll && len(found) < len(keys) {
				fl.none = true
				return "1 = 0"
			}
			return "ct.tag_id IN " + ids(found)
		}
		if f.TagsAll {
			for _, k := range keys {
				fl.sets = append(fl.sets, idSet{table: "customer_tags ct", col: "ct.customer_id", cond: tagIn([]string{k}), unique: true})
			}
		} else {
			fl.sets = append(fl.sets, idSet{table: "customer_tags ct", col: "ct.customer_id", cond: tagIn(keys), unique: len(keys) == 1})
		}
	}
	if f.SegmentID != 0 {
		fl.sets = append(fl.sets, idSet{table: "segment_members m", col: "m.customer_id", cond: "m.segment_id = " + arg(f.SegmentID), unique: true})
	}
	if len(f.CompanyIDs) > 0 {
		ps := make([]string, len(f.CompanyIDs))
		for i, id := range f.CompanyIDs {
			ps[i] = arg(id)
		}
		cond("c.company_id IN (" + strings.Join(ps, ", ") + ")")
	}
	if len(f.Countries) > 0 {
		cond("c.country IN " + list(f.Countries))
	}
	if len(f.Languages) > 0 {
		cond("c.language IN " + list(f.Languages))
	}
	if f.HasInbound != nil {
		// Literals, not an argument: the partial index of the few customers
		// with has_inbound = TRUE only serves a query that says so in its
		// text; and "NOT has_inbound" (most customers) is no index
		// condition, so SQLite, which has no statistics to know it matches
		// 95 %, cannot pick an index for it over a selective filter.
		if *f.HasInbound {
			cond("c.has_inbound = TRUE")
		} else {
			cond("NOT c.has_inbound")
		}
	}
	if f.ScoreProduct != "" && (f.ScoreMin != nil || f.ScoreMax != nil) {
		var c string
		switch {
		case r == nil:
			c = "cs.product_id IN (SELECT p.id FROM products p WHERE p.key = " + arg(f.ScoreProduct) + ")"
		case r.product == 0:
			fl.none = true
			c = "1 = 0"
		default:
			c = "cs.product_id = " + arg(r.product)
		}
		// checking one customer, the unary plus (a no-op) keeps SQLite on
		// the primary key (customer_id, product_id): given the score range,
		// it would scan the range in customer_scores_product for every row
		probe := c
		if f.ScoreMin != nil {
			n := arg(*f.ScoreMin)
			c += " AND cs.score >= " + n
			probe += " AND +cs.score >= " + n
		}
		if f.ScoreMax != nil {
			n := arg(*f.ScoreMax)
			c += " AND cs.score <= " + n
			probe += " AND +cs.score <= " + n
		}
		fl.sets = append(fl.sets, idSet{"customer_scores cs", "cs.customer_id", c, true, probe})
	}
	if f.CreatedFrom != nil {
		cond("c.created_at >= " + arg(ts(*f.CreatedFrom)))
	}
	if f.CreatedTo != nil {
		cond("c.created_at < " + arg(ts(*f.CreatedTo)))
	}
	if len(f.IDs) > 0 {
		cond("c.id IN " + ids(f.IDs))
	}
	if c, qargs := s.searchCondition(f.Q, len(fl.args)+1); c != "" {
		fl.args = append(fl.args, qargs...)
		fl.search = c
	}
	return fl
}

// where builds the WHERE clause of a filter, every membership checked per
// row (for callers that walk customers in their own order).
func (s *Store) where(f crm.CustomerFilter) (string, []any) {
	fl := s.filter(f, nil)
	conds := slices.Clone(fl.conds)
	for _, x := range fl.sets {
		conds = append(conds, x.probe())
	}
	if fl.search != "" {
		conds = append(conds, fl.search)
	}
	return whereClause(conds), fl.args
}

func whereClause(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// inAll is the condition "c.id is in every one of the sets". SQLite is given
// their INTERSECT, which it computes by merging the sets' index ranges (they
// come sorted by customer id); PostgreSQL is given one semi-join per set,
// which its statistics combine well, whereas it cannot estimate the size of an
// INTERSECT and then reads far too much.
func (s *Store) inAll(sets []idSet) []string {
	if len(sets) > 1 && s.d.Name() == "sqlite" {
		sels := make([]string, len(sets))
		for i, x := range sets {
			sels[i] = x.sel()
		}
		return []string{"c.id IN (" + strings.Join(sels, " INTERSECT ") + ")"}
	}
	var out []string
	for _, x := range sets {
		out = append(out, "c.id IN ("+x.sel()+")")
	}
	return out
}

// A count of one set (a tag, a segment, a score range) with row conditions
// (company, owner, language...) reads the set and looks each member's row up,
// which is right when the set is small or the rows many, but a score range
// holds about a quarter of all customers: "company=X with a score of 40-60"
// looked up 250,000 customers to find 5 (2 s at a million). countFromRows
// first sizes both sides with bounded counts (the set's index-only) and, when
// the set is large (over 30,000) and the rows few (up to 20,000), drives from
// the rows instead, checking each against the set.
type driveBounds struct {
	bigSet  int // a set with more members is large: the rows are sized
	fewRows int // rows matching at most this many are driven from
	// hashCap, when above 0, is hashBound's answer instead of its estimate
	hashCap int64
}

var defaultDrive = driveBounds{bigSet: 30000, fewRows: 20000}

// bounds are the store's driveBounds.
func (s *Store) bounds() driveBounds {
	if s.drive != nil {
		return *s.drive
	}
	return defaultDrive
}

// SetCountDrive sets when a count drives from the rows (see countFromRows):
// for tests, which check both ways on small data, and for tuning. Set once,
// before the store is used.
func (s *Store) SetCountDrive(bigSet, fewRows int) {
	b := s.bounds()
	b.bigSet, b.fewRows = bigSet, fewRows
	s.drive = &b
}

// SetHashBound sets the most matches a score sort checks against a hash of
// their ids (see hashBound; 0: its estimate), as SetCountDrive does.
func (s *Store) SetHashBound(n int64) {
	b := s.bounds()
	b.hashCap = n
	s.drive = &b
}

// countFromRows lists the matches of a filter of one set and row conditions
// by driving from the rows, when the set is large and the rows few (see
// bigSet); drove is false when the set should be read first (countSQL).
func (s *Store) countFromRows(ctx context.Context, f crm.CustomerFilter, r *refs, fl custFilter) (ids []int64, drove bool, err error) {
	// each side on its own, with its own arguments
	setOnly := crm.CustomerFilter{Archived: crm.ArchivedAll, Tags: f.Tags, TagsAll: f.TagsAll, SegmentID: f.SegmentID,
		ScoreProduct: f.ScoreProduct, ScoreMin: f.ScoreMin, ScoreMax: f.ScoreMax}
	fs := s.filter(setOnly, r)
	fr := s.filter(byRow(f), nil)
	if len(fs.sets) != 1 || fs.none || fr.none {
		return nil, false, nil
	}
	b := s.bounds()
	var n int
	if err := s.lq(ctx).QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM (%s LIMIT %d) x", fs.sets[0].sel(), b.bigSet+1), fs.args...).Scan(&n); err != nil || n <= b.bigSet {
		return nil, false, err
	}
	if err := s.lq(ctx).QueryRowContext(ctx, fmt.Sprintf("SELECT count(*) FROM (SELECT 1 FROM customers c%s LIMIT %d) x", whereClause(fr.conds), b.fewRows+1), fr.args...).Scan(&n); err != nil || n > b.fewRows {
		return nil, false, err
	}
	ids, err = queryList(ctx, s.lq(ctx), func(r *sql.Rows) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	}, "SELECT c.id FROM customers c"+whereClause(append(slices.Clone(fl.conds), fl.sets[0].probe()))+fmt.Sprintf(" LIMIT %d", CountCap+1), fl.args...)
	return ids, err == nil, err
}

// byRow is the part of a filter checked on the customer row: without its
// sets (tags, segment, score range) and its search.
func byRow(f crm.CustomerFilter) crm.CustomerFilter {
	f.Tags, f.SegmentID, f.ScoreProduct, f.ScoreMin, f.ScoreMax, f.Q = nil, 0, "", nil, nil, ""
	return f
}

// countSQL counts the matches up to CountCap+1, reading the sets first.
// With several sets it lists the matching ids instead (see FindCustomers).
func (s *Store) countSQL(fl custFilter) string {
	conds := slices.Clone(fl.conds)
	if fl.search != "" {
		conds = append(conds, fl.search)
	}
	inner := "SELECT 1 FROM customers c" + whereClause(conds)
	switch {
	case len(fl.sets) == 1:
		// a join, not "c.id IN (...)": SQLite would first copy the whole set
		// into a temporary index (all 220,000 ids of a score range) before
		// counting the first 10,001
		x := fl.sets[0]
		pick := "1"
		if !x.unique {
			pick = "DISTINCT c.id"
		}
		inner = "SELECT " + pick + " FROM " + x.table + " JOIN " + s.activeLookup(fl) + " ON c.id = " + x.col +
			whereClause(append([]string{x.cond}, conds...))
	case len(fl.sets) > 1:
		return "SELECT c.id FROM customers c" + whereClause(append(conds, s.inAll(fl.sets)...)) +
			" LIMIT " + fmt.Sprint(CountCap+1)
	}
	return "SELECT count(*) FROM (" + inner + " LIMIT " + fmt.Sprint(CountCap+1) + ") x"
}

// searchCountSQL counts the matches of a search without sets, as countSQL
// does, and lists their ids when there are at most upTo.
func (s *Store) searchCountSQL(fl custFilter, upTo int) string {
	from := "customers c"
	if s.d.Name() == "sqlite" && len(fl.conds) == 1 && fl.conds[0] == activeOnly && !strings.Contains(fl.search, "c.search_text") {
		from = "customers c INDEXED BY customers_active_id" // see activeLookup (a check of search_text reads the row anyway)
	}
	return fmt.Sprintf("SELECT count(*), CASE WHEN count(*) <= %d THEN string_agg(CAST(x.id AS TEXT), ',') END FROM (SELECT c.id FROM %s%s LIMIT %d) x",
		upTo, from, whereClause(append(slices.Clone(fl.conds), fl.search)), CountCap+1)
}

// activeLookup is how the count joins customers to a set. When the only
// thing to check of each customer is that it is active, the narrow index
// customers_active_id (ids of active customers) answers that without the
// table: PostgreSQL picks it by itself (index-only); SQLite always prefers
// its rowid lookup into the table, which made the count of one tag, segment
// or score range 30-40 % slower, so it is named there (and for a search's
// matches, searchCountSQL).
func (s *Store) activeLookup(fl custFilter) string {
	if s.d.Name() == "sqlite" && fl.search == "" && len(fl.conds) == 1 && fl.conds[0] == activeOnly {
		return "customers c INDEXED BY customers_active_id"
	}
	return "customers c"
}

// activeOnly is the condition of the default view: customers not archived.
const activeOnly = "c.archived_at IS NULL"

// pageConds are the conditions of the page query: the sets driven from when
// sparse, else probed row by row along the sort order.
func (s *Store) pageConds(fl custFilter, sparse bool) []string {
	conds := slices.Clone(fl.conds)
	if sparse {
		conds = append(conds, s.inAll(fl.sets)...)
		if fl.search != "" {
			conds = append(conds, fl.search)
		}
		return conds
	}
	for _, x := range fl.sets {
		conds = append(conds, x.probe())
	}
	if fl.search != "" {
		// SQLite's search is "c.id IN (SELECT rowid FROM customers_fts ...)",
		// which SQLite reads first and then sorts all its matches; a unary
		// plus (a no-op) makes it a check against the matches, read once,
		// along the sort order instead. Other conditions stay as they are.
		if strings.HasPrefix(fl.search, "c.id IN (") {
			conds = append(conds, "+"+fl.search)
		} else {
			conds = append(conds, fl.search)
		}
	}
	return conds
}

// setLike reports whether the page query's shape matters: whether the filter
// has sets, or a search SQLite answers as a set.
func (fl custFilter) setLike() bool {
	return len(fl.sets) > 0 || strings.HasPrefix(fl.search, "c.id IN (")
}

// sparse decides, from the exact number of matches, whether the page is read
// by driving from the matches (then sorting them) or by walking the sort order
// and checking each customer. Driving costs about one lookup per match;
// walking, about one check per customer passed before a page is full, that
// is page×(customers/matches). Driving wins while
// matches² < page×customers, with customers estimated by the largest id.
func (s *Store) sparse(ctx context.Context, total, page int) (bool, error) {
	if total == 0 {
		return true, nil
	}
	var maxID sql.NullInt64
	if err := s.lq(ctx).QueryRowContext(ctx, `SELECT max(id) FROM customers`).Scan(&maxID); err != nil {
		return false, err
	}
	return int64(total)*int64(total) <= int64(page)*maxID.Int64, nil
}

// sparseBound is the most matches that sparse (above) reads as a set, for a
// page of page rows (at least page, at most CountCap).
func (s *Store) sparseBound(ctx context.Context, page int) (int, error) {
	var maxID sql.NullInt64
	if err := s.rq().QueryRowContext(ctx, `SELECT max(id) FROM customers`).Scan(&maxID); err != nil {
		return 0, err
	}
	b := int(math.Sqrt(float64(int64(page) * maxID.Int64)))
	for int64(b+1)*int64(b+1) <= int64(page)*maxID.Int64 { // floating point may round down one short
		b++
	}
	return min(max(b, page), CountCap), nil
}

// hashBound is the most matches for which, on PostgreSQL, a score sort
// filtered by row conditions (owner=me) checks the walked scores against a
// hash of the matches' ids rather than looking up each walked customer's
// row (the planner's choice: ~15,000 buffers read for owner=me of a million,
// 40-90 ms under load). The walk passes about page×(customers/matches)
// scores; looking a customer up costs a few random page reads, adding its id
// to the hash (index-only) about 1/64 of that, so the hash wins while
// matches² < 64×page×customers: about 57,000 of a million for a page of 50.
func (s *Store) hashBound(ctx context.Context, page int) (int64, error) {
	if b := s.bounds(); b.hashCap > 0 {
		return b.hashCap, nil
	}
	var maxID sql.NullInt64
	if err := s.lq(ctx).QueryRowContext(ctx, `SELECT max(id) FROM customers`).Scan(&maxID); err != nil {
		return 0, err
	}
	return max(1, int64(math.Sqrt(float64(64*int64(page)*maxID.Int64)))), nil
}

// resolve reads the ids of the filter's tags and product.
func (s *Store) resolve(ctx context.Context, f crm.CustomerFilter) (*refs, error) {
	r := &refs{tags: map[string]int64{}}
	if len(f.Tags) > 0 {
		keys := make([]any, len(f.Tags))
		for i, t := range f.Tags {
			keys[i] = crm.NameKey(t)
		}
		rows, err := s.lq(ctx).QueryContext(ctx, `SELECT id, name_key FROM tags WHERE name_key IN `+placeholders(1, len(keys)), keys...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var key string
			if err := rows.Scan(&id, &key); err != nil {
				return nil, err
			}
			r.tags[key] = id
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	if f.ScoreProduct != "" && (f.ScoreMin != nil || f.ScoreMax != nil) {
		err := s.lq(ctx).QueryRowContext(ctx, `SELECT id FROM products WHERE key = $1`, f.ScoreProduct).Scan(&r.product)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
	}
	return r, nil
}

// scoreSortProduct is the product whose score a "score" sort orders by: the
// filter's score_product, else the first product (the table's default score
// column); 0 when there is none (every customer then has no score).
func (s *Store) scoreSortProduct(ctx context.Context, key string) (int64, error) {
	var id int64
	var err error
	if key != "" {
		err = s.lq(ctx).QueryRowContext(ctx, `SELECT id FROM products WHERE key = $1`, key).Scan(&id)
	} else {
		err = s.lq(ctx).QueryRowContext(ctx, `SELECT id FROM products ORDER BY position, id LIMIT 1`).Scan(&id)
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	return id, nil
}

// FindCustomers returns one keyset page of the customers matching the query.
func (s *Store) FindCustomers(ctx context.Context, q crm.CustomerQuery) (*crm.CustomerPage, error) {
	key, desc := strings.TrimPrefix(q.Sort, "-"), strings.HasPrefix(q.Sort, "-")
	if q.Sort == "" {
		key, desc = "created", true
	}
	sc, ok := sortColumns[key]
	if !ok {
		return nil, crm.Invalid("sort", "%q is not a sortable column", key)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	if limit > 500 {
		limit = 500
	}
	var fl custFilter
	var r *refs
	if len(q.Filter.Tags) > 0 || q.Filter.ScoreProduct != "" {
		var err error
		if r, err = s.resolve(ctx, q.Filter); err != nil {
			return nil, err
		}
	}
	fl = s.filter(q.Filter, r)
	var cursorV any
	var cur cursor
	if q.Cursor != "" {
		var err error
		if cursorV, cur, err = decodeCursor(q.Cursor, sc.kind); err != nil {
			return nil, err
		}
	}
	var product int64
	if sc.kind == sortScore {
		var err error
		if product, err = s.scoreSortProduct(ctx, q.Filter.ScoreProduct); err != nil {
			return nil, err
		}
	}

	page := &crm.CustomerPage{Items: []crm.Customer{}}
	if fl.none {
		page.TotalExact = true
		return page, nil
	}
	// The total: exact up to CountCap, a lower bound beyond. Several sets
	// (tags in "all" mode, a tag and a segment...) intersect to few
	// customers, and an engine must compute the whole intersection before
	// it can count one of them; so the count lists the ids, and a page of
	// few matches is then read by id instead of intersecting the sets again.
	//
	// A search is the same for the page: when its matches fit on one page,
	// the count hands their ids over with the total, and the page is read
	// by id instead of searching again (a full e-mail address on
	// PostgreSQL: two searches of 28 ms each, 55 ms, before).
	var matched []int64
	sparse := false
	// A score sort filtered by row conditions alone (owner=me) on
	// PostgreSQL: the count reads on up to hashBound matches, and with no
	// more than that the page checks the walked scores against a hash of
	// the matches' ids (see hashBound).
	hashed, bound := false, int64(0)
	if s.d.Name() == "postgres" && sc.kind == sortScore && len(fl.sets) == 0 && fl.search == "" &&
		slices.ContainsFunc(fl.conds, func(c string) bool { return c != activeOnly }) {
		var err error
		if bound, err = s.hashBound(ctx, limit+1); err != nil {
			return nil, err
		}
	}
	switch {
	case bound > 0:
		// counted up to the larger of the bound and CountCap: below about
		// 30,000 customers the bound is the smaller, and the total shown
		// must still be exact up to CountCap
		q := fmt.Sprintf("SELECT count(*) FROM (SELECT 1 FROM customers c%s LIMIT %d) x", whereClause(fl.conds), max(bound, CountCap)+1)
		var n int64
		if err := s.lq(ctx).QueryRowContext(ctx, q, fl.args...).Scan(&n); err != nil {
			return nil, err
		}
		hashed, page.Total = n <= bound, int(min(n, CountCap+1))
	case len(fl.sets) > 1:
		ids, err := queryList(ctx, s.lq(ctx), func(r *sql.Rows) (int64, error) {
			var id int64
			return id, r.Scan(&id)
		}, s.countSQL(fl), fl.args...)
		if err != nil {
			return nil, err
		}
		matched, page.Total = ids, len(ids)
	case fl.search != "" && len(fl.sets) == 0:
		// The count hands over the ids of as many matches as the page would
		// read as a sparse set anyway (s.sparse: total² <= page×customers,
		// about 7,000 of a million for a page of 50), not only of a page's
		// worth: the page then reads those customers by id instead of
		// searching again (the second search cost as much as the first: on
		// PostgreSQL each re-reads and re-checks every match's row).
		upTo, err := s.sparseBound(ctx, limit+1)
		if err != nil {
			return nil, err
		}
		var ids sql.NullString
		if err := s.lq(ctx).QueryRowContext(ctx, s.searchCountSQL(fl, upTo), fl.args...).Scan(&page.Total, &ids); err != nil {
			return nil, err
		}
		if ids.Valid {
			for _, v := range strings.Split(ids.String, ",") {
				id, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("search count: %q is not an id", v)
				}
				matched = append(matched, id)
			}
			sparse = true // every match is in hand: read them by id
		}
	default:
		var drove bool
		if len(fl.sets) == 1 && fl.search == "" && slices.ContainsFunc(fl.conds, func(c string) bool { return c != activeOnly }) {
			var err error
			if matched, drove, err = s.countFromRows(ctx, q.Filter, r, fl); err != nil {
				return nil, err
			}
			page.Total = len(matched)
		}
		if !drove {
			if err := s.lq(ctx).QueryRowContext(ctx, s.countSQL(fl), fl.args...).Scan(&page.Total); err != nil {
				return nil, err
			}
		}
	}
	page.TotalExact = page.Total <= CountCap
	if !page.TotalExact {
		page.Total = CountCap
	}
	// A score sort is walked along the product's scores, checking each
	// customer: with few matches of row conditions alone (company=X) that
	// walk passes nearly every score before the page is full (0.8 s at a
	// million), so few matches are read and sorted instead, as sets are.
	if !sparse && (fl.setLike() || sc.kind == sortScore) && page.TotalExact {
		var err error
		if sparse, err = s.sparse(ctx, page.Total, limit+1); err != nil {
			return nil, err
		}
	}
	if page.Total == 0 {
		return page, nil
	}
	// Going backwards is going forwards in the reversed order, then flipping the rows.
	forwardDesc := desc != q.Before
	conds, pageArgs := s.pageConds(fl, sparse), slices.Clone(fl.args)
	if sparse && matched != nil {
		// the customers the count found, with the row conditions checked
		// again; the ids are written into the SQL as numbers (they are
		// int64s read from the database): binding thousands of arguments
		// costs the SQLite driver more than the query itself
		fr := s.filter(byRow(q.Filter), nil)
		conds, pageArgs = fr.conds, fr.args
		var b strings.Builder
		for i, id := range matched {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatInt(id, 10))
		}
		conds = append(conds, "c.id IN ("+b.String()+")")
	}

	// Many matches (more than CountCap) in an order other than by time: the
	// page is found soonest by walking the sort's index and checking each
	// customer. SQLite, without statistics, would rather read every match
	// of an indexed filter (country=DE: 300,000 customers) and sort them
	// (1.2 s); a unary plus (a no-op) keeps the filter off the indexes. With
	// fewer matches, reading and sorting them is bounded by CountCap.
	if s.d.Name() == "sqlite" && sc.kind != sortTime && !page.TotalExact && !sparse {
		for i, c := range conds {
			if strings.HasPrefix(c, "c.") && !strings.HasPrefix(c, "c.id ") {
				conds[i] = "+" + c
			}
		}
	}

	// A search for a whole e-mail address or phone number shows the
	// customers holding exactly that contact first (on the first page; the
	// other pages leave them out).
	pinned, err := s.exactMatches(ctx, q.Filter)
	if err != nil {
		return nil, err
	}
	if len(pinned) >= limit { // a page keeps a row of the sort, for its cursor
		pinned = pinned[:limit-1]
	}
	if len(pinned) > 0 {
		conds = append(conds, "c.id NOT IN "+int64List(pinned))
	}
	pinHere := len(pinned) > 0 && (q.Cursor == "" || q.Before)
	room := limit
	if pinHere && q.Cursor == "" {
		room = limit - len(pinned)
	}

	// Empty values come last in both directions: the customers with a value
	// are one range of the sort's index, those without (in id order) the
	// next, so a page reads the first and, when it is not full, the second.
	// Walking backwards visits them the other way round.
	phases := []bool{false} // "empty values?", in the order walked
	if sc.kind != sortTime {
		phases = []bool{false, true}
		if q.Before {
			phases = []bool{true, false}
		}
	}
	one, none := sortFixed(q.Filter, key)
	switch {
	case none: // every match has no value (owner=none sorted by owner)
		phases = []bool{true}
	case sc.kind == sortScore && (q.Filter.ScoreMin != nil || q.Filter.ScoreMax != nil):
		phases = []bool{false} // a score range matches only customers with a score
	}
	if q.Cursor != "" {
		for len(phases) > 1 && phases[0] != cur.E {
			phases = phases[1:]
		}
	}
	var items []*crm.Customer
	var sortVals []any
	var empties []bool
	for i, empty := range phases {
		var c *cursor
		if q.Cursor != "" && i == 0 {
			c = &cur
		}
		ph := phase{col: sc.col, kind: sc.kind, empty: empty, desc: forwardDesc, product: product, sparse: sparse, hashed: hashed, one: one}
		if sc.kind == sortScore {
			ph.scoreMin, ph.scoreMax = q.Filter.ScoreMin, q.Filter.ScoreMax
		}
		got, vals, err := s.pagePhase(ctx, ph, conds, pageArgs, c, cursorV, room+1-len(items))
		if err != nil {
			return nil, err
		}
		items, sortVals = append(items, got...), append(sortVals, vals...)
		for range got {
			empties = append(empties, empty)
		}
		if len(items) > room {
			break
		}
	}
	more := len(items) > room
	if more {
		items, sortVals, empties = items[:room], sortVals[:room], empties[:room]
	}
	if q.Before {
		slices.Reverse(items)
		slices.Reverse(sortVals)
		slices.Reverse(empties)
	}
	var front []*crm.Customer // the first page: the exact matches lead it
	if pinHere && (q.Cursor == "" || !more) {
		if front, err = s.GetCustomers(ctx, pinned); err != nil {
			return nil, err
		}
		for _, c := range front {
			c.Contacts = nil
		}
	}
	switch {
	case q.Cursor == "":
	case !q.Before:
		page.Offset = cur.N + 1
	case more:
		page.Offset = max(0, cur.N-len(items))
	}
	if len(items) > 0 {
		first, last := 0, len(items)-1
		hasNext := (!q.Before && more) || (q.Before && q.Cursor != "")
		hasPrev := (q.Before && more) || (!q.Before && q.Cursor != "")
		if hasNext {
			page.NextCursor = encodeCursor(sortVals[last], items[last].ID, empties[last], page.Offset+len(front)+last)
		}
		if hasPrev {
			page.PrevCursor = encodeCursor(sortVals[first], items[first].ID, empties[first], page.Offset)
		}
	}
	if err := s.hydrate(ctx, items); err != nil {
		return nil, err
	}
	for _, c := range append(front, items...) {
		page.Items = append(page.Items, *c)
	}
	return page, nil
}

// exactMatches are the customers of the filter holding, as a contact, exactly
// the e-mail address or phone number searched for (a whole one), in id order.
func (s *Store) exactMatches(ctx context.Context, f crm.CustomerFilter) ([]int64, error) {
	if f.Q == "" {
		return nil, nil
	}
	ch, value := crm.ChannelEmail, ""
	if v, err := crm.NormalizeEmail(f.Q); err == nil {
		value = v
	} else if v, err := crm.NormalizePhone(f.Q, ""); err == nil {
		ch, value = crm.ChannelPhone, v
	} else {
		return nil, nil
	}
	where, args := s.where(f)
	if where == "" {
		where = " WHERE "
	} else {
		where += " AND "
	}
	args = append(args, string(ch), value)
	return queryList(ctx, s.lq(ctx), func(r *sql.Rows) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	}, fmt.Sprintf(`SELECT c.id FROM customers c%s c.id IN (SELECT k.customer_id FROM contacts k
	    WHERE k.channel = $%d AND k.value = $%d AND k.removed_at IS NULL) ORDER BY c.id LIMIT 20`, where, len(args)-1, len(args)), args...)
}

// int64List is "(1, 2, 3)", the ids written into the SQL as numbers.
func int64List(ids []int64) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	b.WriteByte(')')
	return b.String()
}

// sortFixed reports whether a filter leaves every match with the same value
// of the sort key (one: country=DE sorted by country, owner=me or one company
// sorted by owner or company) or with none (none: owner=none sorted by
// owner). Walking the sort's index would then pass every customer sorted
// before the matches' value (0.4-1.4 s at a million): one walks the matches
// in id order instead, which is their order, and none leaves only the
// phase of empty values.
func sortFixed(f crm.CustomerFilter, key string) (one, none bool) {
	switch key {
	case "owner":
		return f.Owner == crm.OwnerMe || f.Owner == "user", f.Owner == crm.OwnerNone
	case "company":
		return len(f.CompanyIDs) == 1, false
	case "country":
		return len(f.Countries) == 1 && f.Countries[0] != "", false
	case "language":
		return len(f.Languages) == 1 && f.Languages[0] != "", false
	}
	return false, false
}

// phase is one range of a page's walk: customers with a value of the sort
// key, or those without one.
type phase struct {
	col     string
	kind    sortKind
	empty   bool
	desc    bool  // walked in descending order
	product int64 // a score sort's product
	sparse  bool  // the matches are few: read them, then sort
	hashed  bool  // PostgreSQL: check the walked scores against a hash of the matches' ids
	one     bool  // every match has the same value (sortFixed): walked in id order
	// a score sort's range of the same product (the filter's): the walk
	// starts and ends at it instead of passing every score outside it
	scoreMin, scoreMax *int
}

// pagePhase reads up to n customers of one phase after the cursor c (nil:
// from the phase's start), with their sort values.
func (s *Store) pagePhase(ctx context.Context, ph phase, conds []string, args []any, c *cursor, cv any, n int) ([]*crm.Customer, []any, error) {
	conds, args = slices.Clone(conds), slices.Clone(args)
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	cmp, dir := ">", "ASC"
	if ph.desc {
		cmp, dir = "<", "DESC"
	}
	from := "customers c"
	key := ph.col // the inner query's sort expression
	out := ph.col // the outer query's
	switch {
	case ph.kind == sortScore && ph.empty:
		conds = append(conds, "NOT EXISTS (SELECT 1 FROM customer_scores ss WHERE ss.customer_id = c.id AND ss.product_id = "+arg(ph.product)+")")
		key, out = "c.id", "''"
	case ph.kind == sortScore:
		// walk the product's scores in order (customer_scores_product) and
		// look each customer up; with few matches, let the planner start
		// from them (SQLite follows CROSS JOIN's order, PostgreSQL plans)
		switch {
		case ph.sparse:
			// the matches first, then their scores: given a plain JOIN,
			// SQLite walked the product's scores in order and looked up
			// every customer (0.8 s for the 16 customers of a company)
			from = "customers c CROSS JOIN customer_scores ss"
			conds = append(conds, "ss.customer_id = c.id")
		case ph.hashed:
			// "OR FALSE" keeps PostgreSQL from turning the IN into a join
			// (it is simplified away after that step): the IN stays a
			// hashed subplan, the matches' ids read once (index-only) into
			// a hash, and the walk of customer_scores_product checks each
			// score against it without looking up the customer's row
			from = "customer_scores ss"
			conds = []string{"(ss.customer_id IN (SELECT c.id FROM customers c" + whereClause(conds) + ") OR FALSE)"}
		default:
			from = "customer_scores ss CROSS JOIN customers c"
			conds = append(conds, "c.id = ss.customer_id")
		}
		conds = append(conds, "ss.product_id = "+arg(ph.product))
		if ph.scoreMin != nil {
			conds = append(conds, "ss.score >= "+arg(*ph.scoreMin))
		}
		if ph.scoreMax != nil {
			conds = append(conds, "ss.score <= "+arg(*ph.scoreMax))
		}
		out = "p.sk"
	case ph.empty:
		conds = append(conds, ph.col+" = ''")
		key = "c.id"
	case ph.kind == sortText:
		// "> ''", not "<> ''": a range of the index, which an ascending walk
		// starts after the empty values instead of reading through them
		conds = append(conds, ph.col+" > ''")
		if ph.one {
			key = "c.id"
		}
	}
	idCol := "c.id"
	if ph.kind == sortScore && !ph.empty {
		idCol = "ss.customer_id" // the index's own column: (product_id, score, customer_id)
	}
	if c != nil {
		if ph.empty || key == "c.id" { // in id order (empty values, or one value for all)
			conds = append(conds, idCol+" "+cmp+" "+arg(c.ID))
		} else {
			v, id := arg(cv), arg(c.ID)
			conds = append(conds, fmt.Sprintf("(%s, %s) %s (%s, %s)", key, idCol, cmp, v, id))
		}
	}
	order := fmt.Sprintf(" ORDER BY %s %s, %s %s", key, dir, idCol, dir)
	if key == "c.id" {
		order = " ORDER BY c.id " + dir
	}
	// The page's ids first, then their rows: filtering and ordering need only
	// the sort key and the id, and the rows (with company and owner) are read
	// for the page alone rather than for every customer passed on the way.
	inner := `SELECT ` + idCol + ` AS pid, ` + key + ` AS sk FROM ` + from + whereClause(conds) + order + fmt.Sprintf(" LIMIT %d", n)
	outerOrder := fmt.Sprintf(" ORDER BY %s %s, c.id %s", out, dir, dir)
	if out == "''" {
		outerOrder = " ORDER BY c.id " + dir
	}
	sqlText := `SELECT ` + customerCols + `, ` + out + ` FROM (` + inner + `) p` +
		` JOIN customers c ON c.id = p.pid` + strings.TrimPrefix(customerFrom, " FROM customers c") + outerOrder
	rows, err := s.lq(ctx).QueryContext(ctx, sqlText, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var items []*crm.Customer
	var vals []any
	for rows.Next() {
		var sv any
		var c *crm.Customer
		if ph.kind == sortTime {
			var t time.Time
			c, err = scanCustomerWith(rows, &t)
			sv = t
		} else {
			var str string
			c, err = scanCustomerWith(rows, &str)
			sv = str
		}
		if err != nil {
			return nil, nil, err
		}
		items = append(items, c)
		vals = append(vals, sv)
	}
	return items, vals, rows.Err()
}

// scanCustomerWith scans the customer columns plus one trailing value (the sort key).
func scanCustomerWith(rows interface{ Scan(...any) error }, extra any) (*crm.Customer, error) {
	return scanCustomer(appendScanner{rows: rows, extra: extra})
}

// appendScanner appends one destination to every Scan call.
type appendScanner struct {
	rows  interface{ Scan(...any) error }
	extra any
}

func (a appendScanner) Scan(dest ...any) error { return a.rows.Scan(append(dest, a.extra)...) }
