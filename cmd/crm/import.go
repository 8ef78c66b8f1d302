package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/acme/crm/internal/config"
	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/importer"
)

// mapFlags collects repeated --map header=target flags.
type mapFlags map[string]string

func (m mapFlags) String() string { return "" }
func (m mapFlags) Set(v string) error {
	h, t, ok := strings.Cut(v, "=")
	if !ok || strings.TrimSpace(h) == "" {
		return fmt.Errorf("use --map HEADER=TARGET (TARGET empty to ignore the column)")
	}
	m[strings.TrimSpace(h)] = strings.TrimSpace(t)
	return nil
}

// cmdImport imports a CSV file in this process, through the same importer
// code as the page and the API, with a progress bar on a terminal. With
// --resume it continues an import that was interrupted. The failed rows are
// written to an error report file, which can be fixed and imported again.
//
// A refused command line (no such file, an empty file, an unknown mode,
// column, target or user) writes nothing to the database.
func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var file, mode, as, report string
	var resume int64
	mapping := mapFlags{}
	if len(args) > 0 && !isFlag(args[0]) {
		file, args = args[0], args[1:]
	}
	cfg, _, err := load("import", args, stderr, func(c *config.Config, fs *flag.FlagSet) {
		c.DBFlag(fs)
		fs.StringVar(&mode, "mode", importer.ModeCreate, "create (create only), upsert (create or update, matching the e-mail) or update (update only)")
		fs.Var(mapping, "map", "HEADER=TARGET: map a column (repeatable; TARGET empty ignores it); other columns are mapped by their header")
		fs.StringVar(&as, "as", "", "the e-mail of the user the import runs as (default: the first admin)")
		fs.Int64Var(&resume, "resume", 0, "continue the interrupted import with this id")
		fs.StringVar(&report, "errors", "", "where to write the failed rows as CSV (default: next to FILE, as NAME.errors.csv)")
	})
	if err != nil {
		return err
	}
	if (file == "") == (resume == 0) {
		fmt.Fprintln(stderr, "crm import: name a FILE, or --resume ID\n\nUsage: crm import FILE [--mode create|upsert|update] [--map HEADER=TARGET ...] [--as EMAIL] [--errors FILE] [--db DSN]")
		return errUsage
	}
	if !importer.ValidMode(mode) {
		return fmt.Errorf("--mode: %q is not a mode (use create, upsert or update)", mode)
	}
	var abs string
	var size int64
	if file != "" {
		// the file is checked before the database is opened
		if abs, err = filepath.Abs(file); err != nil {
			return err
		}
		st, err := os.Stat(abs)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("%s: no such file", file)
		case err != nil:
			return fmt.Errorf("%s: %v", file, errors.Unwrap(err))
		case st.IsDir():
			return fmt.Errorf("%s is a folder, not a CSV file", file)
		}
		size = st.Size()
	}
	db, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	imp := importer.New(db, cfg.DataDir, nil)

	var j *crm.ImportJob
	var actor *crm.User
	if resume != 0 {
		if j, err = db.GetImport(ctx, resume); err != nil {
			if errors.Is(err, crm.ErrNotFound) {
				return fmt.Errorf("--resume: no import has the id %d", resume)
			}
			return err
		}
		if j.Status != crm.ImportRunning && j.Status != crm.ImportQueued {
			return fmt.Errorf("import %d has status %s; only an interrupted import can be resumed", j.ID, j.Status)
		}
		if actor, err = db.GetUser(ctx, j.UserID); err != nil {
			return err
		}
		abs = j.Path
	} else {
		if actor, err = importActor(ctx, db, as); err != nil {
			return err
		}
		// registered, mapped and submitted in one transaction: a refusal records nothing
		err = db.InTx(ctx, func(tx crm.Store) error {
			timp := importer.New(tx, cfg.DataDir, nil)
			var format *importer.Format
			j, format, err = timp.Register(ctx, actor, filepath.Base(abs), abs, size)
			if err != nil {
				return err
			}
			if j, err = timp.SetMapping(ctx, actor, j.ID, overlay(format.Columns, j.Mapping, mapping), mode); err != nil {
				return err
			}
			j, err = timp.Submit(ctx, actor, j.ID)
			return err
		})
		if err != nil {
			return importLines(file, err)
		}
		fmt.Fprintf(stderr, "Import %d: %s (resume with: crm import --resume %d)\n", j.ID, j.Filename, j.ID)
	}
	if report == "" {
		report = strings.TrimSuffix(abs, filepath.Ext(abs)) + ".errors.csv"
	}

	var bar *progressbar.ProgressBar
	if f, ok := stderr.(*os.File); ok && isTerminal(f) {
		bar = progressbar.NewOptions64(-1, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("importing"),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("rows"),
			progressbar.OptionThrottle(100_000_000), progressbar.OptionClearOnFinish())
	}
	err = imp.Run(ctx, j.ID, func(p crm.ImportJob) {
		if bar != nil {
			bar.ChangeMax64(p.Total)
			_ = bar.Set64(p.Processed)
		}
	})
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted; the rows imported so far stay: continue with crm import --resume %d", j.ID)
		}
		return err
	}
	if j, err = db.GetImport(ctx, j.ID); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Import %d %s: %d rows: %d created, %d updated, %d skipped, %d failed.\n",
		j.ID, j.Status, j.Processed, j.Created, j.Updated, j.Skipped, j.Failed)
	if j.Error != "" {
		fmt.Fprintf(stdout, "Stopped: %s\n", j.Error)
	}
	if j.Failed > 0 {
		if err := writeErrorReport(ctx, imp, actor, j.ID, report, abs); err != nil {
			fmt.Fprintf(stderr, "crm import: the error report could not be written (%v); it is also at GET /api/v1/imports/%d/errors.csv\n", err, j.ID)
		} else {
			fmt.Fprintf(stdout, "The failed rows are in %s (row, error, then the row as in the file): fix them there and import that file again.\n", report)
		}
	}
	if j.Status == crm.ImportFailed {
		return errors.New(j.Error)
	}
	return nil
}

