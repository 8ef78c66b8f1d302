// Package live pushes the changes of customers to open pages and API
// clients as they happen (issue 15, SPEC section 10: GET /api/v1/events).
//
// One poller per process follows the change feed (crm.ChangeStore) and keeps
// the latest changes in a ring; every stream (one per browser tab) takes
// what is new from that ring, checks for each change that its user may see
// the customer, and writes it as a Server-Sent Event whose id is the feed
// cursor. A stream that falls behind the ring, or resumes after a dropped
// connection (Last-Event-ID), reads the feed itself from its cursor until it
// has caught up, so nothing is skipped and the hub's memory stays bounded.
//
// The poller wakes when the feed may have grown: on PostgreSQL a NOTIFY sent
// by a trigger of the activity table (migration 00024) on every commit that
// wrote activity, by any process, heard on one dedicated connection
// (LISTEN); on SQLite, one process owns the database and a short interval
// is enough. It runs only while someone is listening.
package live

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/crm/internal/crm"
)

// Source is what the hub reads: the change feed, and the users (names for
// "by", and whether a listener's user is still allowed to listen).
type Source interface {
	Changes(ctx context.Context, after string, limit int) ([]crm.Change, string, error)
	ChangesHead(ctx context.Context) (string, error)
	ListUsers(ctx context.Context) ([]crm.User, error)
}

// Options tune a hub; the zero value fits SQLite.
type Options struct {
	// Pool, on PostgreSQL, is where the hub takes the settings of its one
	// dedicated LISTEN connection (a connection of its own, not of the pool).
	Pool *pgxpool.Pool
	// Interval is how often the poller reads the feed when nothing woke it:
	// 150 ms without Pool; 1 s with it (NOTIFY wakes it at once, the
	// interval only covers a lost connection).
	Interval time.Duration
	// Linger is how long the poller keeps following the feed after the last
	// stream ended (30 s): a page that reloads finds it running.
	Linger time.Duration
	// Ring is how many recent changes the hub keeps for its streams (4096).
	Ring int
	// Heartbeat is how often an idle stream writes a comment, so proxies
	// keep it open (25 s).
	Heartbeat time.Duration
	// Recheck is how often a stream checks that its credential still
	// holds (a revoked API token ends it): 1 minute.
	Recheck time.Duration
	// SessionLife bounds a page's stream (10 minutes): the browser then
	// reconnects at once with Last-Event-ID, through the sign-in checks
	// again, so a session ended elsewhere stops its streams.
	SessionLife time.Duration
	// MaySee decides whether a user may be told of a change of a customer
	// (customers.MaySee); nil allows any active user.
	MaySee func(u *crm.User, customerID int64) bool
	Log    *slog.Logger
}

// owedFor and owedPoll: after a NOTIFY, the poller reads the feed every
// owedPoll until the change shows (see run).
const (
	owedFor  = 5 * time.Second
	owedPoll = 40 * time.Millisecond
)

// pageSize is how many changes one read of the feed asks for.
const pageSize = 500

// ErrClosed: the hub was shut down (the server is stopping).
var ErrClosed = errors.New("live updates are shutting down")

// Hub fans the change feed out to the streams of one process.
type Hub struct {
	src Source
	opt Options
	log *slog.Logger

	startMu sync.Mutex // one start (ChangesHead, LISTEN) at a time

	mu      sync.Mutex
	running bool
	closed  bool
	subs    int
	idleAt  time.Time // when subs last became 0
	base    string    // the cursor just before ring[0]
	head    string    // where the poller continues
	ring    []*event  // oldest first
	seq0    int64     // sequence number of ring[0]
	index   map[string]int64
	signal  chan struct{} // closed (and replaced) when the ring grows, the hub stops or closes
	users   map[int64]crm.User
	usersAt time.Time
	stop    context.CancelFunc // ends the poller
	wg      sync.WaitGroup

	poke chan struct{} // a NOTIFY (or a test) says the feed may have grown
	done chan struct{} // closed by Shutdown
}

