package seed

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"github.com/acme/crm/internal/crm"
	"io"
	"strings"
	"time"
)

// sqliteLoader writes on the single writer connection: one transaction per
// chunk, fixed-size multi-row INSERTs prepared once, driven through the
// driver directly (database/sql would copy and check each of the millions of
// arguments once more).
//
// Two details matter a lot for speed:
//   - the id column is left out and SQLite appends rows with max(id)+1, which
//     is the id the generator gave them (checked after every chunk). A
//     multi-row INSERT with an explicit INTEGER PRIMARY KEY may fail half-way
//     (type mismatch), so SQLite would keep a statement journal of every page
//     it touches;
//   - INSERT OR ROLLBACK: a constraint failure ends the whole transaction
//     (which is what the seed does anyway), so no statement journal either.
type sqliteLoader struct {
	db *sql.DB
}

// txCustomers is how many customers go into one transaction: every commit
// writes the pages it changed to the WAL (and a checkpoint copies them to
// the database), and the randomly ordered indexes change pages all over, so
// fewer, larger transactions write much less (1M customers: 60 s with 50k
// per transaction, 56 s with 200k).
const txCustomers = 200_000

// maxParams bounds the parameters of one statement (SQLite allows 32766).
const maxParams = 4000

type rawConn interface {
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
}

type sqlTable struct {
	name, cols string
	ncol, per  int
	hasID      bool // rowid table whose ids the generator assigns
	full       driver.Stmt
	args       []driver.NamedValue
	rows       int
	lastID     int64 // id of the last row added
}

func newTable(name, cols string, hasID bool) *sqlTable {
	n := strings.Count(cols, ",") + 1
	return &sqlTable{name: name, cols: cols, ncol: n, per: max(1, min(500, maxParams/n)), hasID: hasID}
}

func (t *sqlTable) query(rows int) string {
	var b strings.Builder
	b.WriteString("INSERT OR ROLLBACK INTO " + t.name + " (" + t.cols + ") VALUES ")
	row := "(" + strings.TrimSuffix(strings.Repeat("?,", t.ncol), ",") + ")"
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	return b.String()
}

func (t *sqlTable) v(x driver.Value) {
	t.args = append(t.args, driver.NamedValue{Ordinal: len(t.args) + 1, Value: x})
}

// id adds a reference to another row; 0 is NULL.
func (t *sqlTable) id(x int64) {
	if x == 0 {
		t.v(nil)
	} else {
		t.v(x)
	}
}

func (t *sqlTable) str(s string) {
	if s == "" {
		t.v(nil)
	} else {
		t.v(s)
	}
}

func (t *sqlTable) tm(x time.Time) {
	if x.IsZero() {
		t.v(nil)
	} else {
		t.v(x)
	}
}

// end closes a row (with the id the database will give it) and runs the full
// statement when it has all its rows.
func (t *sqlTable) end(ctx context.Context, id int64) error {
	t.rows++
	t.lastID = id
	if t.rows < t.per {
		return nil
	}
	_, err := t.full.(driver.StmtExecContext).ExecContext(ctx, t.args)
	t.args, t.rows = t.args[:0], 0
	if err != nil {
		return fmt.Errorf("insert into %s: %w", t.name, err)
	}
	return nil
}

// flush writes the rows left over with a statement of their own size.
func (t *sqlTable) flush(ctx context.Context, c rawConn) error {
	if t.rows == 0 {
		return nil
	}
	st, err := c.PrepareContext(ctx, t.query(t.rows))
	if err != nil {
		return fmt.Errorf("insert into %s: %w", t.name, err)
	}
	_, err = st.(driver.StmtExecContext).ExecContext(ctx, t.args)
	st.Close()
	t.args, t.rows = t.args[:0], 0
	if err != nil {
		return fmt.Errorf("insert into %s: %w", t.name, err)
	}
	return nil
}

