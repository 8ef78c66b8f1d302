package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/store"
)

// crm export --view NAME exports the view's slice: the same rows as the
// same filters typed as flags; a personal view needs --as its owner.
func TestExportView(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "crm.db")
	if code, _, stderr := runCLI("seed", "--db", dsn, "--customers", "300"); code != 0 {
		t.Fatalf("seed: %s", stderr)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	users, _ := db.ListUsers(ctx)
	me := &users[0]
	svc := customers.New(db)
	name, q, shared := "French ones", "country=FR&archived=all&sort=name", false
	if _, err := svc.CreateView(ctx, me, customers.ViewInput{Name: &name, Query: &q, Shared: &shared}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	read := func(args ...string) []string {
		t.Helper()
		out := filepath.Join(t.TempDir(), "x.csv")
		code, _, stderr := runCLI(append([]string{"export", "--db", dsn, "--out", out}, args...)...)
		if code != 0 {
			t.Fatalf("export %v: %d %s", args, code, stderr)
		}
		b, _ := os.ReadFile(out)
		return strings.Split(strings.TrimSpace(string(b)), "\n")
	}
	byView := read("--view", "french ONES", "--as", me.Email)
	byFlags := read("--country", "FR", "--archived", "all", "--sort", "name")
	if len(byView) < 3 || strings.Join(byView, "\n") != strings.Join(byFlags, "\n") {
		t.Fatalf("the view exported %d lines, the flags %d", len(byView), len(byFlags))
	}
	if code, _, stderr := runCLI("export", "--db", dsn, "--view", "French ones"); code != 1 || !strings.Contains(stderr, "--as") {
		t.Fatalf("a personal view without --as: %d %s", code, stderr)
	}
	if code, _, stderr := runCLI("export", "--db", dsn, "--view", "French ones", "--as", me.Email, "--country", "DE"); code != 1 || !strings.Contains(stderr, "either --view or filter") {
		t.Fatalf("--view with filters: %d %s", code, stderr)
	}
}
