package sqlstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/acme/crm/internal/crm"
)

// CountCap bounds the exact count of a list: beyond it the total is reported
// as "CountCap+" so that a count never costs more than the page itself.
const CountCap = 10000

// sortColumns maps sort keys to indexed columns of customers.
var sortColumns = map[string]struct {
	col    string
	isTime bool
}{
	"name":     {"c.name_key", false},
	"email":    {"c.primary_email", false},
	"created":  {"c.created_at", true},
	"updated":  {"c.updated_at", true},
	"country":  {"c.country", false},
	"language": {"c.language", false},
}

// cursor is the keyset position: the sort value and id of the last row shown.
type cursor struct {
	V  string `json:"v"`
	ID int64  `json:"id"`
}

func encodeCursor(v any, id int64) string {
	var sv string
	switch x := v.(type) {
	case time.Time:
		sv = x.UTC().Format(time.RFC3339Nano)
	case string:
		sv = x
	}
	b, _ := json.Marshal(cursor{V: sv, ID: id})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, isTime bool) (any, int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c cursor
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.ID <= 0 {
		return nil, 0, crm.Invalid("cursor", "is not a cursor from a previous page")
	}
	if isTime {
		t, err := time.Parse(time.RFC3339Nano, c.V)
		if err != nil {
			return nil, 0, crm.Invalid("cursor", "is not a cursor from a previous page")
		}
		return ts(t), c.ID, nil
	}
	return c.V, c.ID, nil
}

