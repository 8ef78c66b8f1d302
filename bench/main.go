// Command bench measures the product on realistic data and prints the
// performance tables of docs/benchmarks.md.
//
//	go run ./bench table [--customers 1000000] [--runs 40] [--sqlite PATH] [--postgres DSN] [--engines sqlite,postgres]
//	go run ./bench companies [--customers 1000000] [--runs 40] [--sqlite PATH] [--postgres DSN] [--engines sqlite,postgres]
//
// "table" times the customer list (GET /api/v1/customers) server-side: the
// real HTTP handler is built in-process, exactly as `crm serve` builds it, and
// every request goes through routing, token authentication, parsing, SQL,
// hydration and JSON encoding; only the network is left out.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
)

const usage = `Usage: go run ./bench <command> [flags]

Commands:
  table      time the customer list API on a large seeded database, per engine
  views      time the sidebar's live counts of 10 pinned saved views (SQLite)
  companies  time the Companies table (list API plus its owners) on the same kind of database

Run "go run ./bench table -h" for the flags of a command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("say which benchmark to run")
	}
	switch args[0] {
	case "table":
		return cmdTable(ctx, args[1:], stdout, stderr)
	case "views":
		return cmdViews(ctx, args[1:], stdout, stderr)
	case "companies":
		return cmdCompanies(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}