// New returns a hub reading src; it starts following the feed with its first stream.
func New(src Source, opt Options) *Hub {
	if opt.Interval <= 0 {
		opt.Interval = 150 * time.Millisecond
		if opt.Pool != nil {
			opt.Interval = time.Second
		}
	}
	if opt.Linger <= 0 {
		opt.Linger = 30 * time.Second
	}
	if opt.Ring <= 0 {
		opt.Ring = 4096
	}
	if opt.Heartbeat <= 0 {
		opt.Heartbeat = 25 * time.Second
	}
	if opt.Recheck <= 0 {
		opt.Recheck = time.Minute
	}
	if opt.SessionLife <= 0 {
		opt.SessionLife = 10 * time.Minute
	}
	if opt.MaySee == nil {
		opt.MaySee = func(u *crm.User, _ int64) bool { return u != nil && u.Active }
	}
	log := opt.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Hub{src: src, opt: opt, log: log, signal: make(chan struct{}), poke: make(chan struct{}, 1), done: make(chan struct{})}
}

// Shutdown ends every stream and the poller, and refuses new streams; it
// returns when the poller has stopped. The server calls it as it begins to
// shut down (http.Server.RegisterOnShutdown): a stream never ends by itself,
// so without this a graceful stop would wait for them until its deadline.
func (h *Hub) Shutdown() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	close(h.done)
	if h.stop != nil {
		h.stop()
	}
	h.mu.Unlock()
	h.wg.Wait()
}

// Poke tells the poller the feed may have grown (a NOTIFY did; tests may).
func (h *Hub) Poke() {
	select {
	case h.poke <- struct{}{}:
	default:
	}
}

// join counts a new stream in and makes sure the poller runs; it returns
// the cursor of "now" for a stream that starts without one.
func (h *Hub) join(ctx context.Context) (string, error) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return "", ErrClosed
	}
	h.subs++
	if h.running {
		head := h.head
		h.mu.Unlock()
		return head, nil
	}
	h.mu.Unlock()

	h.startMu.Lock()
	defer h.startMu.Unlock()
	h.mu.Lock()
	if h.running || h.closed { // started by another stream meanwhile (or closing)
		head, closed := h.head, h.closed
		h.mu.Unlock()
		if closed {
			h.leave()
			return "", ErrClosed
		}
		return head, nil
	}
	h.mu.Unlock()
	head, err := h.src.ChangesHead(ctx)
	if err != nil {
		h.leave()
		return "", err
	}
	users, err := h.src.ListUsers(ctx)
	if err != nil {
		h.leave()
		return "", err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		h.subs--
		return "", ErrClosed
	}
	pctx, stop := context.WithCancel(context.Background())
	h.running, h.stop = true, stop
	h.base, h.head, h.ring, h.seq0, h.index = head, head, nil, 0, map[string]int64{}
	h.setUsers(users)
	h.wg.Add(1)
	go h.run(pctx)
	if h.opt.Pool != nil {
		h.wg.Add(1)
		go h.listen(pctx)
	}
	return head, nil
}

// leave counts a stream out.
func (h *Hub) leave() {
	h.mu.Lock()
	h.subs--
	if h.subs == 0 {
		h.idleAt = time.Now()
	}
	h.mu.Unlock()
}

// since returns the changes after cur that the ring holds. known is false
// when cur is not in the ring (older than it, or the poller is not
// running): the stream then reads the feed itself. wait is closed when
// there is more.
func (h *Hub) since(cur string) (evs []*event, known bool, wait <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	wait = h.signal
	if !h.running {
		return nil, false, wait
	}
	if cur == h.head {
		return nil, true, wait
	}
	if cur == h.base {
		return h.ring, true, wait
	}
	if s, ok := h.index[cur]; ok {
		return h.ring[s-h.seq0+1:], true, wait
	}
	return nil, false, wait
}

// wake tells every waiting stream to look again.
func (h *Hub) wake() {
	close(h.signal)
	h.signal = make(chan struct{})
}

