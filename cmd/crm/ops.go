package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/acme/crm/internal/config"
	"github.com/acme/crm/internal/metrics"
)

// serveMetrics starts the separate metrics listener of --metrics-addr (none
// when it is empty): /metrics only, no token, so it belongs on a private
// address. The returned function stops it.
func serveMetrics(cfg config.Config, stdout io.Writer, log *slog.Logger) (func(context.Context), error) {
	if cfg.MetricsAddr == "" {
		return func(context.Context) {}, nil
	}
	ln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on --metrics-addr %s: %w", cfg.MetricsAddr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", "err", err)
		}
	}()
	fmt.Fprintf(stdout, "Metrics at http://%s/metrics\n", ln.Addr())
	return func(ctx context.Context) { _ = srv.Shutdown(ctx) }, nil
}
