// Package replica sends the reads a PostgreSQL streaming replica may answer
// (the customer table, its counts and search, the drawer, exports) to one,
// keeping every write, every other read and everything inside a transaction
// on the primary.
//
// Read-your-writes: after a request that may have written (any method but
// GET, HEAD and OPTIONS) the primary's WAL position (pg_current_wal_lsn())
// is handed to the client: a short-lived cookie for browsers, the response
// header CRM-Read-After for any client (sent back as a request header, it
// holds across instances), and, per API token, in this process. A later read
// of that client goes to the replica only once the replica has replayed that
// position (pg_last_wal_replay_lsn()), waiting for it a short while (Wait),
// else to the primary.
//
// A background check (every Interval) measures how far the replica is
// behind; one that does not answer, is no standby, or is behind past MaxLag
// is skipped until it recovers, with a log line at each change and the
// metrics crm_db_replica_healthy, crm_db_replica_lag_seconds and
// crm_db_replica_fallbacks_total.
package replica

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/crm/internal/store/sqlstore"
)

// Options tune a Router; zero values take the defaults.
type Options struct {
	// MaxLag is how far behind the primary the replica may be and still
	// answer reads (default 5 s).
	MaxLag time.Duration
	// Wait is how long a read waits for the replica to replay the client's
	// own last change before it goes to the primary (default 100 ms).
	Wait time.Duration
	// Interval is how often the replica's health is checked (default 1 s).
	Interval time.Duration
	// Log hears the replica going out of use and coming back.
	Log *slog.Logger
}

// Router chooses, per request, between the primary and the replica.
type Router struct {
	primary *sql.DB // the primary's pool: the WAL position after writes, the health check
	replica *sql.DB
	pool    *pgxpool.Pool // under replica (may be nil): its statistics are metrics
	opt     Options

	healthy atomic.Bool
	replay  atomic.Uint64 // the replica's replay position as last seen (0: unknown)
	lagNS   atomic.Int64  // the lag as last measured
	wake    chan struct{} // a read saw the replica fail: check now

	mu      sync.Mutex
	reason  string   // why the replica is out of use ("" while in use)
	history []sample // the primary's WAL position at each check, oldest first

	tokens tokenLSNs // per API token: the position after its last write
}

type sample struct {
	at  time.Time
	lsn uint64
}

// New returns a Router over the primary's pool and the replica's (replica,
// over pool when that is not nil), which Close closes. It checks the replica
// once before it returns; Run keeps checking.
func New(ctx context.Context, primary, replica *sql.DB, pool *pgxpool.Pool, opt Options) *Router {
	if opt.MaxLag <= 0 {
		opt.MaxLag = 5 * time.Second
	}
	if opt.Wait <= 0 {
		opt.Wait = 100 * time.Millisecond
	}
	if opt.Interval <= 0 {
		opt.Interval = time.Second
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	r := &Router{primary: primary, replica: replica, pool: pool, opt: opt, wake: make(chan struct{}, 1), reason: "not checked yet"}
	r.check(ctx)
	if !r.healthy.Load() {
		r.mu.Lock()
		r.opt.Log.Warn("read replica not in use: reads go to the primary until it is", "reason", r.reason)
		r.mu.Unlock()
	}
	current.Store(r)
	registerPoolMetrics(opt.Log)
	return r
}

// Close closes the replica's pool.
func (r *Router) Close() {
	current.CompareAndSwap(r, nil)
	r.replica.Close()
	if r.pool != nil {
		r.pool.Close()
	}
}

// Healthy reports whether reads may go to the replica now.
func (r *Router) Healthy() bool { return r.healthy.Load() }

// Lag is the replica's lag as last measured.
func (r *Router) Lag() time.Duration { return time.Duration(r.lagNS.Load()) }

// Run checks the replica every Interval (and at once after a read saw it
// fail) until ctx ends.
func (r *Router) Run(ctx context.Context) {
	t := time.NewTicker(r.opt.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.wake:
		}
		r.check(ctx)
	}
}