// run is the poller: it follows the feed while streams listen, and for
// Linger after the last one ended.
func (h *Hub) run(ctx context.Context) {
	defer h.wg.Done()
	t := time.NewTimer(0)
	defer t.Stop()
	// After a NOTIFY the feed owes a change: on PostgreSQL it shows a
	// commit only once every transaction that began before it has ended,
	// which may be a moment later and bring no NOTIFY of its own (a
	// transaction that wrote no activity). For owedFor after the last
	// NOTIFY the poller looks every owedPoll (one indexed read), then every
	// Interval again.
	var owedUntil time.Time
	for {
		select {
		case <-ctx.Done():
			h.stopped()
			return
		case <-h.poke:
			owedUntil = time.Now().Add(owedFor)
		case <-t.C:
		}
		_, err := h.pollOnce(ctx)
		if err != nil && ctx.Err() == nil {
			h.log.Error("live updates: reading the change feed", "err", err)
		}
		next := h.opt.Interval
		if time.Now().Before(owedUntil) {
			next = min(next, owedPoll)
		}
		if err != nil {
			next = max(next, time.Second)
		}
		h.mu.Lock()
		idle := h.subs == 0 && time.Since(h.idleAt) > h.opt.Linger
		if idle {
			h.running = false
			h.stop()
			h.ring, h.index = nil, nil
			h.wake()
			h.mu.Unlock()
			return
		}
		h.mu.Unlock()
		t.Reset(next)
	}
}

// stopped marks the poller ended (Shutdown).
func (h *Hub) stopped() {
	h.mu.Lock()
	h.running = false
	h.ring, h.index = nil, nil
	h.wake()
	h.mu.Unlock()
}

// pollOnce reads what the feed gained since head into the ring; it reports
// how many changes it added.
func (h *Hub) pollOnce(ctx context.Context) (int, error) {
	total := 0
	for {
		h.mu.Lock()
		after := h.head
		h.mu.Unlock()
		items, next, err := h.src.Changes(ctx, after, pageSize)
		if err != nil {
			return total, err
		}
		if len(items) == 0 {
			if next != after && next != "" {
				h.mu.Lock()
				if h.head == after {
					h.head = next
				}
				h.mu.Unlock()
			}
			return total, nil
		}
		if err := h.refreshUsers(ctx, items); err != nil {
			return total, err
		}
		h.mu.Lock()
		if h.head != after || !h.running { // stopped meanwhile
			h.mu.Unlock()
			return total, nil
		}
		for _, c := range items {
			e := newEvent(c, h.users)
			h.index[e.Cursor] = h.seq0 + int64(len(h.ring))
			h.ring = append(h.ring, e)
		}
		h.head = next
		if last := items[len(items)-1].Cursor; next != last {
			// a stream that stopped at the last item continues from there
			h.index[next] = h.seq0 + int64(len(h.ring)) - 1
		}
		if len(h.ring) > h.opt.Ring { // drop the older half at once
			drop := len(h.ring) - h.opt.Ring/2
			for _, e := range h.ring[:drop] {
				delete(h.index, e.Cursor)
			}
			for k, s := range h.index {
				if s < h.seq0+int64(drop) {
					delete(h.index, k)
				}
			}
			h.base = h.ring[drop-1].Cursor
			h.ring = append([]*event(nil), h.ring[drop:]...)
			h.seq0 += int64(drop)
		}
		h.wake()
		h.mu.Unlock()
		total += len(items)
		if len(items) < pageSize {
			return total, nil
		}
	}
}

// refreshUsers reads the users again when a change names one the hub does
// not know, or when its copy is over a second old: the names in "by", and
// whether a stream's user is still active, are that fresh.
func (h *Hub) refreshUsers(ctx context.Context, items []crm.Change) error {
	h.mu.Lock()
	stale := time.Since(h.usersAt) > time.Second
	for _, c := range items {
		if _, ok := h.users[c.UserID]; c.UserID != 0 && !ok {
			stale = true
		}
	}
	h.mu.Unlock()
	if !stale {
		return nil
	}
	users, err := h.src.ListUsers(ctx)
	if err != nil {
		return err
	}
	h.mu.Lock()
	h.setUsers(users)
	h.mu.Unlock()
	return nil
}

func (h *Hub) setUsers(users []crm.User) {
	m := make(map[int64]crm.User, len(users))
	for _, u := range users {
		m[u.ID] = u
	}
	h.users, h.usersAt = m, time.Now()
}

// user returns the hub's fresh copy of a user.
func (h *Hub) user(id int64) (crm.User, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	u, ok := h.users[id]
	return u, ok
}

// render makes events of changes read by a stream itself (outside the ring).
func (h *Hub) render(items []crm.Change) []*event {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*event, len(items))
	for i, c := range items {
		out[i] = newEvent(c, h.users)
	}
	return out
}
