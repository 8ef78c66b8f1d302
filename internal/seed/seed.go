// Package seed fills an empty store with realistic, deterministic demo data:
// users, catalogs (products, custom fields, tags, segments, companies) and any
// number of customers with their contacts, suppressions, messages, deals,
// notes, tasks, scores, custom values and activity.
//
// It is the data every benchmark runs on, so it is built for speed: rows are
// generated per batch in one goroutine and bulk-written in another (SQLite:
// large transactions of prepared multi-row INSERTs on the writer connection;
// PostgreSQL: COPY), with ids assigned by the seed itself.
package seed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/store/sqlstore"
)

// DemoPassword is every demo user's password.
const DemoPassword = "demo-password"

// DemoAdminEmail is the demo administrator's e-mail.
const DemoAdminEmail = "admin@example.com"

// Options configure a seed run.
type Options struct {
	Customers    int                                // number of customers to create
	Seed         int64                              // deterministic: same Seed+Customers (and Now) => same data
	Now          time.Time                          // "today"; creation dates spread over the 2 years before it (zero: time.Now())
	HashPassword func(plain string) (string, error) // used for the demo users' password
	Progress     io.Writer                          // may be nil; receives short progress lines
}

// Stats counts the rows a run created (Suppressed: addresses left suppressed)
// and how long it took.
type Stats struct {
	Users, Companies, Tags, Segments, Products, CustomFields, Customers, Contacts, Suppressed, Messages, Deals, Notes, Tasks, Activity int
	Elapsed                                                                                                                            time.Duration
}

// chunkSize is how many customers are generated per batch (PostgreSQL: one
// transaction; SQLite groups txCustomers of them per transaction).
const chunkSize = 10_000