// check measures the replica and puts it in or out of use.
//
// The lag is 0 when the replica has replayed all that the primary had
// written at the start of the check, so an idle primary never makes it look
// behind (pg_last_xact_replay_timestamp() is then the time of the last
// write, however old). Otherwise it is the smaller of two measures that
// both overstate it: the time since the last transaction it replayed
// committed, and the time since the latest earlier check whose primary
// position it has replayed.
func (r *Router) check(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, max(r.opt.Interval, time.Second))
	defer cancel()
	var p string
	if err := r.primary.QueryRowContext(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&p); err != nil {
		return // the primary is not answering: nothing to compare with; the state stays
	}
	primaryLSN, err := ParseLSN(p)
	if err != nil {
		return
	}
	now := time.Now()
	var recovery bool
	var replayText sql.NullString
	var sinceReplay sql.NullFloat64
	err = r.replica.QueryRowContext(ctx, `SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text,
		extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8`).Scan(&recovery, &replayText, &sinceReplay)
	switch {
	case err != nil:
		r.setDown("does not answer: " + errText(err))
		return
	case !recovery || !replayText.Valid:
		r.setDown("is not a standby in recovery (promoted?)")
		return
	}
	replay, err := ParseLSN(replayText.String)
	if err != nil {
		r.setDown(err.Error())
		return
	}
	r.replay.Store(replay)

	r.mu.Lock()
	var lag time.Duration
	if replay < primaryLSN {
		lag = -1
		for i := len(r.history) - 1; i >= 0; i-- {
			if r.history[i].lsn <= replay {
				lag = now.Sub(r.history[i].at) // it has all the primary had then
				break
			}
		}
		if sinceReplay.Valid {
			if d := time.Duration(sinceReplay.Float64 * float64(time.Second)); lag < 0 || d < lag {
				lag = max(d, 0)
			}
		}
		if lag < 0 { // nothing to measure by: behind at least since the oldest check kept
			lag = r.opt.Interval
			if len(r.history) > 0 {
				lag = now.Sub(r.history[0].at)
			}
		}
	}
	// keep the checks of the last MaxLag and a few intervals
	r.history = append(r.history, sample{now, primaryLSN})
	keep := now.Add(-r.opt.MaxLag - 3*r.opt.Interval)
	i := 0
	for i < len(r.history)-1 && r.history[i].at.Before(keep) {
		i++
	}
	r.history = r.history[i:]
	r.mu.Unlock()

	r.lagNS.Store(int64(lag))
	lagSeconds.Set(lag.Seconds())
	if lag > r.opt.MaxLag {
		r.setDown(fmt.Sprintf("is %.1f s behind the primary (the bound is %s)", lag.Seconds(), r.opt.MaxLag))
		return
	}
	r.setUp(lag)
}

// setDown takes the replica out of use, logging the change.
func (r *Router) setDown(reason string) {
	r.replay.Store(0) // a replica that comes back may have restarted from an earlier position
	r.mu.Lock()
	defer r.mu.Unlock()
	was := r.healthy.Swap(false)
	healthy.Set(0)
	if was {
		r.opt.Log.Warn("read replica out of use: reads go to the primary", "reason", reason)
	}
	r.reason = reason
}

// setUp puts the replica in use, logging the change.
func (r *Router) setUp(lag time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	was := r.healthy.Swap(true)
	healthy.Set(1)
	if !was {
		r.opt.Log.Info("read replica in use", "lag_ms", lag.Milliseconds())
	}
	r.reason = ""
}

// state is a request's choice of where its replica-eligible reads go.
type state struct {
	after   uint64 // the client's own last change: the replica must have replayed it
	once    sync.Once
	replica atomic.Bool // decided on the first such read; cleared when the replica fails
}

type stateKey struct{}

// WithReads returns ctx under which the reads a replica may answer go to
// it once it has replayed the WAL position after (0: none to wait for).
// The choice is made at the first such read and holds for the request.
func WithReads(ctx context.Context, after uint64) context.Context {
	return context.WithValue(ctx, stateKey{}, &state{after: after})
}

func stateOf(ctx context.Context) *state {
	st, _ := ctx.Value(stateKey{}).(*state)
	return st
}

var _ sqlstore.ReadRouter = (*Router)(nil)

// Reader is where a read that the replica may answer goes under ctx.
func (r *Router) Reader(ctx context.Context, primary *sql.DB) sqlstore.Querier {
	st := stateOf(ctx)
	if st == nil || !r.decide(ctx, st) {
		return primary
	}
	return &fallback{r: r, st: st, primary: primary}
}

// Conn is a connection for a long read (an export) under ctx: the
// replica's when the request reads from it and it answers, else the
// primary's.
func (r *Router) Conn(ctx context.Context, primary *sql.DB) (*sql.Conn, error) {
	st := stateOf(ctx)
	if st != nil && r.decide(ctx, st) {
		c, err := r.replica.Conn(ctx)
		if err == nil {
			if err = c.PingContext(ctx); err != nil {
				c.Close()
			}
		}
		if err == nil || ctx.Err() != nil {
			return c, err
		}
		r.failed(st, err)
	}
	return primary.Conn(ctx)
}

