package server

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/acme/crm/internal/metrics"
	"github.com/acme/crm/internal/obs"
)

// routeOps registers the operator's routes: readiness and metrics. Neither
// needs a session; metrics need their token (metrics.Protected).
func routeOps(mux *http.ServeMux, d Deps) {
	mux.HandleFunc("GET /readyz", ready(d))
	mux.Handle("GET /metrics", metrics.Protected(d.MetricsToken))
}

// readyTimeout bounds the readiness check: a load balancer asks often and
// wants an answer, not a hung connection.
const readyTimeout = 2 * time.Second

// ready answers 200 when the database answers and its schema is current
// (Deps.Ready), 503 with the reason otherwise. /healthz stays the liveness
// check (the process runs); /readyz says whether to send it traffic.
func ready(d Deps) http.HandlerFunc {
	check := d.Ready
	if check == nil {
		check = func(ctx context.Context) error {
			_, err := d.Store.CountUsers(ctx)
			return err
		}
	}
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		w.Header().Set("Content-Type", "application/json")
		err := check(ctx)
		if err == nil && ctx.Err() != nil {
			err = ctx.Err()
		}
		if err != nil {
			reason := err.Error()
			if ctx.Err() != nil {
				reason = "database unavailable: no answer within " + readyTimeout.String()
			}
			d.Log.WarnContext(r.Context(), "not ready", "reason", reason)
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(map[string]string{"status": "unavailable", "reason": reason})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "ready"})
	}
}

// RequestIDHeader carries the request id in and out.
const RequestIDHeader = "X-Request-ID"

// requestIDs gives every request an id: the X-Request-ID a proxy or client
// sent when it is sane (obs.SaneRequestID), else a new one. It is sent back
// in the answer and put in the context, where the logger finds it
// (obs.Handler) for every line logged with the request's context.
func requestIDs(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !obs.SaneRequestID(id) {
			id = obs.NewRequestID()
		}
		w.Header().Set(RequestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(obs.ContextWithRequestID(r.Context(), id)))
	})
}

// instrument counts and times every request by the route pattern it matched
// (recorded by obs.RecordPattern around the muxes) and its status: bounded
// labels, whatever paths clients ask for.
func instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		metrics.HTTPInFlight.Inc()
		defer metrics.HTTPInFlight.Dec()
		ctx, route := obs.WithRoute(r.Context())
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			// also for a panic, answered 500 by recoverPanics outside
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			if p := recover(); p != nil {
				status = http.StatusInternalServerError
				defer panic(p)
			}
			pattern := route()
			if pattern == "" {
				pattern = "unmatched"
			}
			code := strconv.Itoa(status)
			metrics.HTTPRequests.WithLabelValues(pattern, code).Inc()
			metrics.HTTPDuration.WithLabelValues(pattern, code).Observe(time.Since(start).Seconds())
		}()
		next.ServeHTTP(sw, r.WithContext(ctx))
	})
}
