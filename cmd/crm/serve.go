package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/acme/crm/internal/accounts"
	"github.com/acme/crm/internal/avatars"
	"github.com/acme/crm/internal/config"
	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/importer"
	"github.com/acme/crm/internal/jobs"
	"github.com/acme/crm/internal/live"
	"github.com/acme/crm/internal/outreach"
	"github.com/acme/crm/internal/replica"
	"github.com/acme/crm/internal/seed"
	"github.com/acme/crm/internal/server"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/webhooks"
)

// demoCustomers is how many customers --demo seeds into an empty database.
const demoCustomers = 5000

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var demo bool
	cfg, _, err := load("serve", args, stderr, func(c *config.Config, fs *flag.FlagSet) {
		c.ServeFlags(fs)
		fs.BoolVar(&demo, "demo", false, fmt.Sprintf("seed %d demo customers and demo users into an empty database", demoCustomers))
	})
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	db, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	reads, err := useReplica(ctx, db, cfg, log)
	if err != nil {
		return err
	}
	db.RegisterMetrics()
	acc := accounts.New(db)

	if demo {
		if err := seedDemo(ctx, db, acc, stdout); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", cfg.Addr, err)
	}
	url := "http://" + ln.Addr().String()
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		url = fmt.Sprintf("http://localhost:%d", tcp.Port) // listening everywhere: show an address a browser can open
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = url
	}
	var mailer outreach.Mailer
	if cfg.SMTPHost != "" {
		mailer = outreach.SMTP{Host: cfg.SMTPHost, Port: cfg.SMTPPort, User: cfg.SMTPUser, Password: cfg.SMTPPassword, TLS: cfg.SMTPTLSMode()}
	}
	out := outreach.New(db, mailer, cfg.SMTPFrom, cfg.BaseURL)
	cs := customers.New(db)
	wh := webhooks.New(db, log, cfg.WebhookAllowPrivate)
	queue, err := jobs.OpenWith(db, out, cs, log, jobs.Options{RescueAfter: cfg.JobRescueAfter, Webhooks: wh})
	if err != nil {
		return err
	}
	imports := importer.New(db, cfg.DataDir, jobs.ImportEnqueuer(queue))
	proxies, err := cfg.TrustedProxyList() // checked by Validate already
	if err != nil {
		return err
	}
	imports.UploadCap = cfg.ImportUploadCap
	hub := live.New(db, live.Options{Pool: db.Pool, MaySee: customers.MaySee, Log: log}) // live updates: LISTEN on PostgreSQL
	handler, err := server.New(server.Deps{Store: db, Accounts: acc, Customers: cs, Outreach: out, Jobs: queue,
		Imports:      imports,
		WebhookToken: cfg.WebhookToken, Log: log, SecureCookie: strings.HasPrefix(cfg.BaseURL, "https://"),
		TrustedProxies: proxies, Avatars: avatarService(cfg, db, log), Reads: reads,
		MetricsToken: cfg.MetricsToken, Ready: db.Ready, Live: hub, Webhooks: wh})
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	srv.RegisterOnShutdown(hub.Shutdown) // live streams end at once: they never go idle by themselves

	bg, stopBG := context.WithCancel(context.Background())
	defer stopBG()
	go server.CleanSessions(bg, db, time.Hour, log)
	if reads != nil {
		go reads.Run(bg) // the replica's health, every second
	}
	go server.CompactSegmentCounts(bg, db.Store, time.Minute, log)
	if err := servePprof(bg, cfg.PprofAddr, stdout, log); err != nil {
		return err
	}
	if err := queue.Start(bg); err != nil {
		return fmt.Errorf("starting background jobs: %w", err)
	}
	go imports.Watch(bg, 20*time.Second, log) // imports whose process died resume by themselves
	go imports.Clean(bg, time.Hour, log)      // files of ended imports and of uploads left a day go
	go wh.Run(bg, time.Second)                // webhook deliveries of the change feed (one process at a time works)

	stopMetrics, err := serveMetrics(cfg, stdout, log)
	if err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "Customers is running at %s  (%s database %s)\n", url, db.Engine(), cfg.RedactedDB())
	if reads != nil {
		fmt.Fprintf(stdout, "Reads of the table, search, drawer and exports go to the replica %s while it is at most %s behind\n", cfg.RedactedDBRead(), cfg.DBReadMaxLag)
	}
	if demo {
		fmt.Fprintf(stdout, "Sign in as %s with the password %s\n", seed.DemoAdminEmail, seed.DemoPassword)
	} else if setup, _ := acc.NeedsSetup(ctx); setup {
		fmt.Fprintf(stdout, "No users yet: open %s/setup to create the first admin.\n", url)
	}

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	stopMetrics(shutdownCtx)
	log.Info("shutting down: running jobs stop after their current chunk and go on at the next start")
	if err := queue.Stop(shutdownCtx); err != nil {
		log.Error("stopping background jobs", "err", err)
	}
	stopBG()
	fmt.Fprintln(stdout, "Stopped.")
	return nil
}

// seedDemo fills an empty database with demo data, once.
func seedDemo(ctx context.Context, db *store.DB, acc *accounts.Service, stdout io.Writer) error {
	page, err := db.FindCustomers(ctx, crm.CustomerQuery{Filter: crm.CustomerFilter{Archived: crm.ArchivedAll}, Limit: 1})
	if err != nil {
		return err
	}
	if page.Total > 0 {
		if _, err := db.GetUserByEmail(ctx, seed.DemoAdminEmail); err != nil {
			return fmt.Errorf("--demo: this database already has customers but no demo admin %s; use an empty database", seed.DemoAdminEmail)
		}
		return nil
	}
	fmt.Fprintf(stdout, "Seeding %d demo customers...\n", demoCustomers)
	stats, err := seed.Run(ctx, db, seed.Options{Customers: demoCustomers, Seed: 1, Now: acc.Now(), HashPassword: acc.HashPassword})
	if err != nil {
		return err
	}
	printStats(stdout, stats)
	return nil
}

// avatarService builds the Gravatar cache of CRM_GRAVATAR / CRM_GRAVATAR_URL
// (validated by config already).
func avatarService(cfg config.Config, db crm.Store, log *slog.Logger) *avatars.Service {
	on, _ := cfg.GravatarOn()
	return avatars.New(db, on, cfg.GravatarURL, log)
}

// useReplica attaches the read replica of --db-read, when one is set.
func useReplica(ctx context.Context, db *store.DB, cfg config.Config, log *slog.Logger) (*replica.Router, error) {
	if cfg.DBRead == "" {
		return nil, nil
	}
	r, err := db.UseReplica(ctx, cfg.DBRead, replica.Options{MaxLag: cfg.DBReadMaxLag, Log: log})
	if err != nil {
		return nil, fmt.Errorf("read replica %s: %w", cfg.RedactedDBRead(), err)
	}
	return r, nil
}