// decide makes the request's choice once and reports whether its reads go
// to the replica.
func (r *Router) decide(ctx context.Context, st *state) bool {
	st.once.Do(func() { st.replica.Store(r.choose(ctx, st.after)) })
	return st.replica.Load()
}

// choose reports whether a read that must see the position after may go to
// the replica: it must be in use and have replayed after, within Wait.
func (r *Router) choose(ctx context.Context, after uint64) bool {
	if !r.healthy.Load() {
		fallbacks.WithLabelValues("unhealthy").Inc()
		return false
	}
	if after == 0 || r.replay.Load() >= after {
		return true
	}
	deadline := time.Now().Add(r.opt.Wait)
	wait, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	for {
		var text sql.NullString
		err := r.replica.QueryRowContext(wait, `SELECT pg_last_wal_replay_lsn()::text`).Scan(&text)
		switch {
		case err == nil:
		case ctx.Err() != nil: // the request is gone
			return false
		case wait.Err() != nil: // no answer within Wait
			fallbacks.WithLabelValues("behind").Inc()
			return false
		default:
			r.noteError(err)
			fallbacks.WithLabelValues("error").Inc()
			return false
		}
		if lsn, err := ParseLSN(text.String); err == nil {
			for { // keep the highest position seen
				old := r.replay.Load()
				if lsn <= old || r.replay.CompareAndSwap(old, lsn) {
					break
				}
			}
			if lsn >= after {
				return true
			}
		}
		left := time.Until(deadline)
		if left <= 0 {
			fallbacks.WithLabelValues("behind").Inc()
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(min(left, 5*time.Millisecond)):
		}
	}
}

// failed turns the rest of a request's reads to the primary after a
// replica query failed.
func (r *Router) failed(st *state, err error) {
	st.replica.Store(false)
	fallbacks.WithLabelValues("error").Inc()
	r.noteError(err)
}

// noteError takes the replica out of use when err says it is gone (a
// query error such as a recovery conflict leaves it in use), and has the
// check look again at once.
func (r *Router) noteError(err error) {
	if !connectionLost(err) {
		return
	}
	r.setDown("a read failed: " + errText(err))
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// connectionLost reports an error that says the server is not there (or
// is shutting down), as opposed to one about the query.
func connectionLost(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P")
	}
	var netErr net.Error
	var connectErr *pgconn.ConnectError
	return errors.As(err, &connectErr) || errors.As(err, &netErr) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) ||
		strings.Contains(err.Error(), "conn closed")
}

// errText is err's message, short enough for a log line.
func errText(err error) string {
	s := err.Error()
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// fallback is a Querier on the replica that runs a query again on the
// primary when the replica fails it (it went away, or cancelled the query
// for a conflict with recovery), so that the user sees no error.
type fallback struct {
	r       *Router
	st      *state
	primary *sql.DB
}

func (q *fallback) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return q.primary.ExecContext(ctx, query, args...) // writes never go to a replica
}

func (q *fallback) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if q.st.replica.Load() {
		rows, err := q.r.replica.QueryContext(ctx, query, args...)
		if err == nil || ctx.Err() != nil {
			return rows, err
		}
		q.r.failed(q.st, err)
	}
	return q.primary.QueryContext(ctx, query, args...)
}

func (q *fallback) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if q.st.replica.Load() {
		row := q.r.replica.QueryRowContext(ctx, query, args...)
		err := row.Err()
		if err == nil || ctx.Err() != nil {
			return row
		}
		q.r.failed(q.st, err)
	}
	return q.primary.QueryRowContext(ctx, query, args...)
}

// CurrentLSN is the primary's WAL position now: every change committed
// before the call is at or before it.
func (r *Router) CurrentLSN(ctx context.Context) (uint64, error) {
	var p string
	if err := r.primary.QueryRowContext(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&p); err != nil {
		return 0, err
	}
	return ParseLSN(p)
}

// ParseLSN reads a WAL position as PostgreSQL writes it: two hexadecimal
// numbers of at most 32 bits, "16/B374D848".
func ParseLSN(s string) (uint64, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok || len(hi) == 0 || len(hi) > 8 || len(lo) == 0 || len(lo) > 8 {
		return 0, fmt.Errorf("%q is not a WAL position", s)
	}
	h, err1 := strconv.ParseUint(hi, 16, 32)
	l, err2 := strconv.ParseUint(lo, 16, 32)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%q is not a WAL position", s)
	}
	return h<<32 | l, nil
}

// FormatLSN writes a WAL position as PostgreSQL does.
func FormatLSN(lsn uint64) string {
	return fmt.Sprintf("%X/%X", lsn>>32, lsn&0xFFFFFFFF)
}
