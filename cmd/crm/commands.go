package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/acme/crm/internal/accounts"
	"github.com/acme/crm/internal/config"
	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/obs"
	"github.com/acme/crm/internal/seed"
	"github.com/acme/crm/internal/store"
)

// load parses a command's flags into the configuration.
func load(name string, args []string, stderr io.Writer, register func(*config.Config, *flag.FlagSet)) (config.Config, *flag.FlagSet, error) {
	fs := flags(name, stderr)
	cfg, err := config.Load(fs, register, args)
	if errors.Is(err, config.ErrUsage) {
		return cfg, fs, errUsage
	}
	if err != nil {
		return cfg, fs, err // -h, or invalid values: one line per problem
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "crm %s: unexpected argument %q\n", name, fs.Arg(0))
		fs.Usage()
		return cfg, fs, errUsage
	}
	return cfg, fs, nil
}

// open opens and migrates the configured database.
func open(ctx context.Context, cfg config.Config) (*store.DB, error) {
	return store.Open(ctx, cfg.DB)
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, _, err := load("migrate", args, stderr, (*config.Config).DBFlag)
	if err != nil {
		return err
	}
	db, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	fmt.Fprintf(stdout, "The %s database %s is up to date.\n", db.Engine(), cfg.RedactedDB())
	return nil
}

func cmdSeed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var customers int
	var seedN int64
	cfg, _, err := load("seed", args, stderr, func(c *config.Config, fs *flag.FlagSet) {
		c.DBFlag(fs)
		fs.IntVar(&customers, "customers", 1000, "how many customers to create")
		fs.Int64Var(&seedN, "seed", 1, "random seed: the same seed gives the same data")
	})
	if err != nil {
		return err
	}
	if customers < 0 || customers > 50_000_000 {
		return fmt.Errorf("--customers must be between 0 and 50,000,000")
	}
	db, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	acc := accounts.New(db)
	stats, err := seed.Run(ctx, db, seed.Options{Customers: customers, Seed: seedN, Now: acc.Now(), HashPassword: acc.HashPassword, Progress: stdout})
	if err != nil {
		return err
	}
	printStats(stdout, stats)
	return nil
}

func printStats(w io.Writer, s seed.Stats) {
	fmt.Fprintf(w, "Seeded in %s: %d customers, %d contacts (%d addresses suppressed), %d companies, %d users, %d tags, %d segments, "+
		"%d products, %d custom fields, %d messages, %d deals, %d notes, %d tasks, %d activity entries.\n",
		s.Elapsed.Round(1e7), s.Customers, s.Contacts, s.Suppressed, s.Companies, s.Users, s.Tags, s.Segments,
		s.Products, s.CustomFields, s.Messages, s.Deals, s.Notes, s.Tasks, s.Activity)
}

func cmdUserAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var email, name, role, password string
	cfg, fs, err := load("user add", args, stderr, func(c *config.Config, fs *flag.FlagSet) {
		c.DBFlag(fs)
		fs.StringVar(&email, "email", "", "e-mail address (required)")
		fs.StringVar(&name, "name", "", "full name (required)")
		fs.StringVar(&role, "role", "member", "admin or member")
		fs.StringVar(&password, "password", "", "password, at least 8 characters (required)")
	})
	if err != nil {
		return err
	}
	_ = fs
	db, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := accounts.New(db).CreateUser(ctx, nil, accounts.NewUser{Email: email, Name: name, Role: crm.Role(role), Password: password})
	if err != nil {
		return fieldLines(err)
	}
	fmt.Fprintf(stdout, "Added %s %s <%s> (id %d).\n", u.Role, u.Name, u.Email, u.ID)
	return nil
}

func cmdTokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var email, name string
	cfg, _, err := load("token create", args, stderr, func(c *config.Config, fs *flag.FlagSet) {
		c.DBFlag(fs)
		fs.StringVar(&email, "email", "", "the user the token acts as (required)")
		fs.StringVar(&name, "name", "command line", "a name to recognise the token by")
	})
	if err != nil {
		return err
	}
	if strings.TrimSpace(email) == "" {
		return errors.New("--email is required")
	}
	db, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	acc := accounts.New(db)
	u, err := db.GetUserByEmail(ctx, email)
	if err != nil {
		if errors.Is(err, crm.ErrNotFound) {
			return fmt.Errorf("no user has the e-mail %s", email)
		}
		return err
	}
	plain, _, err := acc.CreateToken(ctx, nil, u.ID, name)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, plain)
	return nil
}

// fieldLines turns field errors into one line per field.
func fieldLines(err error) error {
	var fe crm.FieldErrors
	if errors.As(err, &fe) {
		lines := make([]string, len(fe))
		for i, e := range fe {
			lines[i] = "--" + e.Field + ": " + e.Message
		}
		return errors.New(strings.Join(lines, "\n"))
	}
	return err
}

// newLogger builds the logger of the configuration (validated already):
// text or JSON lines, each logged with a request's context carrying its id.
func newLogger(w io.Writer, level, format string) *slog.Logger {
	log, err := obs.NewLogger(w, level, format)
	if err != nil {
		log, _ = obs.NewLogger(w, "info", obs.FormatText)
		log.Warn("invalid log settings", "err", err)
	}
	return log
}