func (l *sqliteLoader) load(ctx context.Context, companies []companyRow, chunks <-chan *chunk, free chan<- *chunk, done func(int)) (err error) {
	conn, err := l.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// While loading generated, consistent rows into a database nobody uses
	// yet: no syncing, no foreign key and CHECK evaluation (the tests verify
	// both), and a page cache big enough for the randomly ordered indexes
	// (name, e-mail, updated). Everything is restored afterwards.
	var restore []string
	defer func() {
		rctx := context.WithoutCancel(ctx)
		for _, q := range restore {
			if _, e := conn.ExecContext(rctx, q); e != nil {
				err = errors.Join(err, e)
			}
		}
		if _, e := conn.ExecContext(rctx, `PRAGMA wal_checkpoint(TRUNCATE)`); e != nil && err == nil {
			err = e
		}
	}()
	for _, p := range []struct{ name, value string }{
		{"synchronous", "OFF"}, {"foreign_keys", "OFF"}, {"ignore_check_constraints", "ON"}, {"cache_size", "-1048576"},
	} {
		var old int64
		if err := conn.QueryRowContext(ctx, `PRAGMA `+p.name).Scan(&old); err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, `PRAGMA `+p.name+` = `+p.value); err != nil {
			return err
		}
		restore = append(restore, fmt.Sprintf(`PRAGMA %s = %d`, p.name, old))
	}
	return conn.Raw(func(dc any) error {
		c, ok := dc.(rawConn)
		if !ok {
			return fmt.Errorf("the SQLite driver connection %T lacks context methods", dc)
		}
		w := &sqliteWriter{c: c}
		defer w.close()
		if err := w.prepare(ctx); err != nil {
			return err
		}
		if err := w.begin(ctx); err != nil {
			return err
		}
		if err := w.companies(ctx, companies); err != nil {
			return w.rollback(ctx, err)
		}
		inTx, n := true, 0
		for {
			ch, ok := <-chunks
			if !ok {
				break
			}
			if !inTx {
				if err := w.begin(ctx); err != nil {
					return err
				}
				inTx = true
			}
			if err := w.chunk(ctx, ch); err != nil {
				return w.rollback(ctx, err)
			}
			k := len(ch.customers)
			free <- ch
			if n += k; n >= txCustomers {
				if err := w.commit(ctx); err != nil {
					return err
				}
				inTx, n = false, 0
			}
			done(k)
		}
		if err := ctx.Err(); err != nil {
			if inTx {
				return w.rollback(ctx, err)
			}
			return err
		}
		if inTx {
			return w.commit(ctx)
		}
		return nil
	})
}

type sqliteWriter struct {
	c                                       rawConn
	searchFrom                              int64 // first customer id of the open transaction not yet in the search index
	companiesT, customers, contacts, supps  *sqlTable
	supEvents                               *sqlTable
	tags, members, scores, values           *sqlTable
	messages, deals, notes, tasks, activity *sqlTable
	all                                     []*sqlTable
}

func (w *sqliteWriter) prepare(ctx context.Context) error {
	w.companiesT = newTable("companies", "name, name_key, domain, created_at, updated_at", true)
	w.customers = newTable("customers", "full_name, first_name, last_name, name_key, company_id, owner_id, language, country, timezone, primary_email, primary_phone, search_text, has_inbound, created_at, updated_at, archived_at, company_key, owner_key", true)
	w.contacts = newTable("contacts", "customer_id, channel, value, is_primary, created_at", true)
	w.supps = newTable("suppressions", "channel, value, reason, note, user_id, at", false)
	w.supEvents = newTable("suppression_events", "channel, value, contact_id, action, reason, note, user_id, at", true)
	w.tags = newTable("customer_tags", "customer_id, tag_id, added_at", false)
	w.members = newTable("segment_members", "segment_id, customer_id, added_at", false)
	w.scores = newTable("customer_scores", "customer_id, product_id, score", false)
	w.values = newTable("custom_values", "customer_id, field_id, value", false)
	w.messages = newTable("messages", "customer_id, contact_id, direction, channel, address, subject, body, automated, status, user_id, at", true)
	w.deals = newTable("deals", "customer_id, title, amount, currency, stage, author_id, created_at, updated_at", true)
	w.notes = newTable("notes", "customer_id, body, author_id, created_at, updated_at", true)
	w.tasks = newTable("tasks", "customer_id, title, due, done_at, author_id, created_at, updated_at", true)
	w.activity = newTable("activity", "customer_id, user_id, kind, data, at", true)
	w.all = []*sqlTable{w.companiesT, w.customers, w.contacts, w.supps, w.supEvents, w.tags, w.members, w.scores,
		w.values, w.messages, w.deals, w.notes, w.tasks, w.activity}
	for _, t := range w.all {
		st, err := w.c.PrepareContext(ctx, t.query(t.per))
		if err != nil {
			return fmt.Errorf("prepare insert into %s: %w", t.name, err)
		}
		t.full = st
		t.args = make([]driver.NamedValue, 0, t.per*t.ncol)
	}
	return nil
}

