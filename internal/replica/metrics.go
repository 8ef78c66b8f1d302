package replica

import (
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// The replica's metrics, in the default registry (served by /metrics).
var (
	lagSeconds = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "crm_db_replica_lag_seconds",
		Help: "How far the read replica's replay is behind the primary, as last measured (0: it has replayed all the primary had written).",
	})
	healthy = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "crm_db_replica_healthy",
		Help: "1 while the read replica answers reads; 0 while they go to the primary (it does not answer, is no standby, or lags past the bound).",
	})
	fallbacks = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "crm_db_replica_fallbacks_total",
		Help: "Requests whose replica reads went to the primary, by reason: unhealthy (replica out of use), behind (it had not replayed the user's own change in time), error (a replica query failed and was run again on the primary).",
	}, []string{"reason"})
)

// current is the Router whose replica pool the pool metrics describe.
var current atomic.Pointer[Router]

func init() {
	for _, reason := range []string{"unhealthy", "behind", "error"} {
		fallbacks.WithLabelValues(reason)
	}
}

var registerPool sync.Once

// registerPoolMetrics publishes the statistics of the replica's pool (of
// the latest Router) as crm_db_pool_*{pool="replica"}: functions read at
// scrape time, so nothing polls. The primary's and SQLite's pools have the
// same names with their own pool label. A name another part of the program
// registered differently is logged, not fatal.
func registerPoolMetrics(log *slog.Logger) {
	registerPool.Do(func() {
		labels := prometheus.Labels{"pool": "replica"}
		get := func(f func(*pgxpool.Stat) float64) func() float64 {
			return func() float64 {
				r := current.Load()
				if r == nil || r.pool == nil {
					return 0
				}
				return f(r.pool.Stat())
			}
		}
		for _, c := range []prometheus.Collector{
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "crm_db_pool_max_connections", Help: "Connections the pool may open.", ConstLabels: labels},
				get(func(s *pgxpool.Stat) float64 { return float64(s.MaxConns()) })),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "crm_db_pool_open_connections", Help: "Connections open, in use or idle.", ConstLabels: labels},
				get(func(s *pgxpool.Stat) float64 { return float64(s.TotalConns()) })),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "crm_db_pool_in_use_connections", Help: "Connections in use.", ConstLabels: labels},
				get(func(s *pgxpool.Stat) float64 { return float64(s.AcquiredConns()) })),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "crm_db_pool_idle_connections", Help: "Connections idle.", ConstLabels: labels},
				get(func(s *pgxpool.Stat) float64 { return float64(s.IdleConns()) })),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "crm_db_pool_waits_total", Help: "Times a query waited for a connection.", ConstLabels: labels},
				get(func(s *pgxpool.Stat) float64 { return float64(s.EmptyAcquireCount()) })),
			prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "crm_db_pool_wait_seconds_total", Help: "Time queries waited for a connection.", ConstLabels: labels},
				get(func(s *pgxpool.Stat) float64 { return s.EmptyAcquireWaitTime().Seconds() })),
		} {
			if err := prometheus.Register(c); err != nil {
				log.Error("replica pool metric not registered", "err", err)
			}
		}
	})
}
