package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/acme/crm/internal/crm"
)

// exportLoaders is how many chunks of an export are read at once, each on a
// connection of its own.
const exportLoaders = 2

// ExportCustomers streams the customers matching f in id order, chunk at a
// time, each whole: contacts, tags, segments, scores and custom values.
//
// One goroutine pages through the matching ids; exportLoaders goroutines
// read whole chunks, each on a connection held for the whole export (with a
// small page cache on SQLite: an export reads every page once, and a pooled
// reader's large cache would only grow the process); fn sees the chunks in
// order. Inside a transaction it all happens on the transaction, in turn.
func (s *Store) ExportCustomers(ctx context.Context, f crm.CustomerFilter, chunk int, fn func([]crm.Customer) error) error {
	if s.tx != nil {
		names, err := s.exportNames(ctx)
		if err != nil {
			return err
		}
		var after int64
		for {
			ids, err := s.CustomerIDs(ctx, f, after, chunk)
			if err != nil || len(ids) == 0 {
				return err
			}
			cs, err := s.exportChunk(ctx, ids, names)
			if err != nil {
				return err
			}
			if err := fn(cs); err != nil {
				return err
			}
			after = ids[len(ids)-1]
		}
	}
	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	pins := make([]*Store, exportLoaders+1)
	for i := range pins {
		p, release, err := s.pin(ctx)
		if err != nil {
			return err
		}
		defer release()
		pins[i] = p
	}
	names, err := pins[0].exportNames(ctx)
	if err != nil {
		return err
	}
	type job struct {
		seq int
		ids []int64
	}
	type result struct {
		seq int
		cs  []crm.Customer
	}
	jobs := make(chan job)
	results := make(chan result, exportLoaders)
	// at most this many chunks are read and not yet handed to fn, however
	// far one loader runs ahead of the other
	inflight := make(chan struct{}, exportLoaders+1)
	var paging sync.WaitGroup
	paging.Go(func() { // the ids, a chunk at a time
		defer close(jobs)
		var after int64
		for seq := 0; ; seq++ {
			select {
			case inflight <- struct{}{}:
			case <-ctx.Done():
				return
			}
			ids, err := pins[0].CustomerIDs(ctx, f, after, chunk)
			if err != nil {
				cancel(err)
				return
			}
			if len(ids) == 0 {
				return
			}
			select {
			case jobs <- job{seq, ids}:
			case <-ctx.Done():
				return
			}
			after = ids[len(ids)-1]
		}
	})
	var loaders sync.WaitGroup
	for _, p := range pins[1:] {
		loaders.Go(func() {
			for j := range jobs {
				cs, err := p.exportChunk(ctx, j.ids, names)
				if err != nil {
					cancel(err)
					return
				}
				select {
				case results <- result{j.seq, cs}:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() {
		loaders.Wait()
		close(results)
	}()
	// hand the chunks to fn in order
	waiting := map[int][]crm.Customer{}
	next := 0
	for r := range results {
		waiting[r.seq] = r.cs
		for cs, ok := waiting[next]; ok; cs, ok = waiting[next] {
			delete(waiting, next)
			next++
			if err := fn(cs); err != nil {
				cancel(err)
				break
			}
			<-inflight
		}
		if ctx.Err() != nil {
			break
		}
	}
	cancel(nil)
	for range results { // let the loaders see the end
	}
	paging.Wait() // every goroutine is done with its connection
	if err := parent.Err(); err != nil {
		return err
	}
	if err := context.Cause(ctx); err != context.Canceled {
		return err // a loader's, the ids', or fn's
	}
	return nil
}

// pin returns a store that reads on one connection of the readers, set up
// for a long sequential read, and the function that gives it back.
func (s *Store) pin(ctx context.Context) (*Store, func(), error) {
	var conn *sql.Conn
	var err error
	if s.rr != nil {
		conn, err = s.rr.Conn(ctx, s.r) // a replica's, when the request may read one
	} else {
		conn, err = s.r.Conn(ctx)
	}
	if err != nil {
		return nil, nil, err
	}
	restore, err := s.d.LongRead(ctx, conn)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return &Store{d: s.d, w: s.w, r: s.r, conn: conn, stmts: s.stmts, rr: s.rr, drive: s.drive}, func() {
		restore()
		conn.Close()
	}, nil
}

// exportNames are the names an export writes for ids: small tables, read once.
type exportNames struct {
	users    map[int64]string // e-mail
	tags     map[int64][2]string
	products map[int64]string
	fields   map[int64]string
}

func (s *Store) exportNames(ctx context.Context) (*exportNames, error) {
	n := &exportNames{users: map[int64]string{}, tags: map[int64][2]string{}, products: map[int64]string{}, fields: map[int64]string{}}
	for _, l := range []struct {
		query string
		put   func(id int64, a, b string)
	}{
		{`SELECT id, email, '' FROM users`, func(id int64, a, _ string) { n.users[id] = a }},
		{`SELECT id, name, name_key FROM tags`, func(id int64, a, b string) { n.tags[id] = [2]string{a, b} }},
		{`SELECT id, key, '' FROM products`, func(id int64, a, _ string) { n.products[id] = a }},
		{`SELECT id, key, '' FROM custom_fields`, func(id int64, a, _ string) { n.fields[id] = a }},
	} {
		rows, err := s.rq().QueryContext(ctx, l.query)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			var a, b string
			if err := rows.Scan(&id, &a, &b); err != nil {
				rows.Close()
				return nil, err
			}
			l.put(id, a, b)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return n, nil
}

// idRange is the SQL condition that selects rows of col for a sorted list of
// customer ids. A dense list (most ids of its range: an export of everyone,
// or of a broad filter) becomes a range scan, whose extra rows the caller
// passes over; a sparse one becomes an IN list, as idsIn writes it.
func (s *Store) idRange(col string, ids []int64) (string, []any) {
	lo, hi := ids[0], ids[len(ids)-1]
	if int64(len(ids))*2 >= hi-lo+1 {
		return col + " BETWEEN $1 AND $2", []any{lo, hi}
	}
	in, args := s.idsIn(ids)
	return col + " IN " + in, args
}

// textSQL writes a text as "<bytes>:<text>", so that any text (separators,
// newlines, anything a spreadsheet held) reads back whole: a customer's
// values, and the rows hanging off it, are read as one column each, as the
// SQLite driver costs more per column it hands over than the engine does
// per value it joins. Numbers and names from fixed lists are written as
// they are, each followed by a separator.
func textSQL(expr string) string {
	return "octet_length(" + expr + ") || ':' || " + expr
}

// fieldReader reads values written by textSQL and separated numbers and names.
type fieldReader struct {
	s   string
	err error
}

func (r *fieldReader) fail() string {
	if r.err == nil {
		r.err = fmt.Errorf("export: malformed aggregate at %.40q", r.s)
	}
	r.s = ""
	return ""
}

// text reads one textSQL value.
func (r *fieldReader) text() string {
	colon := strings.IndexByte(r.s, ':')
	if colon < 0 {
		return r.fail()
	}
	size, err := strconv.Atoi(r.s[:colon])
	if err != nil || size < 0 || colon+1+size > len(r.s) {
		return r.fail()
	}
	v := r.s[colon+1 : colon+1+size]
	r.s = r.s[colon+1+size:]
	return v
}

// until reads up to the separator (and drops it).
func (r *fieldReader) until(sep byte) string {
	i := strings.IndexByte(r.s, sep)
	if i < 0 {
		return r.fail()
	}
	v := r.s[:i]
	r.s = r.s[i+1:]
	return v
}

func (r *fieldReader) int(sep byte) int64 {
	v := r.until(sep)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("export: %q is not a number", v)
	}
	return n
}

// time reads a Dialect.TimeText up to the separator, "" for none.
func (r *fieldReader) time(sep byte) *time.Time {
	v := r.until(sep)
	if v == "" {
		return nil
	}
	t, err := parseTimeText(v)
	if err != nil && r.err == nil {
		r.err = err
	}
	return &t
}

// parseTimeText reads what Dialect.TimeText gives: seconds since 1970,
// RFC 3339, or SQLite's stored "2006-01-02 15:04:05.999999-07:00". SQLite's
// usual case, UTC, is read field by field, as an export reads three times a
// customer.
func parseTimeText(v string) (time.Time, error) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	if len(v) >= 20 && v[4] == '-' && v[7] == '-' && (v[10] == ' ' || v[10] == 'T') && v[13] == ':' && v[16] == ':' &&
		(strings.HasSuffix(v, "+00:00") || strings.HasSuffix(v, "Z")) {
		n := func(i, j int) int {
			x := 0
			for _, c := range v[i:j] {
				x = x*10 + int(c-'0')
			}
			return x
		}
		ok := true
		for _, i := range []int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18} {
			ok = ok && v[i] >= '0' && v[i] <= '9'
		}
		if ok {
			return time.Date(n(0, 4), time.Month(n(5, 7)), n(8, 10), n(11, 13), n(14, 16), n(17, 19), 0, time.UTC), nil
		}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC().Truncate(time.Second), nil
		}
	}
	return time.Time{}, fmt.Errorf("export: %q is not a time", v)
}

// exportChunk loads whole customers for ids in ascending order: one query
// per table, each reading the table in customer order.
func (s *Store) exportChunk(ctx context.Context, ids []int64, names *exportNames) ([]crm.Customer, error) {
	out := make([]crm.Customer, 0, len(ids))
	index := make(map[int64]int, len(ids))
	for _, id := range ids {
		index[id] = -1
	}
	cond, args := s.idRange("c.id", ids)
	companies := map[int64][]int{} // company id -> customers
	err := s.eachRow(ctx, `SELECT c.id, c.company_id, c.owner_id, `+
		textSQL("c.full_name")+" || "+textSQL("c.first_name")+" || "+textSQL("c.last_name")+" || "+
		"c.language || ',' || c.country || ',' || c.timezone || ',' || "+
		s.d.TimeText("c.created_at")+" || ',' || "+s.d.TimeText("c.updated_at")+" || ',' || "+
		"coalesce("+s.d.TimeText("c.archived_at")+", '') || ',' || CASE WHEN c.has_inbound THEN 't' ELSE 'f' END"+
		` FROM customers c WHERE `+cond+` ORDER BY c.id`, args, func(rows *sql.Rows) error {
		var id int64
		var company, owner sql.NullInt64
		var blob string
		if err := rows.Scan(&id, &company, &owner, &blob); err != nil {
			return err
		}
		if _, ok := index[id]; !ok {
			return nil
		}
		c := crm.Customer{ID: id}
		r := fieldReader{s: blob}
		// names as written; codes and times (never a comma) comma-separated
		c.FullName, c.FirstName, c.LastName = r.text(), r.text(), r.text()
		c.Language, c.Country, c.Timezone = r.until(','), r.until(','), r.until(',')
		if t := r.time(','); t != nil {
			c.CreatedAt = *t
		}
		if t := r.time(','); t != nil {
			c.UpdatedAt = *t
		}
		c.ArchivedAt = r.time(',')
		c.HasInbound = r.s == "t"
		if r.err != nil {
			return fmt.Errorf("customer %d: %w", id, r.err)
		}
		if owner.Valid {
			c.Owner = &crm.UserRef{ID: owner.Int64, Email: names.users[owner.Int64]}
		}
		if company.Valid {
			companies[company.Int64] = append(companies[company.Int64], len(out))
		}
		index[id] = len(out)
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(companies) > 0 {
		in := make([]int64, 0, len(companies))
		for id := range companies {
			in = append(in, id)
		}
		slices.Sort(in)
		cond, args := s.idRange("co.id", in)
		err := s.eachRow(ctx, `SELECT co.id, co.name FROM companies co WHERE `+cond, args, func(rows *sql.Rows) error {
			var id int64
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				return err
			}
			for _, i := range companies[id] {
				out[i].Company = &crm.CompanyRef{ID: id, Name: name}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}

	// each child table (x, with what it joins): one aggregated text per customer
	load := func(from, item string, read func(c *crm.Customer, r *fieldReader)) error {
		cond, args := s.idRange("x.customer_id", ids)
		return s.eachRow(ctx, `SELECT x.customer_id, string_agg(`+item+`, '') FROM `+from+` WHERE `+cond+` GROUP BY x.customer_id`, args,
			func(rows *sql.Rows) error {
				var id int64
				var agg string
				if err := rows.Scan(&id, &agg); err != nil {
					return err
				}
				i, ok := index[id]
				if !ok || i < 0 {
					return nil
				}
				r := fieldReader{s: agg}
				for r.s != "" && r.err == nil {
					read(&out[i], &r)
				}
				if r.err != nil {
					return fmt.Errorf("customer %d: %w", id, r.err)
				}
				return nil
			})
	}
	err = cmp.Or(
		// a contact shows its address's suppression (the suppressions table's key)
		load("contacts x LEFT JOIN suppressions sp ON sp.channel = x.channel AND sp.value = x.value",
			`CASE WHEN x.removed_at IS NULL THEN x.id || ',' || x.channel || ',' || CASE WHEN x.is_primary THEN 't' ELSE 'f' END || ','
			|| coalesce(sp.reason, '') || ',' || `+textSQL("x.value")+` ELSE '' END`,
			func(c *crm.Customer, r *fieldReader) {
				k := crm.Contact{ID: r.int(','), CustomerID: c.ID, Channel: crm.Channel(r.until(',')), Primary: r.until(',') == "t"}
				if reason := r.until(','); reason != "" {
					k.Suppression = &crm.Suppression{Reason: crm.Reason(reason)}
				}
				k.Value = r.text()
				c.Contacts = append(c.Contacts, k)
			}),
		load("customer_tags x", `x.tag_id || ','`, func(c *crm.Customer, r *fieldReader) {
			c.Tags = append(c.Tags, names.tags[r.int(',')][0])
		}),
		load("segment_members x", `x.segment_id || ','`, func(c *crm.Customer, r *fieldReader) {
			c.Segments = append(c.Segments, r.int(','))
		}),
		load("customer_scores x", `x.product_id || ':' || x.score || ','`, func(c *crm.Customer, r *fieldReader) {
			if c.Scores == nil {
				c.Scores = map[string]int{}
			}
			key := names.products[r.int(':')]
			c.Scores[key] = int(r.int(','))
		}),
		load("custom_values x", `x.field_id || ',' || `+textSQL("x.value"), func(c *crm.Customer, r *fieldReader) {
			key := names.fields[r.int(',')]
			v, err := decodeJSONValue(r.text())
			if err != nil && r.err == nil {
				r.err = fmt.Errorf("custom value %s: %w", key, err)
			}
			if c.Custom == nil {
				c.Custom = map[string]any{}
			}
			c.Custom[key] = v
		}),
	)
	if err != nil {
		return nil, err
	}
	// the order the drawer shows: contacts by channel, primary first, then
	// as added; tags by name; segments by id
	for i := range out {
		c := &out[i]
		slices.SortFunc(c.Contacts, func(a, b crm.Contact) int {
			return cmp.Or(cmp.Compare(channelRank(a.Channel), channelRank(b.Channel)), compareBool(b.Primary, a.Primary), cmp.Compare(a.ID, b.ID))
		})
		if len(c.Tags) > 1 {
			slices.SortFunc(c.Tags, func(a, b string) int { return strings.Compare(crm.NameKey(a), crm.NameKey(b)) })
		}
		slices.Sort(c.Segments)
	}
	return out, nil
}

// eachRow runs a query and hands each row to fn.
func (s *Store) eachRow(ctx context.Context, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := s.rq().QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// channelRank is a channel's place in crm.Channels (the display order).
func channelRank(ch crm.Channel) int {
	if i := slices.Index(crm.Channels, ch); i >= 0 {
		return i
	}
	return len(crm.Channels)
}

// decodeJSONValue decodes a stored custom value, the common shapes (a plain
// string, a number, true, false) without the reflection of encoding/json.
func decodeJSONValue(raw string) (any, error) {
	switch {
	case len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' && !strings.ContainsAny(raw[1:len(raw)-1], `"\`):
		return raw[1 : len(raw)-1], nil
	case raw == "true":
		return true, nil
	case raw == "false":
		return false, nil
	case raw == "null":
		return nil, nil
	}
	if f, err := strconv.ParseFloat(raw, 64); err == nil {
		return f, nil
	}
	var v any
	err := json.Unmarshal([]byte(raw), &v)
	return v, err
}
