package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/schollz/progressbar/v3"

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
// --resume it continues an import that was interrupted.
func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var file, mode, as string
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
	})
	if err != nil {
		return err
	}
	if (file == "") == (resume == 0) {
		fmt.Fprintln(stderr, "crm import: name a FILE, or --resume ID\n\nUsage: crm import FILE [--mode create|upsert|update] [--map HEADER=TARGET ...] [--as EMAIL] [--db DSN]")
		return errUsage
	}
	db, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	imp := importer.New(db, cfg.DataDir, nil)

	var j *crm.ImportJob
	if resume != 0 {
		if j, err = db.GetImport(ctx, resume); err != nil {
			return err
		}
		if j.Status != crm.ImportRunning && j.Status != crm.ImportQueued {
			return fmt.Errorf("import %d has status %s; only an interrupted import can be resumed", j.ID, j.Status)
		}
	} else {
		actor, err := importActor(ctx, db, as)
		if err != nil {
			return err
		}
		abs, err := filepath.Abs(file)
		if err != nil {
			return err
		}
		st, err := os.Stat(abs)
		if err != nil {
			return err
		}
		j, _, err = imp.Register(ctx, actor, filepath.Base(abs), abs, st.Size())
		if err != nil {
			return err
		}
		for h, t := range mapping {
			j.Mapping[h] = t
		}
		if j, err = imp.SetMapping(ctx, actor, j.ID, j.Mapping, mode); err != nil {
			return err
		}
		if j, err = imp.Submit(ctx, actor, j.ID); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "Import %d: %s (resume with: crm import --resume %d)\n", j.ID, j.Filename, j.ID)
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
		fmt.Fprintf(stdout, "The failed rows are in the error report: GET /api/v1/imports/%d/errors.csv\n", j.ID)
	}
	if j.Status == crm.ImportFailed {
		return errors.New(j.Error)
	}
	return nil
}

func importActor(ctx context.Context, db crm.Store, email string) (*crm.User, error) {
	if email != "" {
		u, err := db.GetUserByEmail(ctx, email)
		if err != nil {
			return nil, fmt.Errorf("--as %s: %w", email, err)
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

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
