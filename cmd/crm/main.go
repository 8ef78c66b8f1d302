// Command crm is the Customers module of the CRM: one binary that serves the
// product and runs its maintenance commands. Wiring only: flags and config ->
// open store -> build services -> run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

const usage = `crm: the Customers module of the CRM.

Usage:
  crm [serve] [--addr HOST:PORT] [--db DSN] [--demo]   serve the product (the default)
  crm migrate [--db DSN]                                bring the schema up to date
  crm seed --customers N [--seed S] [--db DSN]          add realistic demo data
  crm user add --email E --name N --role admin|member --password P [--db DSN]
  crm token create --email E [--name NAME] [--db DSN]   print a new API token on stdout
  crm import FILE [--mode create|upsert|update] [--map HEADER=TARGET ...] [--as EMAIL] [--errors FILE] [--resume ID]
  crm export [--country DE --tag vip ... (the list's filters)] [--out FILE] [--as EMAIL]
                                                        customers and contacts as CSV
  crm backup --out FILE [--db DSN]                      a consistent copy while the server runs
  crm restore FILE --db DSN                             a backup into an empty database

DSN is a file path, sqlite:PATH or postgres://...; the default is ./data/crm.db.
Every command brings the schema up to date itself. Run "crm COMMAND -h" for its flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// CRM_CPUPROFILE=FILE writes a CPU profile of the whole run (the
	// benchmarks set it; the profile is complete when the command ends cleanly).
	if path := os.Getenv("CRM_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			_ = pprof.StartCPUProfile(f) // the file is closed by the exit
		}
	}
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	pprof.StopCPUProfile()
	os.Exit(code)
}

// errUsage means the command line was wrong; usage has been printed.
var errUsage = errors.New("usage")

// run dispatches to a subcommand and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd, rest := "serve", args
	if len(args) > 0 && !isFlag(args[0]) {
		cmd, rest = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = cmdServe(ctx, rest, stdout, stderr)
	case "migrate":
		err = cmdMigrate(ctx, rest, stdout, stderr)
	case "seed":
		err = cmdSeed(ctx, rest, stdout, stderr)
	case "export":
		err = cmdExport(ctx, rest, stdout, stderr)
	case "user":
		err = sub(ctx, "user", rest, stdout, stderr, map[string]command{"add": cmdUserAdd})
	case "token":
		err = sub(ctx, "token", rest, stdout, stderr, map[string]command{"create": cmdTokenCreate})
	case "import":
		err = cmdImport(ctx, rest, stdout, stderr)
	case "backup":
		err = cmdBackup(ctx, rest, stdout, stderr)
	case "restore":
		err = cmdRestore(ctx, rest, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "crm: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintf(stderr, "crm %s: %v\n", cmd, err)
	return 1
}

type command func(ctx context.Context, args []string, stdout, stderr io.Writer) error

func sub(ctx context.Context, name string, args []string, stdout, stderr io.Writer, cmds map[string]command) error {
	if len(args) == 0 || cmds[args[0]] == nil {
		fmt.Fprintf(stderr, "crm %s: say which: ", name)
		for k := range cmds {
			fmt.Fprintf(stderr, "crm %s %s ", name, k)
		}
		fmt.Fprintf(stderr, "\n\n%s", usage)
		return errUsage
	}
	return cmds[args[0]](ctx, args[1:], stdout, stderr)
}

func isFlag(s string) bool { return len(s) > 0 && s[0] == '-' }

// flags returns a FlagSet that prints its usage on stderr and reports errors to the caller.
func flags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("crm "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}