// overlay lays the --map flags over the automatic mapping. A column mapped
// automatically to a target the flags give another column is ignored, so
// that naming a column on the command line wins over a guess.
func overlay(columns []string, auto, flags map[string]string) map[string]string {
	explicit := map[string]bool{}
	for _, t := range flags {
		if t != "" {
			explicit[t] = true
		}
	}
	m := map[string]string{}
	for _, c := range columns {
		if _, named := flags[c]; !named && explicit[auto[c]] {
			m[c] = ""
		} else {
			m[c] = auto[c]
		}
	}
	for c, t := range flags {
		m[c] = t
	}
	return m
}

// importLines turns a refused import into one line per problem, naming the
// flag or file it concerns.
func importLines(file string, err error) error {
	var fe crm.FieldErrors
	if !errors.As(err, &fe) {
		var e *crm.Error
		if !errors.As(err, &e) {
			return err
		}
		fe = crm.FieldErrors{e}
	}
	lines := make([]string, len(fe))
	for i, e := range fe {
		switch e.Field {
		case "mapping":
			lines[i] = "--map: " + e.Message
		case "mode":
			lines[i] = "--mode: " + e.Message
		case "file", "":
			lines[i] = file + ": " + e.Message
		default:
			lines[i] = e.Error()
		}
	}
	return errors.New(strings.Join(lines, "\n"))
}

// writeErrorReport writes the failed rows of an import to path (never over
// the imported file itself).
func writeErrorReport(ctx context.Context, imp *importer.Service, actor *crm.User, id int64, path, input string) error {
	if filepath.Clean(path) == filepath.Clean(input) {
		return errors.New("--errors names the imported file")
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := imp.ErrorReport(ctx, actor, id, f); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

func importActor(ctx context.Context, db crm.Store, email string) (*crm.User, error) {
	if email != "" {
		u, err := db.GetUserByEmail(ctx, email)
		if errors.Is(err, crm.ErrNotFound) {
			return nil, fmt.Errorf("--as: no user has the e-mail %s", email)
		}
		if err != nil {
			return nil, fmt.Errorf("--as %s: %w", email, err)
		}
		if !u.Active {
			return nil, fmt.Errorf("--as: %s is deactivated", u.Email)
		}
		return u, nil
	}
	users, err := db.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if u.IsAdmin() && u.Active {
			return &u, nil
		}
	}
	return nil, errors.New("no active admin to import as: add one with crm user add, or pass --as EMAIL")
}

// isTerminal reports whether f is a terminal (not merely a character
// device: /dev/null is one too).
func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
