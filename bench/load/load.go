package main

import (
	"context"
	"fmt"
	"html"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// loadTag is the tag the simulated people add and remove again.
const loadTag = "load-test"

// kinds of request, in the order the table prints them
var kinds = []string{"table", "search", "drawer", "claim", "unclaim", "tag", "untag", "note"}

// stats collects every request's time and every error, per kind.
type stats struct {
	mu      sync.Mutex
	times   map[string][]time.Duration
	errs    map[string]int
	samples map[string][]string
	trace   io.Writer // --trace: a line per request, when set
}

func newStats() *stats {
	return &stats{times: map[string][]time.Duration{}, errs: map[string]int{}, samples: map[string][]string{}}
}

func (s *stats) add(kind string, r result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.times[kind] = append(s.times[kind], r.took)
	if s.trace != nil {
		fmt.Fprintf(s.trace, "%s\t%.1f\t%d\t%s\n", kind, ms(r.took), r.status, r.path)
	}
	if r.failed() {
		s.errs[kind]++
		if len(s.samples[kind]) < 3 {
			s.samples[kind] = append(s.samples[kind], r.describe())
		}
	}
}

// person is one simulated user of the product.
type person struct {
	s        *session
	rng      *rand.Rand
	reserved int64 // the unclaimed customer this person claims and unclaims
	claimed  bool
	tagged   int64 // the customer this person tagged with loadTag (0: none)
	lastNext string
	lastRows []int64
	lastQ    url.Values
	notes    int
}

func runLoad(ctx context.Context, o options, servers []*server, stdout, stderr io.Writer) error {
	conns := o.users
	if o.mode == "saturation" {
		conns = o.clients
	}
	t := newTarget(o.urls, conns+10, o.keepAlive)
	rng := rand.New(rand.NewPCG(uint64(o.seed), 2))

	emails := o.emails
	admin, err := t.signIn(ctx, firstOr(emails, "admin@example.com"), o.password)
	if err != nil {
		return err
	}
	sessions := []*session{admin}
	if len(emails) == 0 { // every active demo user
		var users struct {
			Items []struct {
				Email  string `json:"email"`
				Active bool   `json:"active"`
			} `json:"items"`
		}
		if err := t.getJSON(ctx, admin, "/api/v1/users", &users); err != nil {
			return err
		}
		for _, u := range users.Items {
			if u.Active && u.Email != admin.email && strings.HasSuffix(u.Email, "@example.com") {
				emails = append(emails, u.Email)
			}
		}
	} else {
		emails = emails[1:]
	}
	for _, e := range emails {
		s, err := t.signIn(ctx, e, o.password)
		if err != nil {
			return err
		}
		sessions = append(sessions, s)
	}
	people := o.users
	if o.mode != "users" {
		people = o.clients
	}
	w, err := discover(ctx, t, admin, people, rng)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "signed in %d users; %d sample customers, %d search terms, %d tags, %d segments, %d months\n",
		len(sessions), len(w.customers), len(w.searches), len(w.tags), len(w.segments), len(w.months))

	ps := make([]*person, people)
	for i := range ps {
		ps[i] = &person{s: sessions[i%len(sessions)], rng: rand.New(rand.NewPCG(uint64(o.seed), uint64(i+100))), reserved: w.unclaimed[i]}
	}

	header(stdout, o)
	if o.mode == "users" || o.mode == "saturation" {
		st := newStats()
		if o.trace != "" {
			f, err := os.Create(o.trace)
			if err != nil {
				return err
			}
			defer f.Close()
			st.trace = f
		}
		load0 := loadavg()
		var profErr <-chan error
		if o.profile != "" {
			profErr = profileServers(ctx, servers, o.profile, o.duration)
		}
		start := time.Now()
		deadline := start.Add(o.duration)
		var wg sync.WaitGroup
		for _, p := range ps {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if o.mode == "users" {
					p.live(ctx, t, w, st, deadline, o.think)
				} else {
					p.saturate(ctx, t, w, st, deadline, o.mix)
				}
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		load1 := loadavg()
		// put back what the run changed: claims and the load-test tag
		for _, p := range ps {
			p.cleanUp(context.Background(), t)
		}
		report(stdout, st, elapsed, load0, load1)
		if profErr != nil {
			if err := <-profErr; err != nil {
				fmt.Fprintln(stderr, "profile:", err)
			} else {
				fmt.Fprintf(stdout, "CPU profiles: %s-N.prof (go tool pprof -top)\n", o.profile)
			}
		}
	}
	if o.sparse && ctx.Err() == nil {
		return sparse(ctx, t, w, admin, o, stdout)
	}
	return ctx.Err()
}

func firstOr(xs []string, def string) string {
	if len(xs) > 0 {
		return xs[0]
	}
	return def
}

// live is one person's session: think, then do what people do.
func (p *person) live(ctx context.Context, t *target, w *world, st *stats, deadline time.Time, think time.Duration) {
	for {
		wait := time.Duration(p.rng.ExpFloat64() * float64(think))
		if time.Now().Add(wait).After(deadline) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		switch r := p.rng.Float64(); {
		case r < 0.60:
			p.table(ctx, t, w, st)
		case r < 0.75:
			p.search(ctx, t, w, st)
		case r < 0.90:
			p.drawer(ctx, t, w, st)
		default:
			p.write(ctx, t, w, st)
		}
	}
}

// saturate sends the mix's requests back to back until the deadline.
func (p *person) saturate(ctx context.Context, t *target, w *world, st *stats, deadline time.Time, mix string) {
	for ctx.Err() == nil && time.Now().Before(deadline) {
		switch mix {
		case "search":
			p.search(ctx, t, w, st)
		case "first":
			st.add("table", t.do(ctx, p.s, http.MethodGet, "/crm/customers", nil, ""))
		default:
			p.table(ctx, t, w, st)
		}
	}
}

// table opens a table page: a new filter and sort, or (a quarter of the
// time, when there is one) the next page of the last one.
func (p *person) table(ctx context.Context, t *target, w *world, st *stats) {
	var path string
	if p.lastNext != "" && p.rng.IntN(4) == 0 {
		path = p.lastNext
	} else {
		p.lastQ = w.tableQuery(p.rng, p.s.userID)
		path = "/crm/customers"
		if len(p.lastQ) > 0 {
			path += "?" + p.lastQ.Encode()
		}
	}
	r := t.do(ctx, p.s, http.MethodGet, path, nil, "")
	st.add("table", r)
	p.readPage(r)
}

func (p *person) readPage(r result) {
	p.lastNext = ""
	if r.failed() {
		return
	}
	if m := nextLink.FindSubmatch(r.body); m != nil {
		p.lastNext = html.UnescapeString(string(m[1]))
	}
	p.lastRows = p.lastRows[:0]
	for _, m := range rowID.FindAllSubmatch(r.body, -1) {
		if id, err := strconv.ParseInt(string(m[1]), 10, 64); err == nil {
			p.lastRows = append(p.lastRows, id)
		}
	}
}

// search types a term into the table's search box.
func (p *person) search(ctx context.Context, t *target, w *world, st *stats) {
	v := url.Values{"q": {pick(p.rng, w.searches)}}
	r := t.do(ctx, p.s, http.MethodGet, "/crm/customers?"+v.Encode(), nil, "")
	st.add("search", r)
	p.readPage(r)
}

// drawer opens a customer of the last page (or of the sample) beside the table.
func (p *person) drawer(ctx context.Context, t *target, w *world, st *stats) {
	id := pick(p.rng, w.customers)
	if len(p.lastRows) > 0 {
		id = pick(p.rng, p.lastRows)
	}
	v := url.Values{}
	for k, vals := range p.lastQ {
		v[k] = vals
	}
	v.Set("fragment", "drawer")
	v.Set("tab", "profile")
	st.add("drawer", t.do(ctx, p.s, http.MethodGet, fmt.Sprintf("/crm/customers/%d?%s", id, v.Encode()), nil, ""))
}

// write is one change from the drawer: claim or unclaim the person's own
// customer, add or remove the load-test tag, or add a note.
func (p *person) write(ctx context.Context, t *target, w *world, st *stats) {
	switch p.rng.IntN(3) {
	case 0:
		if p.claimed {
			r := t.sendJSON(ctx, p.s, http.MethodPost, fmt.Sprintf("/api/v1/customers/%d/unclaim", p.reserved), nil)
			st.add("unclaim", r)
			if !r.failed() {
				p.claimed = false
			}
		} else {
			r := t.sendJSON(ctx, p.s, http.MethodPost, fmt.Sprintf("/api/v1/customers/%d/claim", p.reserved), nil)
			st.add("claim", r)
			if !r.failed() {
				p.claimed = true
			}
		}
	case 1:
		if p.tagged != 0 {
			r := t.sendJSON(ctx, p.s, http.MethodDelete, fmt.Sprintf("/api/v1/customers/%d/tags/%s", p.tagged, url.PathEscape(loadTag)), nil)
			st.add("untag", r)
			if !r.failed() {
				p.tagged = 0
			}
		} else {
			id := pick(p.rng, w.customers)
			r := t.sendJSON(ctx, p.s, http.MethodPost, fmt.Sprintf("/api/v1/customers/%d/tags", id), map[string]any{"names": []string{loadTag}})
			st.add("tag", r)
			if !r.failed() {
				p.tagged = id
			}
		}
	default:
		p.notes++
		id := pick(p.rng, w.customers)
		st.add("note", t.sendJSON(ctx, p.s, http.MethodPost, fmt.Sprintf("/api/v1/customers/%d/notes", id),
			map[string]any{"body": fmt.Sprintf("Called back about the renewal (load test, note %d).", p.notes)}))
	}
}

func (p *person) cleanUp(ctx context.Context, t *target) {
	if p.claimed {
		t.sendJSON(ctx, p.s, http.MethodPost, fmt.Sprintf("/api/v1/customers/%d/unclaim", p.reserved), nil)
	}
	if p.tagged != 0 {
		t.sendJSON(ctx, p.s, http.MethodDelete, fmt.Sprintf("/api/v1/customers/%d/tags/%s", p.tagged, url.PathEscape(loadTag)), nil)
	}
}

// sparse compares a call after idle with the same call back to back.
func sparse(ctx context.Context, t *target, w *world, s *session, o options, stdout io.Writer) error {
	rng := rand.New(rand.NewPCG(uint64(o.seed), 7))
	term := w.searches[rng.IntN(len(w.searches))]
	calls := []struct{ name, path string }{
		{"search", "/crm/customers?" + url.Values{"q": {term}}.Encode()},
		{"table page", "/crm/customers"},
	}
	base := t.urls[0]
	time.Sleep(2 * time.Second) // let the load run's last work settle
	fmt.Fprintf(stdout, "\nSparse traffic (%s; median of %d; load %s):\n", base, o.sparseRuns, loadavg())
	fmt.Fprintf(stdout, "%-12s %-40s %14s %14s %7s\n", "call", "path", "back-to-back", "after idle", "ratio")
	for _, c := range calls {
		var warm, idle []time.Duration
		for i := range o.sparseRuns + 1 {
			r := t.doAt(ctx, base, s, http.MethodGet, c.path, nil, "")
			if r.failed() {
				return fmt.Errorf("sparse check: %s", r.describe())
			}
			if i > 0 {
				warm = append(warm, r.took)
			}
		}
		for range o.sparseRuns {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(o.sparseIdle):
			}
			r := t.doAt(ctx, base, s, http.MethodGet, c.path, nil, "")
			if r.failed() {
				return fmt.Errorf("sparse check: %s", r.describe())
			}
			idle = append(idle, r.took)
		}
		mw, mi := median(warm), median(idle)
		path := c.path
		if len(path) > 40 {
			path = path[:40]
		}
		fmt.Fprintf(stdout, "%-12s %-40s %11.1f ms %11.1f ms %6.2fx\n", c.name, path, ms(mw), ms(mi), float64(mi)/float64(mw))
	}
	return nil
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func header(w io.Writer, o options) {
	host, _ := os.Hostname()
	fmt.Fprintf(w, "Load test %s: mode %s", o.label, o.mode)
	switch o.mode {
	case "users":
		fmt.Fprintf(w, ", %d people, think time mean %s", o.users, o.think)
	case "saturation":
		fmt.Fprintf(w, ", mix %s, %d clients", o.mix, o.clients)
	}
	if o.mode != "sparse" {
		fmt.Fprintf(w, ", %s", o.duration)
	}
	fmt.Fprintf(w, "\nservers: %s\nmachine: %s, %d cores, %s\n", strings.Join(o.urls, " "), host, runtime.NumCPU(), time.Now().UTC().Format(time.RFC3339))
}

func report(w io.Writer, st *stats, elapsed time.Duration, load0, load1 string) {
	fmt.Fprintf(w, "load average: %s at the start, %s at the end\n\n", load0, load1)
	fmt.Fprintf(w, "%-8s %9s %8s %8s %8s %8s %8s %7s\n", "kind", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors")
	var all []time.Duration
	errs := 0
	for _, k := range kinds {
		d := st.times[k]
		if len(d) == 0 {
			continue
		}
		all = append(all, d...)
		errs += st.errs[k]
		row(w, k, d, elapsed, st.errs[k])
	}
	row(w, "all", all, elapsed, errs)
	if errs > 0 {
		fmt.Fprintf(w, "\nerrors (a sample of each kind):\n")
		for _, k := range kinds {
			for _, s := range st.samples[k] {
				fmt.Fprintf(w, "  %s: %s\n", k, s)
			}
		}
	}
}

func row(w io.Writer, kind string, d []time.Duration, elapsed time.Duration, errs int) {
	s := slices.Clone(d)
	slices.Sort(s)
	fmt.Fprintf(w, "%-8s %9d %8.1f %8.1f %8.1f %8.1f %8.1f %7d\n", kind, len(s), float64(len(s))/elapsed.Seconds(),
		ms(rank(s, 0.50)), ms(rank(s, 0.95)), ms(rank(s, 0.99)), ms(s[len(s)-1]), errs)
}

// rank is the nearest-rank percentile of sorted d.
func rank(d []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(d)))) - 1
	return d[max(i, 0)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