func (w *sqliteWriter) close() {
	for _, t := range w.all {
		if t.full != nil {
			t.full.Close()
		}
	}
}

func (w *sqliteWriter) begin(ctx context.Context) error {
	w.searchFrom = w.customers.lastID + 1 // (0 + 1 before the first transaction: any id)
	for _, t := range w.all {
		t.lastID = 0
	}
	_, err := w.c.ExecContext(ctx, `BEGIN IMMEDIATE`, nil)
	return err
}

// commit writes every pending row, checks that the database gave the rows
// the generator's ids and commits.
func (w *sqliteWriter) commit(ctx context.Context) error {
	for _, t := range w.all {
		if err := t.flush(ctx, w.c); err != nil {
			return w.rollback(ctx, err)
		}
	}
	if err := w.checkIDs(ctx); err != nil {
		return w.rollback(ctx, err)
	}
	if last := w.customers.lastID; last != 0 { // the batch's customers join the search index in the same transaction
		if _, err := w.c.ExecContext(ctx, `INSERT INTO customers_fts (rowid, search_text) SELECT id, search_text FROM customers WHERE id BETWEEN ? AND ?`,
			[]driver.NamedValue{{Ordinal: 1, Value: w.searchFrom}, {Ordinal: 2, Value: last}}); err != nil {
			return w.rollback(ctx, fmt.Errorf("search index: %w", err))
		}
		w.searchFrom = last + 1
	}
	if _, err := w.c.ExecContext(ctx, `COMMIT`, nil); err != nil {
		return w.rollback(ctx, err)
	}
	return nil
}

