package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/acme/crm/internal/config"
	"github.com/acme/crm/internal/store"
)

// cmdBackup writes a consistent copy of the database while it keeps
// serving: crm backup --out FILE [--db DSN].
func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var out string
	cfg, fs, err := load("backup", args, stderr, func(c *config.Config, fs *flag.FlagSet) {
		c.DBFlag(fs)
		fs.StringVar(&out, "out", "", "the backup file to write (required); SQLite: a database file, PostgreSQL: a pg_dump archive")
	})
	if err != nil {
		return err
	}
	if strings.TrimSpace(out) == "" {
		fmt.Fprintln(stderr, "crm backup: --out FILE is required")
		fs.Usage()
		return errUsage
	}
	start := time.Now()
	if err := store.Backup(ctx, cfg.DB, out); err != nil {
		return err
	}
	size := int64(0)
	if st, err := os.Stat(out); err == nil {
		size = st.Size()
	}
	fmt.Fprintf(stdout, "Backed up the %s database %s to %s (%s, %s).\n", engineOf(cfg.DB), cfg.RedactedDB(), out, bytesText(size),
		time.Since(start).Round(time.Millisecond))
	return nil
}

// cmdRestore loads a backup into an empty database: crm restore FILE --db DSN.
func cmdRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var file string
	if len(args) > 0 && !isFlag(args[0]) {
		file, args = args[0], args[1:]
	}
	cfg, fs, err := loadArgs("restore", args, stderr, (*config.Config).DBFlag)
	if err != nil {
		return err
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	} else if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "crm restore: unexpected argument %q\n", fs.Arg(0))
		return errUsage
	}
	dbGiven := os.Getenv("CRM_DB") != ""
	fs.Visit(func(f *flag.Flag) { dbGiven = dbGiven || f.Name == "db" })
	if file == "" || !dbGiven {
		fmt.Fprintln(stderr, "crm restore: say which backup and which database: crm restore FILE --db DSN (an empty database)")
		fs.Usage()
		return errUsage
	}
	start := time.Now()
	if err := store.Restore(ctx, file, cfg.DB); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Restored %s into the %s database %s and brought its schema up to date (%s).\n", file, engineOf(cfg.DB),
		cfg.RedactedDB(), time.Since(start).Round(time.Millisecond))
	return nil
}

// loadArgs is load for a command that takes positional arguments.
func loadArgs(name string, args []string, stderr io.Writer, register func(*config.Config, *flag.FlagSet)) (config.Config, *flag.FlagSet, error) {
	fs := flags(name, stderr)
	cfg, err := config.Load(fs, register, args)
	if errors.Is(err, config.ErrUsage) {
		return cfg, fs, errUsage
	}
	return cfg, fs, err
}

func engineOf(dsn string) string {
	if store.IsPostgres(dsn) {
		return "postgres"
	}
	return "sqlite"
}

func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
