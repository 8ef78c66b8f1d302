package seed

import (
	"context"
	"fmt"
	"github.com/acme/crm/internal/crm"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgLoader COPYs each chunk in one transaction. Chunks only refer to their own
// customers and to rows written before them (users, catalogs, companies), so
// several are written at once on separate connections.
type pgLoader struct {
	pool *pgxpool.Pool
	// noTriggers: the role may set session_replication_role (superusers, or
	// GRANT SET ON PARAMETER), so chunks are written without firing the
	// foreign key triggers, which otherwise take half of the time. The
	// generator's rows are consistent by construction (and the tests check).
	noTriggers bool
}

const pgWriters = 2

// seqTables are the tables whose ids the seed assigns; their identity
// sequences are moved past the seeded ids afterwards.
var seqTables = []string{"companies", "customers", "contacts", "suppression_events", "messages", "deals", "notes", "tasks", "activity"}

func (l *pgLoader) load(ctx context.Context, companies []companyRow, chunks <-chan *chunk, free chan<- *chunk, done func(int)) error {
	l.noTriggers = pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`)
		return err
	}) == nil
	if err := l.copyCompanies(ctx, companies); err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make(chan error, pgWriters)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for range pgWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				var ch *chunk
				var ok bool
				select {
				case ch, ok = <-chunks:
					if !ok {
						return
					}
				case <-ctx.Done():
					return
				}
				if err := l.chunk(ctx, ch); err != nil {
					errs <- err
					cancel()
					return
				}
				n := len(ch.customers)
				free <- ch
				done(n)
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, t := range seqTables {
		if _, err := l.pool.Exec(ctx, fmt.Sprintf(
			`SELECT setval(pg_get_serial_sequence('%[1]s', 'id'), max(id)) FROM %[1]s HAVING max(id) IS NOT NULL`, t)); err != nil {
			return fmt.Errorf("moving the id sequence of %s: %w", t, err)
		}
	}
	// fresh statistics, so that the first queries are planned for the real sizes
	_, err := l.pool.Exec(ctx, `ANALYZE`)
	return err
}

func (l *pgLoader) copyCompanies(ctx context.Context, rows []companyRow) error {
	buf := make([]any, 6)
	_, err := l.pool.CopyFrom(ctx, pgx.Identifier{"companies"}, []string{"id", "name", "name_key", "domain", "created_at", "updated_at"},
		pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			r := &rows[i]
			buf[0], buf[1], buf[2], buf[3], buf[4], buf[5] = r.id, r.name, crm.NameKey(r.name), r.domain, r.created, r.created
			return buf, nil
		}))
	if err != nil {
		return fmt.Errorf("copy companies: %w", err)
	}
	return nil
}

func nullID(x int64) any {
	if x == 0 {
		return nil
	}
	return x
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

type copyJob struct {
	table string
	cols  []string
	n     int
	row   func(i int, b []any)
}

func (l *pgLoader) chunk(ctx context.Context, c *chunk) error {
	jobs := []copyJob{
		{"customers", []string{"id", "full_name", "first_name", "last_name", "name_key", "company_id", "owner_id", "language", "country",
			"timezone", "primary_email", "primary_phone", "has_inbound", "created_at", "updated_at", "archived_at", "search_text", "company_key", "owner_key"}, len(c.customers),
			func(i int, b []any) {
				r := &c.customers[i]
				b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7] = r.id, r.fullName, r.first, r.last, r.key, nullID(r.companyID), nullID(r.ownerID), r.language
				b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15] = r.country, r.tz, r.email, r.phone, r.hasInbound, r.created, r.updated, nullTime(r.archived)
				b[16], b[17], b[18] = r.search, r.companyKey, r.ownerKey
			}},
		{"contacts", []string{"id", "customer_id", "channel", "value", "is_primary", "created_at"}, len(c.contacts),
			func(i int, b []any) {
				r := &c.contacts[i]
				b[0], b[1], b[2], b[3], b[4], b[5] = r.id, r.customerID, r.channel, r.value, r.primary, r.created
			}},
		{"suppressions", []string{"channel", "value", "reason", "note", "user_id", "at"}, len(c.supps),
			func(i int, b []any) {
				r := &c.supps[i]
				b[0], b[1], b[2], b[3], b[4], b[5] = r.channel, r.value, r.reason, r.note, nullID(r.userID), r.at
			}},
		{"suppression_events", []string{"id", "channel", "value", "contact_id", "action", "reason", "note", "user_id", "at"}, len(c.supEvents),
			func(i int, b []any) {
				r := &c.supEvents[i]
				b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8] = r.id, r.channel, r.value, r.contactID, r.action, r.reason, r.note, nullID(r.userID), r.at
			}},
		{"customer_tags", []string{"customer_id", "tag_id", "added_at"}, len(c.tags),
			func(i int, b []any) { r := &c.tags[i]; b[0], b[1], b[2] = r.a, r.b, r.at }},
		{"segment_members", []string{"segment_id", "customer_id", "added_at"}, len(c.members),
			func(i int, b []any) { r := &c.members[i]; b[0], b[1], b[2] = r.a, r.b, r.at }},
		{"customer_scores", []string{"customer_id", "product_id", "score"}, len(c.scores),
			func(i int, b []any) { r := &c.scores[i]; b[0], b[1], b[2] = r.customerID, r.productID, r.score }},
		{"custom_values", []string{"customer_id", "field_id", "value"}, len(c.values),
			func(i int, b []any) { r := &c.values[i]; b[0], b[1], b[2] = r.customerID, r.fieldID, r.value }},
		{"messages", []string{"id", "customer_id", "contact_id", "direction", "channel", "address", "subject", "body", "automated",
			"status", "user_id", "at"}, len(c.messages),
			func(i int, b []any) {
				r := &c.messages[i]
				b[0], b[1], b[2], b[3], b[4], b[5] = r.id, r.customerID, nullID(r.contactID), r.direction, r.channel, r.address
				b[6], b[7], b[8], b[9], b[10], b[11] = r.subject, r.body, r.automated, r.status, nullID(r.userID), r.at
			}},
		{"deals", []string{"id", "customer_id", "title", "amount", "currency", "stage", "author_id", "created_at", "updated_at"}, len(c.deals),
			func(i int, b []any) {
				r := &c.deals[i]
				b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8] = r.id, r.customerID, r.title, r.amount, r.currency, r.stage, nullID(r.authorID), r.created, r.updated
			}},
		{"notes", []string{"id", "customer_id", "body", "author_id", "created_at", "updated_at"}, len(c.notes),
			func(i int, b []any) {
				r := &c.notes[i]
				b[0], b[1], b[2], b[3], b[4], b[5] = r.id, r.customerID, r.body, nullID(r.authorID), r.created, r.updated
			}},
		{"tasks", []string{"id", "customer_id", "title", "due", "done_at", "author_id", "created_at", "updated_at"}, len(c.tasks),
			func(i int, b []any) {
				r := &c.tasks[i]
				b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7] = r.id, r.customerID, r.title, nullTime(r.due), nullTime(r.done), nullID(r.authorID), r.created, r.updated
			}},
		{"activity", []string{"id", "customer_id", "user_id", "kind", "data", "at"}, len(c.activity),
			func(i int, b []any) {
				r := &c.activity[i]
				b[0], b[1], b[2], b[3], b[4], b[5] = r.id, r.customerID, nullID(r.userID), r.kind, r.data, r.at
			}},
	}
	return pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		// losing the last commits in a crash is harmless here: nobody uses the data yet
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return err
		}
		if l.noTriggers {
			if _, err := tx.Exec(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
				return err
			}
		}
		for _, j := range jobs {
			if j.n == 0 {
				continue
			}
			buf := make([]any, len(j.cols))
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{j.table}, j.cols, pgx.CopyFromSlice(j.n, func(i int) ([]any, error) {
				j.row(i, buf)
				return buf, nil
			})); err != nil {
				return fmt.Errorf("copy %s: %w", j.table, err)
			}
		}
		return nil
	})
}