// rollback abandons the transaction (a failed INSERT OR ROLLBACK has already
// ended it) and returns err.
func (w *sqliteWriter) rollback(ctx context.Context, err error) error {
	_, _ = w.c.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`, nil)
	for _, t := range w.all {
		t.args, t.rows = t.args[:0], 0
	}
	return err
}

func (w *sqliteWriter) checkIDs(ctx context.Context) error {
	var sel []string
	var tables []*sqlTable
	for _, t := range w.all {
		if t.hasID && t.lastID != 0 {
			sel = append(sel, "(SELECT max(rowid) FROM "+t.name+")")
			tables = append(tables, t)
		}
	}
	if len(sel) == 0 {
		return nil
	}
	rows, err := w.c.QueryContext(ctx, "SELECT "+strings.Join(sel, ", "), nil)
	if err != nil {
		return err
	}
	defer rows.Close()
	dest := make([]driver.Value, len(sel))
	if err := rows.Next(dest); err != nil && err != io.EOF {
		return err
	}
	for i, t := range tables {
		if got, _ := dest[i].(int64); got != t.lastID {
			return fmt.Errorf("%s: the last row got id %v, the seed expected %d", t.name, dest[i], t.lastID)
		}
	}
	return nil
}

func (w *sqliteWriter) companies(ctx context.Context, rows []companyRow) error {
	t := w.companiesT
	for i := range rows {
		r := &rows[i]
		t.v(r.name)
		t.v(crm.NameKey(r.name))
		t.v(r.domain)
		t.v(r.created)
		t.v(r.created)
		if err := t.end(ctx, r.id); err != nil {
			return err
		}
	}
	return nil
}

func (w *sqliteWriter) chunk(ctx context.Context, c *chunk) error {
	t := w.customers
	for i := range c.customers {
		r := &c.customers[i]
		t.v(r.fullName)
		t.v(r.first)
		t.v(r.last)
		t.v(r.key)
		t.id(r.companyID)
		t.id(r.ownerID)
		t.v(r.language)
		t.v(r.country)
		t.v(r.tz)
		t.v(r.email)
		t.v(r.phone)
		t.v(r.search)
		t.v(r.hasInbound)
		t.v(r.created)
		t.v(r.updated)
		t.tm(r.archived)
		t.v(r.companyKey)
		t.v(r.ownerKey)
		if err := t.end(ctx, r.id); err != nil {
			return err
		}
	}
	t = w.contacts
	for i := range c.contacts {
		r := &c.contacts[i]
		t.v(r.customerID)
		t.v(r.channel)
		t.v(r.value)
		t.v(r.primary)
		t.v(r.created)
		if err := t.end(ctx, r.id); err != nil {
			return err
		}
	}
	t = w.supps
	for i := range c.supps {
		r := &c.supps[i]
		t.v(r.channel)
		t.v(r.value)
		t.v(r.reason)
		t.v(r.note)
		t.id(r.userID)
		t.v(r.at)
		if err := t.end(ctx, 0); err != nil {
			return err
		}
	}
	t = w.supEvents
	for i := range c.supEvents {
		r := &c.supEvents[i]
		t.v(r.channel)
		t.v(r.value)
		t.v(r.contactID)
		t.v(r.action)
		t.v(r.reason)
		t.v(r.note)
		t.id(r.userID)
		t.v(r.at)
		if err := t.end(ctx, r.id); err != nil {
			return err
		}
	}
	for _, l := range []struct {
		t    *sqlTable
		rows []linkRow
	}{{w.tags, c.tags}, {w.members, c.members}} {
		t = l.t
		for i := range l.rows {
			r := &l.rows[i]
			t.v(r.a)
			t.v(r.b)
			t.v(r.at)
			if err := t.end(ctx, 0); err != nil {
				return err
			}
		}
	}
	t = w.scores
	for i := range c.scores {
		r := &c.scores[i]
		t.v(r.customerID)
		t.v(r.productID)
		t.v(r.score)
		if err := t.end(ctx, 0); err != nil {
			return err
		}
	}
	t = w.values
	for i := range c.values {
		r := &c.values[i]
		t.v(r.customerID)
		t.v(r.fieldID)
		t.v(r.value)
		if err := t.end(ctx, 0); err != nil {
			return err
		}
	}
	t = w.messages
	for i := range c.messages {
		r := &c.messages[i]
		t.v(r.customerID)
		t.id(r.contactID)
		t.v(r.direction)
		t.v(r.channel)
		t.v(r.address)
		t.v(r.subject)
		t.v(r.body)
		t.v(r.automated)
		t.v(r.status)
		t.id(r.userID)
		t.v(r.at)
		if err := t.end(ctx, r.id); err != nil {
			return err
		}
	}
	t = w.deals
	for i := range c.deals {
		r := &c.deals[i]
		t.v(r.customerID)
		t.v(r.title)
		t.v(r.amount)
		t.v(r.currency)
		t.v(r.stage)
		t.id(r.authorID)
		t.v(r.created)
		t.v(r.updated)
		if err := t.end(ctx, r.id); err != nil {
			return err
		}
	}
	t = w.notes
	for i := range c.notes {
		r := &c.notes[i]
		t.v(r.customerID)
		t.v(r.body)
		t.id(r.authorID)
		t.v(r.created)
		t.v(r.updated)
		if err := t.end(ctx, r.id); err != nil {
			return err
		}
	}
	t = w.tasks
	for i := range c.tasks {
		r := &c.tasks[i]
		t.v(r.customerID)
		t.v(r.title)
		t.tm(r.due)
		t.tm(r.done)
		t.id(r.authorID)
		t.v(r.created)
		t.v(r.updated)
		if err := t.end(ctx, r.id); err != nil {
			return err
		}
	}
	t = w.activity
	for i := range c.activity {
		r := &c.activity[i]
		t.v(r.customerID)
		t.id(r.userID)
		t.v(r.kind)
		t.v(r.data)
		t.v(r.at)
		if err := t.end(ctx, r.id); err != nil {
			return err
		}
	}
	return nil
}
