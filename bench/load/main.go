// Command load puts a running Customers server (or one it starts) under the
// load of many people using it, and prints what they met: requests per second
// and p50/p95/p99 latency per kind of request, and every error.
//
//	go run ./bench/load --url http://127.0.0.1:8080 [--url http://...]   # a running server (several: round-robin)
//	go run ./bench/load --db DSN [--instances 2]                          # builds and starts crm serve itself
//
// Modes:
//
//	--mode users        N simulated people (--users, default 200), each waiting a
//	                    random think time (exponential, mean --think, default 1 s)
//	                    between requests, for --duration (default 60 s): about 60 %
//	                    table pages with random filters and sorts, 15 % searches,
//	                    15 % customer drawers, 10 % writes (claim/unclaim, tag, note).
//	--mode saturation   --clients (default 50) callers with no think time for
//	                    --duration (default 30 s), --mix list (table pages) or
//	                    --mix search (searches).
//	--mode sparse       only the sparse check (below).
//
// After users or saturation (unless --sparse=false) comes the sparse check: a
// search and a table page called back to back, then each after 3 s of idle
// (median of --sparse-runs, default 10), printed as a ratio.
//
// It signs in like a person: the sign-in form with the demo users' e-mail
// addresses (--email, repeatable; default every active demo user) and
// password (--password, default the demo password). Reads are the HTML pages
// a browser asks for (the table, /crm/customers?..., and the drawer,
// /crm/customers/ID?fragment=drawer); writes go to the JSON API with the
// session cookie and the page's CSRF token, exactly as the pages' scripts
// send them. A response other than 2xx/3xx, or a transport error, is an
// error; a sample of each kind of error is printed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

type options struct {
	urls       []string
	db         string
	instances  int
	serverArgs []string
	mode       string
	mix        string
	users      int
	clients    int
	duration   time.Duration
	think      time.Duration
	emails     []string
	password   string
	sparse     bool
	sparseRuns int
	sparseIdle time.Duration
	seed       int64
	profile    string
	label      string
	keepAlive  bool
	trace      string
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o options
	var urls, emails, serverArgs listFlag
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(&urls, "url", "base URL of a running server; repeat for several instances (requests go round-robin)")
	fs.StringVar(&o.db, "db", "", "start crm serve on this database (file path, sqlite:PATH or postgres://...) instead of --url")
	fs.IntVar(&o.instances, "instances", 1, "with --db: how many crm serve processes to start (round-robin across them)")
	fs.Var(&serverArgs, "server-arg", "with --db: one more argument for crm serve (repeatable)")
	fs.StringVar(&o.mode, "mode", "users", "users, saturation or sparse")
	fs.StringVar(&o.mix, "mix", "list", "saturation mix: list (table pages), search, or first (the table's first page alone, no filter: the floor)")
	fs.IntVar(&o.users, "users", 200, "users mode: simulated people")
	fs.IntVar(&o.clients, "clients", 50, "saturation mode: callers with no think time")
	fs.DurationVar(&o.duration, "duration", 0, "how long to run (default 60s for users, 30s for saturation)")
	fs.DurationVar(&o.think, "think", time.Second, "users mode: mean think time between a person's requests (exponential)")
	fs.Var(&emails, "email", "sign in as this user (repeatable); default every active demo user")
	fs.StringVar(&o.password, "password", "demo-password", "the users' password")
	fs.BoolVar(&o.sparse, "sparse", true, "after the run, compare calls after idle with calls back to back")
	fs.IntVar(&o.sparseRuns, "sparse-runs", 10, "sparse check: calls per measurement (the median is printed)")
	fs.DurationVar(&o.sparseIdle, "sparse-idle", 3*time.Second, "sparse check: the idle time before each idle call")
	fs.Int64Var(&o.seed, "seed", 1, "random seed of the simulated people's choices")
	fs.StringVar(&o.profile, "profile", "", "with --db: write a CPU profile of each server during the run to PREFIX-N.prof (starts the servers with --pprof-addr)")
	fs.StringVar(&o.label, "label", "", "a label printed with the results")
	fs.StringVar(&o.trace, "trace", "", "write each request of the run to this file: kind, ms, status, path (tab-separated)")
	fs.BoolVar(&o.keepAlive, "keep-alive", true, "reuse connections, as browsers do (false: a new connection per request)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.urls, o.emails, o.serverArgs = urls, emails, serverArgs
	switch o.mode {
	case "users":
		if o.duration == 0 {
			o.duration = 60 * time.Second
		}
	case "saturation":
		if o.duration == 0 {
			o.duration = 30 * time.Second
		}
		if o.mix != "list" && o.mix != "search" && o.mix != "first" {
			return fmt.Errorf("--mix is list, search or first, not %q", o.mix)
		}
	case "sparse":
		o.sparse = true
	default:
		return fmt.Errorf("--mode is users, saturation or sparse, not %q", o.mode)
	}
	if (len(o.urls) == 0) == (o.db == "") {
		return errors.New("give either --url (one or more) or --db")
	}
	if o.profile != "" && o.db == "" {
		return errors.New("--profile needs --db (the command starts the servers with a profiler listener)")
	}

	var servers []*server
	if o.db != "" {
		var err error
		servers, err = startServers(ctx, o, stderr)
		defer stopServers(servers, stderr)
		if err != nil {
			return err
		}
		for _, s := range servers {
			o.urls = append(o.urls, s.url)
		}
	}
	for i, u := range o.urls {
		o.urls[i] = strings.TrimRight(u, "/")
	}
	return runLoad(ctx, o, servers, stdout, stderr)
}
