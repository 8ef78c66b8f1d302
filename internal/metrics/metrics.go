// Package metrics holds the product's Prometheus metrics, all named crm_ and
// registered on the client library's default registry (with its Go and
// process collectors), so that any package can add its own and one /metrics
// shows them all. Labels are bounded: route patterns, never raw paths.
package metrics

import (
	"crypto/subtle"
	"database/sql"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// HTTP requests, by route pattern ("GET /crm/customers/{id}"; "unmatched"
// when no pattern matched) and status code.
var (
	HTTPRequests = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "crm_http_requests_total",
		Help: "HTTP requests answered, by route pattern and status code.",
	}, []string{"route", "code"})
	HTTPDuration = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "crm_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request, by route pattern and status code.",
		Buckets: []float64{.005, .01, .025, .05, .1, .15, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"route", "code"})
	HTTPInFlight = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "crm_http_requests_in_flight",
		Help: "HTTP requests being answered now.",
	})
)

// Background jobs (River), by kind (bulk, import, segment_send...) and the
// state an attempt ended in (completed, retryable, discarded, cancelled,
// snoozed: a long job works in slices, each ends snoozed).
var (
	JobAttempts = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "crm_jobs_total",
		Help: "Background job attempts ended, by job kind and the state they left the job in.",
	}, []string{"kind", "state"})
	JobDuration = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "crm_job_duration_seconds",
		Help:    "Time one attempt of a background job worked, by job kind and the state it left the job in.",
		Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300},
	}, []string{"kind", "state"})
	JobWait = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "crm_job_queue_wait_seconds",
		Help:    "Time a background job waited between becoming available and being worked, by job kind.",
		Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
	}, []string{"kind"})
)

// Import rows committed, by what became of them.
var ImportRows = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "crm_import_rows_total",
	Help: "Import rows processed and committed, by result: created, updated, skipped (unchanged) or failed (reported).",
}, []string{"result"})

// E-mails through the send gate, by result.
var Emails = promauto.NewCounterVec(prometheus.CounterOpts{
	Name: "crm_emails_total",
	Help: "E-mails through the send gate, by result: sent (handed to the mail server), failed (refused by it), " +
		"skipped (suppressed address), outbox (no mail server configured), no_email (a segment member without an address).",
}, []string{"result"})

// Results of crm_emails_total.
const (
	EmailSent    = "sent"
	EmailFailed  = "failed"
	EmailSkipped = "skipped"
	EmailOutbox  = "outbox"
	EmailNoEmail = "no_email"
)

func init() {
	// every known series exists from the start, at zero, so that a rate
	// or an alert on them works before the first event
	for _, r := range []string{"created", "updated", "skipped", "failed"} {
		ImportRows.WithLabelValues(r)
	}
	for _, r := range []string{EmailSent, EmailFailed, EmailSkipped, EmailOutbox, EmailNoEmail} {
		Emails.WithLabelValues(r)
	}
}

// PoolStats is the use of one database connection pool.
type PoolStats struct {
	Open, InUse, Idle, MaxOpen int64
	WaitCount                  int64         // acquisitions that had to wait for a connection
	WaitDuration               time.Duration // total time waited
}

// SQLPool reads the stats of a database/sql pool.
func SQLPool(db *sql.DB) func() PoolStats {
	return func() PoolStats {
		s := db.Stats()
		return PoolStats{Open: int64(s.OpenConnections), InUse: int64(s.InUse), Idle: int64(s.Idle),
			MaxOpen: int64(s.MaxOpenConnections), WaitCount: s.WaitCount, WaitDuration: s.WaitDuration}
	}
}

// PgxPool reads the stats of a pgx pool.
func PgxPool(p *pgxpool.Pool) func() PoolStats {
	return func() PoolStats {
		s := p.Stat()
		return PoolStats{Open: int64(s.TotalConns()), InUse: int64(s.AcquiredConns()), Idle: int64(s.IdleConns()),
			MaxOpen: int64(s.MaxConns()), WaitCount: s.EmptyAcquireCount(), WaitDuration: s.EmptyAcquireWaitTime()}
	}
}

// The pool series. Each pool is its own collector with the constant label
// pool=NAME, and the names and help texts are exactly those the read
// replica's pool registers with GaugeFuncs (internal/replica), so that
// both kinds of registration share the series.
type poolDescs struct{ open, inUse, idle, max, waits, waitSecs *prometheus.Desc }

func newPoolDescs(name string) poolDescs {
	l := prometheus.Labels{"pool": name}
	d := func(fq, help string) *prometheus.Desc { return prometheus.NewDesc(fq, help, nil, l) }
	return poolDescs{
		max:      d("crm_db_pool_max_connections", "Connections the pool may open."),
		open:     d("crm_db_pool_open_connections", "Connections open, in use or idle."),
		inUse:    d("crm_db_pool_in_use_connections", "Connections in use."),
		idle:     d("crm_db_pool_idle_connections", "Connections idle."),
		waits:    d("crm_db_pool_waits_total", "Times a query waited for a connection."),
		waitSecs: d("crm_db_pool_wait_seconds_total", "Time queries waited for a connection."),
	}
}

// poolCollector reports one registered pool at each scrape.
type poolCollector struct {
	name string
	d    poolDescs
}

func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.d.max, c.d.open, c.d.inUse, c.d.idle, c.d.waits, c.d.waitSecs} {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	pools.Lock()
	f := pools.m[c.name]
	pools.Unlock()
	if f == nil {
		return
	}
	s := f()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	gauge(c.d.max, float64(s.MaxOpen))
	gauge(c.d.open, float64(s.Open))
	gauge(c.d.inUse, float64(s.InUse))
	gauge(c.d.idle, float64(s.Idle))
	ch <- prometheus.MustNewConstMetric(c.d.waits, prometheus.CounterValue, float64(s.WaitCount))
	ch <- prometheus.MustNewConstMetric(c.d.waitSecs, prometheus.CounterValue, s.WaitDuration.Seconds())
}

var pools struct {
	sync.Mutex
	m map[string]func() PoolStats
}

// Pool names (label pool of crm_db_pool_*).
const (
	PoolPrimary       = "primary"        // PostgreSQL: the primary's pgx pool
	PoolReplica       = "replica"        // PostgreSQL: the read replica's pool
	PoolSQLiteWriter  = "sqlite_writer"  // SQLite: the one writer connection
	PoolSQLiteReaders = "sqlite_readers" // SQLite: the read-only connections
)

// RegisterPool reports the pool called name in the crm_db_pool_* series
// (label pool). Registering a name again replaces the earlier pool (a
// process that opens its database again, or tests): one series per name.
func RegisterPool(name string, stats func() PoolStats) {
	pools.Lock()
	defer pools.Unlock()
	if pools.m == nil {
		pools.m = map[string]func() PoolStats{}
	}
	if _, had := pools.m[name]; !had {
		prometheus.MustRegister(poolCollector{name: name, d: newPoolDescs(name)})
	}
	pools.m[name] = stats
}

// Handler serves the default registry in the Prometheus text format.
func Handler() http.Handler { return promhttp.Handler() }

// Protected serves the metrics to requests bearing the token
// (Authorization: Bearer TOKEN, compared in constant time), answers 401 to
// others, and 404 to everyone when token is empty: metrics are then not
// public (a separate listen address may serve them).
func Protected(token string) http.Handler {
	h := Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token == "" {
			http.NotFound(w, r)
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "Send the metrics token: Authorization: Bearer <CRM_METRICS_TOKEN>.", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}
