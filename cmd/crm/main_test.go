package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

func runCLI(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestUnknownFlagPrintsUsage(t *testing.T) {
	code, _, stderr := runCLI("serve", "--no-such-flag")
	if code != 2 || !strings.Contains(stderr, "flag provided but not defined: -no-such-flag") || !strings.Contains(stderr, "-addr") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	code, _, stderr = runCLI("frobnicate")
	if code != 2 || !strings.Contains(stderr, `unknown command "frobnicate"`) || !strings.Contains(stderr, "Usage:") {
		t.Fatalf("unknown command: exit %d\n%s", code, stderr)
	}
}

func TestBadDatabaseIsOneLine(t *testing.T) {
	// a file path whose folder cannot exist (a file is in the way)
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	if code, _, _ := runCLI("migrate", "--db", blocker); code != 0 {
		t.Fatalf("migrate a new file: exit %d", code)
	}
	code, _, stderr := runCLI("migrate", "--db", filepath.Join(blocker, "sub", "crm.db"))
	if code != 1 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, filepath.Join(blocker, "sub")) {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runCLI("migrate", "--db", "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if code != 1 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, "PostgreSQL") {
		t.Fatalf("unreachable postgres: exit %d, stderr %q", code, stderr)
	}
}

func TestInvalidConfigOneLinePerProblem(t *testing.T) {
	code, _, stderr := runCLI("serve", "--addr", "nonsense", "--log-level", "loud", "--db", filepath.Join(t.TempDir(), "x.db"))
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if code != 1 || len(lines) != 2 || !strings.Contains(stderr, "addr") || !strings.Contains(stderr, "log-level") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
}

func TestUserAddAndTokenCreate(t *testing.T) {
	for _, engine := range testdb.Engines() {
		t.Run(engine, func(t *testing.T) {
			dsn := testdb.DSN(t, engine)
			code, out, stderr := runCLI("user", "add", "--db", dsn, "--email", "Ops@Example.com", "--name", "Ops", "--role", "admin", "--password", "long enough")
			if code != 0 || !strings.Contains(out, "ops@example.com") {
				t.Fatalf("user add: %d %s %s", code, out, stderr)
			}
			code, _, stderr = runCLI("user", "add", "--db", dsn, "--email", "ops@example.com", "--name", "Again", "--password", "long enough")
			if code != 1 || !strings.Contains(stderr, "already exists") {
				t.Fatalf("duplicate user: %d %s", code, stderr)
			}
			code, out, stderr = runCLI("token", "create", "--db", dsn, "--email", "ops@example.com")
			tok := strings.TrimSpace(out)
			if code != 0 || !strings.HasPrefix(tok, "crm_") || strings.Contains(tok, "\n") {
				t.Fatalf("token create: %d %q %s", code, out, stderr)
			}
			db, err := store.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if n, _ := db.CountUsers(context.Background()); n != 1 {
				t.Fatalf("users %d", n)
			}
			code, _, stderr = runCLI("token", "create", "--db", dsn, "--email", "ghost@example.com")
			if code != 1 || !strings.Contains(stderr, "no user has the e-mail ghost@example.com") {
				t.Fatalf("unknown user: %d %s", code, stderr)
			}
		})
	}
}

func TestExportCommand(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "crm.db")
	if code, _, stderr := runCLI("seed", "--db", dsn, "--customers", "300"); code != 0 {
		t.Fatalf("seed: %s", stderr)
	}
	out := filepath.Join(t.TempDir(), "de.csv")
	code, _, stderr := runCLI("export", "--db", dsn, "--country", "DE", "--archived", "all", "--out", out)
	if code != 0 || !strings.Contains(stderr, "Exported") {
		t.Fatalf("export: %d %s", code, stderr)
	}
	b, _ := os.ReadFile(out)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if !strings.HasPrefix(lines[0], "\ufefffirst_name,last_name,email,linkedin_url,company_name,tags,segment_id,owner_email,id,full_name") || len(lines) < 10 {
		t.Fatalf("%d lines, header %q", len(lines), lines[0])
	}
	if code, _, stderr := runCLI("export", "--db", dsn, "--country", "XX"); code != 1 || !strings.Contains(stderr, "not a country") {
		t.Fatalf("bad filter: %d %s", code, stderr)
	}
	if code, _, stderr := runCLI("export", "--db", dsn, "--owner", "me"); code != 1 || !strings.Contains(stderr, "--as") {
		t.Fatalf("owner=me without --as: %d %s", code, stderr)
	}
}
