// Package metrics holds the product's Prometheus metrics, all named crm_ and
// registered on the client library's default registry (with its Go and
// process collectors), so that any package can add its own and one /metrics
// shows them all. Labels are bounded: route patterns, never raw paths.
package metrics

import (
	"crypto/subtle"
	"database/sql"
	"maps"
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

var (
	poolOpen    = poolDesc("crm_db_pool_open_connections", "Connections open in the pool (in use and idle).")
	poolInUse   = poolDesc("crm_db_pool_in_use_connections", "Connections of the pool in use.")
	poolIdle    = poolDesc("crm_db_pool_idle_connections", "Idle connections of the pool.")
	poolMax     = poolDesc("crm_db_pool_max_open_connections", "Most connections the pool opens (0: no limit).")
	poolWaits   = poolDesc("crm_db_pool_wait_count_total", "Times a query waited for a free connection of the pool.")
	poolWaitDur = poolDesc("crm_db_pool_wait_duration_seconds_total", "Time queries spent waiting for a free connection of the pool.")
)

func poolDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, []string{"pool"}, nil)
}

// poolCollector reports every registered pool at each scrape.
type poolCollector struct{}

func (poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolOpen, poolInUse, poolIdle, poolMax, poolWaits, poolWaitDur} {
		ch <- d
	}
}

func (poolCollector) Collect(ch chan<- prometheus.Metric) {
	pools.Lock()
	fs := make(map[string]func() PoolStats, len(pools.m))
	maps.Copy(fs, pools.m)
	pools.Unlock()
	for name, f := range fs {
		s := f()
		gauge := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, name)
		}
		gauge(poolOpen, float64(s.Open))
		gauge(poolInUse, float64(s.InUse))
		gauge(poolIdle, float64(s.Idle))
		gauge(poolMax, float64(s.MaxOpen))
		ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(s.WaitCount), name)
		ch <- prometheus.MustNewConstMetric(poolWaitDur, prometheus.CounterValue, s.WaitDuration.Seconds(), name)
	}
}

var pools struct {
	sync.Mutex
	m map[string]func() PoolStats
}

func init() { prometheus.MustRegister(poolCollector{}) }

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
