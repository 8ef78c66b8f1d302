package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/mattn/go-isatty"

	"github.com/acme/crm/internal/config"
	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/exporter"
)

// repeated is a flag that may be given several times.
type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	single := map[string]*string{}
	multi := map[string]*repeated{}
	var out, as, view string
	cfg, _, err := load("export", args, stderr, func(c *config.Config, fs *flag.FlagSet) {
		c.DBFlag(fs)
		for _, k := range []string{"q", "owner", "tag_mode", "segment", "has_inbound", "score_product", "score_min", "score_max",
			"created_from", "created_to", "archived", "sort"} {
			single[k] = fs.String(strings.ReplaceAll(k, "_", "-"), "", "the list's "+k+" filter")
		}
		for _, k := range []string{"tag", "company", "country", "language", "id"} {
			r := &repeated{}
			multi[k] = r
			fs.Var(r, k, "the list's "+k+" filter (repeatable)")
		}
		fs.StringVar(&out, "out", "-", "file to write, - for standard output")
		fs.StringVar(&as, "as", "", "the user the filter's owner=me means (an e-mail)")
		fs.StringVar(&view, "view", "", "export a saved view's customers: its name (or id), among the views of --as and the shared ones")
	})
	if err != nil {
		return err
	}
	db, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	v := url.Values{}
	for k, p := range single {
		if *p != "" {
			v.Set(k, *p)
		}
	}
	for k, r := range multi {
		for _, x := range *r {
			v.Add(k, x)
		}
	}
	actor := &crm.User{}
	if as != "" {
		if actor, err = db.GetUserByEmail(ctx, as); err != nil {
			return fmt.Errorf("--as: no user has the e-mail %s", as)
		}
	} else if v.Get("owner") == "me" {
		return errors.New("--owner me needs --as EMAIL to say who me is")
	}
	svc := customers.New(db)
	var q crm.CustomerQuery
	if view != "" {
		if len(v) > 0 {
			return errors.New("--view exports the view's own filters: give either --view or filter flags")
		}
		if q, err = viewQuery(ctx, svc, actor, view, stderr); err != nil {
			return err
		}
	} else if q, err = svc.ParseQuery(ctx, actor, v); err != nil {
		return fieldLines(err)
	}
	var w io.Writer = stdout
	if out != "-" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	var progress func(int)
	if f, ok := stderr.(*os.File); ok && isatty.IsTerminal(f.Fd()) { // progress only for a person watching
		progress = func(n int) { fmt.Fprintf(stderr, "\rexported %d customers", n) }
	}
	n, err := exporter.Write(ctx, db, q, bw, progress)
	if err == nil {
		err = bw.Flush()
	}
	if progress != nil {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		return err
	}
	if out != "-" {
		fmt.Fprintf(stderr, "Exported %d customers to %s.\n", n, out)
	}
	return nil
}