// Run seeds db with o.Customers customers and everything around them. It
// refuses a database that already has customers. Demo users are created only
// when their e-mails are not taken; catalog entries (products, custom fields,
// tags, segments) are reused when they exist by key or name.
func Run(ctx context.Context, db *store.DB, o Options) (Stats, error) {
	began := time.Now()
	var st Stats
	if o.Customers < 0 {
		return st, errors.New("seed: the number of customers cannot be negative")
	}
	if o.HashPassword == nil {
		return st, errors.New("seed: HashPassword is required")
	}
	var exists bool
	if err := db.SQL.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM customers)`).Scan(&exists); err != nil {
		return st, fmt.Errorf("seed: %w", err)
	}
	if exists {
		return st, errors.New("seed: the database already has customers; seed only an empty database")
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC().Truncate(time.Microsecond)
	catalogTime := now.AddDate(-2, 0, -7)

	users, err := ensureUsers(ctx, db, o.HashPassword, catalogTime, &st)
	if err != nil {
		return st, err
	}
	cat, err := ensureCatalog(ctx, db, catalogTime, &st)
	if err != nil {
		return st, err
	}
	next, err := nextIDs(ctx, db)
	if err != nil {
		return st, err
	}
	taken, err := companyNames(ctx, db)
	if err != nil {
		return st, err
	}

	g := newGenerator(o.Seed, o.Customers, now, next)
	g.setUsers(users)
	g.setTags(cat.tags)
	g.setSegments(cat.segments)
	g.products, g.prodNames, g.fields = cat.products, cat.prodNames, cat.fields
	nCompanies := 0
	if o.Customers > 0 {
		nCompanies = min(max(o.Customers/20, 1), 50_000)
	}
	companies := g.makeCompanies(nCompanies, taken)

	var ld loader
	if db.Pool != nil {
		ld = &pgLoader{pool: db.Pool}
	} else {
		ld = &sqliteLoader{db: db.SQL}
	}

	// the generator runs ahead of the writer by at most a few chunks
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan *chunk, 2)
	free := make(chan *chunk, 4)
	for range cap(free) {
		free <- &chunk{}
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(chunks)
		for done := 0; done < o.Customers; {
			var c *chunk
			select {
			case c = <-free:
			case <-gctx.Done():
				return
			}
			k := min(chunkSize, o.Customers-done)
			g.fill(c, k)
			done += k
			select {
			case chunks <- c:
			case <-gctx.Done():
				return
			}
		}
	}()

	pr := progress{w: o.Progress, total: o.Customers, start: time.Now(), next: 100_000}
	err = ld.load(gctx, companies, chunks, free, pr.add)
	cancel()
	wg.Wait()
	if err != nil {
		return st, fmt.Errorf("seed: %w", err)
	}
	// the companies' counts, countries and domain keys (migration 00019) and
	// the segments' member counts (00023): the PostgreSQL loader writes with
	// triggers off, the SQLite one leaves a count delta per membership
	for _, q := range sqlstore.RecountSQL {
		if _, err := db.SQL.ExecContext(ctx, q); err != nil {
			return st, fmt.Errorf("seed: counting the companies' customers and the segments' members: %w", err)
		}
	}
	// the companies' match keys (migration 00020), which the company
	// duplicates would otherwise compute all at once on their first visit
	if err := db.RefreshCompanyKeys(ctx); err != nil {
		return st, fmt.Errorf("seed: computing the companies' match keys: %w", err)
	}
	gs := g.stats
	st.Companies = gs.Companies
	st.Customers, st.Contacts, st.Suppressed, st.Messages = gs.Customers, gs.Contacts, gs.Suppressed, gs.Messages
	st.Deals, st.Notes, st.Tasks, st.Activity = gs.Deals, gs.Notes, gs.Tasks, gs.Activity
	st.Elapsed = time.Since(began)
	pr.finish(st)
	return st, nil
}

// loader writes companies and then every chunk it receives, handing chunks
// back on free once written, and reports written customers to done.
type loader interface {
	load(ctx context.Context, companies []companyRow, chunks <-chan *chunk, free chan<- *chunk, done func(n int)) error
}

type progress struct {
	mu    sync.Mutex
	w     io.Writer
	total int
	n     int
	next  int
	start time.Time
}

func (p *progress) add(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n += n
	if p.w == nil || p.n < p.next {
		return
	}
	for p.next <= p.n {
		p.next += 100_000
	}
	rate := float64(p.n) / time.Since(p.start).Seconds()
	fmt.Fprintf(p.w, "seeded %s / %s customers (%s/s)\n", group(p.n), group(p.total), group(int(rate)))
}

func (p *progress) finish(st Stats) {
	if p.w == nil {
		return
	}
	fmt.Fprintf(p.w, "seeded %s customers, %s contacts, %s companies, %s activity entries in %s\n",
		group(st.Customers), group(st.Contacts), group(st.Companies), group(st.Activity), st.Elapsed.Round(100*time.Millisecond))
}

// group writes n with thousands separators: 1,000,000.
func group(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// ensureUsers creates the demo users whose e-mails are free and returns all
// of them (existing ones as they are).
func ensureUsers(ctx context.Context, db *store.DB, hash func(string) (string, error), at time.Time, st *Stats) ([]userInfo, error) {
	var out []userInfo
	var pw string // one hash for all: bcrypt is slow on purpose
	for i, du := range demoUsers {
		u, err := db.GetUserByEmail(ctx, du.email)
		if err != nil && !errors.Is(err, crm.ErrNotFound) {
			return nil, fmt.Errorf("seed: %w", err)
		}
		if err != nil {
			if pw == "" {
				if pw, err = hash(DemoPassword); err != nil {
					return nil, fmt.Errorf("seed: hashing the demo password: %w", err)
				}
			}
			u = &crm.User{Email: du.email, Name: du.name, Role: crm.Role(du.role), Active: du.active, PasswordHash: pw,
				CreatedAt: at.Add(time.Duration(i) * 24 * time.Hour)}
			if err := db.CreateUser(ctx, u); err != nil {
				return nil, fmt.Errorf("seed: creating user %s: %w", du.email, err)
			}
			st.Users++
		}
		out = append(out, userInfo{id: u.ID, nameKey: crm.NameKey(u.Name), admin: u.Role == crm.RoleAdmin, active: u.Active})
	}
	return out, nil
}

type catalog struct {
	tags, segments, products []int64
	prodNames                []string
	fields                   []fieldInfo
}

func ensureCatalog(ctx context.Context, db *store.DB, at time.Time, st *Stats) (*catalog, error) {
	var cat catalog
	wrap := func(err error) error { return fmt.Errorf("seed: %w", err) }

	prods, err := db.ListProducts(ctx)
	if err != nil {
		return nil, wrap(err)
	}
	for i, pd := range productDefs {
		var p *crm.Product
		for k := range prods {
			if prods[k].Key == pd.key {
				p = &prods[k]
			}
		}
		if p == nil {
			p = &crm.Product{Key: pd.key, Name: pd.name, Position: i}
			if err := db.CreateProduct(ctx, p); err != nil {
				return nil, wrap(err)
			}
			st.Products++
		}
		cat.products = append(cat.products, p.ID)
		cat.prodNames = append(cat.prodNames, p.Name)
	}

	fields, err := db.ListCustomFields(ctx, true)
	if err != nil {
		return nil, wrap(err)
	}
	for i, fd := range fieldDefs {
		var f *crm.CustomField
		for k := range fields {
			if fields[k].Key == fd.key {
				f = &fields[k]
			}
		}
		if f == nil {
			f = &crm.CustomField{Key: fd.key, Label: fd.label, Type: crm.FieldType(fd.typ), Options: fd.options, Position: i, CreatedAt: at}
			if err := db.CreateCustomField(ctx, f); err != nil {
				return nil, wrap(err)
			}
			st.CustomFields++
		}
		if f.RetiredAt == nil {
			cat.fields = append(cat.fields, fieldInfo{id: f.ID, typ: string(f.Type), options: f.Options})
		}
	}

	before, err := db.ListTags(ctx)
	if err != nil {
		return nil, wrap(err)
	}
	tags, err := db.EnsureTags(ctx, tagNames, at)
	if err != nil {
		return nil, wrap(err)
	}
	for _, t := range tags {
		cat.tags = append(cat.tags, t.ID)
	}
	after, err := db.ListTags(ctx)
	if err != nil {
		return nil, wrap(err)
	}
	st.Tags = len(after) - len(before)

	segs, err := db.ListSegments(ctx)
	if err != nil {
		return nil, wrap(err)
	}
	for _, name := range segmentNames {
		var s *crm.Segment
		for k := range segs {
			if strings.EqualFold(segs[k].Name, name) {
				s = &segs[k]
			}
		}
		if s == nil {
			s = &crm.Segment{Name: name, CreatedAt: at}
			if err := db.CreateSegment(ctx, s); err != nil {
				return nil, wrap(err)
			}
			st.Segments++
		}
		cat.segments = append(cat.segments, s.ID)
	}
	return &cat, nil
}

// nextIDs reads the next free id of every table the seed assigns ids in.
func nextIDs(ctx context.Context, db *store.DB) (ids, error) {
	var n ids
	for _, t := range []struct {
		table string
		p     *int64
	}{
		{"companies", &n.company}, {"customers", &n.customer}, {"contacts", &n.contact},
		{"suppression_events", &n.supEvent}, {"messages", &n.message}, {"deals", &n.deal},
		{"notes", &n.note}, {"tasks", &n.task}, {"activity", &n.activity},
	} {
		if err := db.SQL.QueryRowContext(ctx, `SELECT COALESCE(max(id), 0) + 1 FROM `+t.table).Scan(t.p); err != nil {
			return n, fmt.Errorf("seed: %w", err)
		}
	}
	return n, nil
}

func companyNames(ctx context.Context, db *store.DB) (map[string]bool, error) {
	rows, err := db.SQL.QueryContext(ctx, `SELECT lower(name) FROM companies`)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	defer rows.Close()
	taken := map[string]bool{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("seed: %w", err)
		}
		taken[s] = true
	}
	return taken, rows.Err()
}