// where builds the WHERE clause of a filter: the one place a filter becomes SQL.
func (s *Store) where(f crm.CustomerFilter) (string, []any) {
	var conds []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	list := func(vals []string) string {
		ps := make([]string, len(vals))
		for i, v := range vals {
			ps[i] = arg(v)
		}
		return "(" + strings.Join(ps, ", ") + ")"
	}
	switch f.Archived {
	case crm.ArchivedOnly:
		conds = append(conds, "c.archived_at IS NOT NULL")
	case crm.ArchivedAll:
	default:
		conds = append(conds, "c.archived_at IS NULL")
	}
	switch f.Owner {
	case crm.OwnerNone:
		conds = append(conds, "c.owner_id IS NULL")
	case crm.OwnerMe, "user":
		conds = append(conds, "c.owner_id = "+arg(f.OwnerID))
	}
	if len(f.Tags) > 0 {
		lower := make([]string, len(f.Tags))
		for i, t := range f.Tags {
			lower[i] = crm.NameKey(t)
		}
		if f.TagsAll {
			for _, t := range lower {
				conds = append(conds, `EXISTS (SELECT 1 FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id
					WHERE ct.customer_id = c.id AND t.name_key = `+arg(t)+`)`)
			}
		} else {
			conds = append(conds, `EXISTS (SELECT 1 FROM customer_tags ct JOIN tags t ON t.id = ct.tag_id
				WHERE ct.customer_id = c.id AND t.name_key IN `+list(lower)+`)`)
		}
	}
	if f.SegmentID != 0 {
		conds = append(conds, "EXISTS (SELECT 1 FROM segment_members m WHERE m.customer_id = c.id AND m.segment_id = "+arg(f.SegmentID)+")")
	}
	if f.CompanyID != 0 {
		conds = append(conds, "c.company_id = "+arg(f.CompanyID))
	}
	if len(f.Countries) > 0 {
		conds = append(conds, "c.country IN "+list(f.Countries))
	}
	if len(f.Languages) > 0 {
		conds = append(conds, "c.language IN "+list(f.Languages))
	}
	if f.HasInbound != nil {
		conds = append(conds, "c.has_inbound = "+arg(*f.HasInbound))
	}
	if f.ScoreProduct != "" && (f.ScoreMin != nil || f.ScoreMax != nil) {
		cond := `EXISTS (SELECT 1 FROM customer_scores cs JOIN products p ON p.id = cs.product_id
			WHERE cs.customer_id = c.id AND p.key = ` + arg(f.ScoreProduct)
		if f.ScoreMin != nil {
			cond += " AND cs.score >= " + arg(*f.ScoreMin)
		}
		if f.ScoreMax != nil {
			cond += " AND cs.score <= " + arg(*f.ScoreMax)
		}
		conds = append(conds, cond+")")
	}
	if f.CreatedFrom != nil {
		conds = append(conds, "c.created_at >= "+arg(ts(*f.CreatedFrom)))
	}
	if f.CreatedTo != nil {
		conds = append(conds, "c.created_at < "+arg(ts(*f.CreatedTo)))
	}
	if len(f.IDs) > 0 {
		ps := make([]string, len(f.IDs))
		for i, id := range f.IDs {
			ps[i] = arg(id)
		}
		conds = append(conds, "c.id IN ("+strings.Join(ps, ", ")+")")
	}
	if cond, qargs := s.searchCondition(f.Q, len(args)+1); cond != "" {
		args = append(args, qargs...)
		conds = append(conds, cond)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
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
	where, args := s.where(q.Filter)

	page := &crm.CustomerPage{Items: []crm.Customer{}}
	// The total: exact up to CountCap, a lower bound beyond.
	if !q.NoTotal {
		if err := s.rq().QueryRowContext(ctx,
			`SELECT count(*) FROM (SELECT 1 FROM customers c`+where+` LIMIT `+fmt.Sprint(CountCap+1)+`) x`, args...).Scan(&page.Total); err != nil {
			return nil, err
		}
	}
	page.TotalExact = page.Total <= CountCap
	if !page.TotalExact {
		page.Total = CountCap
	}

	// Going backwards is going forwards in the reversed order, then flipping the rows.
	forwardDesc := desc != q.Before
	cmp, dir := ">", "ASC"
	if forwardDesc {
		cmp, dir = "<", "DESC"
	}
	pageWhere, pageArgs := where, append([]any(nil), args...)
	if q.Cursor != "" {
		v, id, err := decodeCursor(q.Cursor, sc.isTime)
		if err != nil {
			return nil, err
		}
		pageArgs = append(pageArgs, v, id)
		cond := fmt.Sprintf("(%s, c.id) %s ($%d, $%d)", sc.col, cmp, len(pageArgs)-1, len(pageArgs))
		if pageWhere == "" {
			pageWhere = " WHERE " + cond
		} else {
			pageWhere += " AND " + cond
		}
	}
	sqlText := `SELECT ` + customerCols + `, ` + sc.col + customerFrom + pageWhere +
		fmt.Sprintf(" ORDER BY %s %s, c.id %s LIMIT %d", sc.col, dir, dir, limit+1)
	rows, err := s.rq().QueryContext(ctx, sqlText, pageArgs...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var items []*crm.Customer
	var sortVals []any
	for rows.Next() {
		var sv any
		var c *crm.Customer
		if sc.isTime {
			var t time.Time
			c, err = scanCustomerWith(rows, &t)
			sv = t
		} else {
			var str string
			c, err = scanCustomerWith(rows, &str)
			sv = str
		}
		if err != nil {
			return nil, err
		}
		items = append(items, c)
		sortVals = append(sortVals, sv)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	more := len(items) > limit
	if more {
		items, sortVals = items[:limit], sortVals[:limit]
	}
	if q.Before {
		for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
			items[i], items[j] = items[j], items[i]
			sortVals[i], sortVals[j] = sortVals[j], sortVals[i]
		}
	}
	if len(items) > 0 {
		first, last := 0, len(items)-1
		hasNext := (!q.Before && more) || (q.Before && q.Cursor != "")
		hasPrev := (q.Before && more) || (!q.Before && q.Cursor != "")
		if hasNext {
			page.NextCursor = encodeCursor(sortVals[last], items[last].ID)
		}
		if hasPrev {
			page.PrevCursor = encodeCursor(sortVals[first], items[first].ID)
		}
	}
	if err := s.hydrate(ctx, items); err != nil {
		return nil, err
	}
	for _, c := range items {
		page.Items = append(page.Items, *c)
	}
	return page, nil
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
