package metrics_test

import (
	"database/sql"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/acme/crm/internal/metrics"
)

// A pool registered here and one registered elsewhere as GaugeFuncs with
// the constant label pool (as the read replica's is) share the series.
func TestPoolSeriesShareNames(t *testing.T) {
	metrics.RegisterPool("test_a", func() metrics.PoolStats {
		return metrics.PoolStats{Open: 3, InUse: 1, Idle: 2, MaxOpen: 8, WaitCount: 5}
	})
	metrics.RegisterPool("test_a", func() metrics.PoolStats { return metrics.PoolStats{Open: 4, MaxOpen: 8} }) // replaced, not doubled
	metrics.RegisterPool("test_b", metrics.SQLPool(&sql.DB{}))
	other := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "crm_db_pool_open_connections", Help: "Connections open, in use or idle.",
		ConstLabels: prometheus.Labels{"pool": "elsewhere"}}, func() float64 { return 7 })
	if err := prometheus.Register(other); err != nil {
		t.Fatalf("a GaugeFunc of another pool: %v", err)
	}
	defer prometheus.Unregister(other)
	fams, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != "crm_db_pool_open_connections" {
			continue
		}
		for _, m := range f.Metric {
			got[label(m, "pool")] = m.GetGauge().GetValue()
		}
	}
	if got["test_a"] != 4 || got["elsewhere"] != 7 || len(got) != 3 {
		t.Fatalf("%v", got)
	}
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
