package main

import (
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// firstImport is shaped like a real export: synonyms in the header, a CRLF
// line end, an invalid e-mail, an e-mail twice in the file, accents, and a
// company written in two cases.
const firstImport = "\ufeff\"Given Name\",\"Family Name\",\"E-mail Address\",\"Organization Name\",\"Labels\"\r\n" +
	"Ada,Lovelace, Ada@Example.COM ,Analytical Engines,\"vip; founder\"\r\n" +
	"Bad,Mail,not-an-email,Nowhere Ltd,ghost-tag\r\n" +
	"Ada,Again,ada@example.com,Other Co,dup-tag\r\n" +
	"Zoë,Müller-Lüdenscheid,ZOE@example.de,analytical engines,\"Kunde, VIP\"\r\n" +
	"Émile,Zola,emile@example.fr,,\r\n"

// secondImport changes values; its company and tag columns have headers the
// automatic mapping does not know, so they need --map, and mapping "Firm" to
// the company puts aside the "Company" column the automatic mapping chose.
const secondImport = "Given Name;Family Name;Email;Company;Firm;Stichworte\n" +
	"Ada;King;ada@example.com;Old Co;Babbage & Co;customer\n" +
	"Zoë;Müller;zoe@example.de;Old Co;;vip\n" +
	"Neu;Person;neu@example.com;;New GmbH;new\n"

var escapeCode = regexp.MustCompile("\x1b|\r")

func TestImportCommand(t *testing.T) {
	for _, engine := range testdb.Engines() {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			dsn := testdb.DSN(t, engine)
			dir := t.TempDir()
			if code, _, stderr := runCLI("migrate", "--db", dsn); code != 0 {
				t.Fatalf("migrate: %d %s", code, stderr)
			}
			if code, out, stderr := runCLI("user", "add", "--db", dsn, "--email", "imp@example.com", "--name", "Imma Porter",
				"--role", "member", "--password", "long enough"); code != 0 {
				t.Fatalf("user add: %d %s %s", code, out, stderr)
			}
			first := filepath.Join(dir, "contacts.csv")
			if err := os.WriteFile(first, []byte(firstImport), 0o600); err != nil {
				t.Fatal(err)
			}

			code, out, stderr := runCLI("import", first, "--as", "imp@example.com", "--db", dsn)
			if code != 0 {
				t.Fatalf("import: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
			}
			if !strings.Contains(out, "5 rows: 3 created, 0 updated, 1 skipped, 1 failed.") {
				t.Fatalf("summary: stdout:\n%s\nstderr:\n%s", out, stderr)
			}
			if escapeCode.MatchString(out + stderr) {
				t.Fatalf("terminal control codes in output that is not a terminal:\nstdout %q\nstderr %q", out, stderr)
			}
			report := filepath.Join(dir, "contacts.errors.csv")
			if !strings.Contains(out, report) {
				t.Fatalf("the summary does not say where the error report is (%s):\n%s", report, out)
			}
			rep := readCSV(t, report)
			want := [][]string{
				{"row", "error", "Given Name", "Family Name", "E-mail Address", "Organization Name", "Labels"},
				{"2", `email: "not-an-email" is not an e-mail address.`, "Bad", "Mail", "not-an-email", "Nowhere Ltd", "ghost-tag"},
			}
			if !reflect.DeepEqual(rep, want) {
				t.Fatalf("error report:\n got %q\nwant %q", rep, want)
			}

			db, err := store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			ada := customerByEmail(t, db, "ada@example.com")
			if ada.FirstName != "Ada" || ada.LastName != "Lovelace" || ada.FullName != "Ada Lovelace" || ada.PrimaryEmail != "ada@example.com" ||
				ada.Company == nil || ada.Company.Name != "Analytical Engines" || !sameSet(ada.Tags, "vip", "founder") || ada.Owner != nil {
				t.Fatalf("ada: %+v", ada)
			}
			zoe := customerByEmail(t, db, "zoe@example.de")
			if zoe.FullName != "Zoë Müller-Lüdenscheid" || zoe.PrimaryEmail != "zoe@example.de" || zoe.Company == nil ||
				zoe.Company.ID != ada.Company.ID || !sameSet(zoe.Tags, "Kunde", "vip") {
				t.Fatalf("zoë: %+v (company of ada %+v)", zoe, ada.Company)
			}
			emile := customerByEmail(t, db, "emile@example.fr")
			if emile.FullName != "Émile Zola" || emile.Company != nil || len(emile.Tags) != 0 {
				t.Fatalf("émile: %+v", emile)
			}
			if n := countCustomers(t, db); n != 3 {
				t.Fatalf("%d customers after the first import, want 3", n)
			}
			if _, err := db.FindCompanyByName(ctx, "Nowhere Ltd"); !errors.Is(err, crm.ErrNotFound) {
				t.Fatalf("the failed row's company exists: %v", err)
			}
			if _, err := db.FindCompanyByName(ctx, "Other Co"); !errors.Is(err, crm.ErrNotFound) {
				t.Fatalf("the skipped duplicate's company exists: %v", err)
			}
			if got := tagNames(t, db); !reflect.DeepEqual(got, []string{"founder", "kunde", "vip"}) {
				t.Fatalf("tags %q", got)
			}

			// upsert, with explicit mappings for the columns the automatic mapping ignores
			second := filepath.Join(dir, "changes.csv")
			if err := os.WriteFile(second, []byte(secondImport), 0o600); err != nil {
				t.Fatal(err)
			}
			code, out, stderr = runCLI("import", second, "--mode", "upsert", "--map", "Firm=company_name", "--map", "Stichworte = tags",
				"--as", "imp@example.com", "--db", dsn)
			if code != 0 || !strings.Contains(out, "3 rows: 1 created, 2 updated, 0 skipped, 0 failed.") {
				t.Fatalf("upsert: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
			}
			if strings.Contains(out, "error report") || escapeCode.MatchString(out+stderr) {
				t.Fatalf("upsert without failures:\nstdout %q\nstderr %q", out, stderr)
			}
			if _, err := os.Stat(filepath.Join(dir, "changes.errors.csv")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("an error report without failed rows: %v", err)
			}
			ada2 := customerByEmail(t, db, "ada@example.com")
			if ada2.ID != ada.ID || ada2.LastName != "King" || ada2.FullName != "Ada King" || ada2.Company == nil ||
				ada2.Company.Name != "Babbage & Co" || !sameSet(ada2.Tags, "vip", "founder", "customer") {
				t.Fatalf("ada after upsert: %+v", ada2)
			}
			zoe2 := customerByEmail(t, db, "zoe@example.de")
			if zoe2.ID != zoe.ID || zoe2.FullName != "Zoë Müller" || zoe2.Company == nil || zoe2.Company.ID != zoe.Company.ID ||
				!sameSet(zoe2.Tags, "Kunde", "vip") {
				t.Fatalf("zoë after upsert: %+v", zoe2)
			}
			if _, err := db.FindCompanyByName(ctx, "Old Co"); !errors.Is(err, crm.ErrNotFound) {
				t.Fatalf("the column put aside by --map was imported: %v", err)
			}
			neu := customerByEmail(t, db, "neu@example.com")
			if neu.FullName != "Neu Person" || neu.Company == nil || neu.Company.Name != "New GmbH" || !sameSet(neu.Tags, "new") {
				t.Fatalf("new customer: %+v", neu)
			}
			if n := countCustomers(t, db); n != 4 {
				t.Fatalf("%d customers after the upsert, want 4", n)
			}

			// update only: a row matching nobody is skipped
			third := filepath.Join(dir, "update.csv")
			if err := os.WriteFile(third, []byte("email,country\nemile@example.fr,fr\nnobody@example.com,DE\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			// through real files, as when the output is redirected: still no progress bar
			code, out, stderr = runFiles(t, "import", third, "--mode", "update", "--as", "imp@example.com", "--db", dsn)
			if escapeCode.MatchString(out + stderr) {
				t.Fatalf("terminal control codes in files:\nstdout %q\nstderr %q", out, stderr)
			}
			if code != 0 || !strings.Contains(out, "2 rows: 0 created, 1 updated, 1 skipped, 0 failed.") {
				t.Fatalf("update: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
			}
			if c := customerByEmail(t, db, "emile@example.fr"); c.Country != "FR" || c.FullName != "Émile Zola" {
				t.Fatalf("émile after update: %+v", c)
			}
			if n := countCustomers(t, db); n != 4 {
				t.Fatalf("%d customers after the update, want 4", n)
			}

			// bad input: one line on stderr naming the problem, nothing written
			empty := filepath.Join(dir, "empty.csv")
			if err := os.WriteFile(empty, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			imports := countImports(t, db)
			for _, c := range []struct {
				name string
				args []string
				want string
			}{
				{"missing file", []string{filepath.Join(dir, "nope.csv")}, "nope.csv: no such file"},
				{"empty file", []string{empty}, "empty.csv: The file is empty."},
				{"unknown mode", []string{first, "--mode", "merge"}, `--mode: "merge" is not a mode`},
				{"unknown target", []string{first, "--map", "Labels=colour"}, `--map: "colour" is not something a column can be imported into`},
				{"unknown column", []string{first, "--map", "Colour=tags"}, `--map: The file has no column "Colour".`},
				{"unknown user", []string{first, "--as", "ghost@example.com"}, "no user has the e-mail ghost@example.com"},
				{"no file", []string{"--as", "imp@example.com"}, "FILE"},
			} {
				args := append([]string{"import"}, c.args...)
				if !strings.Contains(strings.Join(c.args, " "), "--as") {
					args = append(args, "--as", "imp@example.com")
				}
				args = append(args, "--db", dsn)
				code, out, stderr := runCLI(args...)
				line := strings.TrimSpace(stderr)
				if code == 0 || out != "" || !strings.Contains(line, c.want) {
					t.Errorf("%s: exit %d, stdout %q, stderr %q; want a failure naming %q", c.name, code, out, stderr, c.want)
				} else if c.name != "no file" && strings.Contains(line, "\n") {
					t.Errorf("%s: more than one line on stderr:\n%s", c.name, stderr)
				}
			}
			if n := countImports(t, db); n != imports {
				t.Errorf("the refused imports were recorded: %d imports, want %d", n, imports)
			}
			if n := countCustomers(t, db); n != 4 {
				t.Errorf("%d customers after the refused imports, want 4", n)
			}
		})
	}
}

// runFiles runs the command line with stdout and stderr going to files.
func runFiles(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	dir := t.TempDir()
	out, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	errOut, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer errOut.Close()
	code := run(context.Background(), args, out, errOut)
	o, _ := os.ReadFile(out.Name())
	e, _ := os.ReadFile(errOut.Name())
	return code, string(o), string(e)
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("error report: %v", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("error report %s: %v", path, err)
	}
	return rows
}

func customerByEmail(t *testing.T, db crm.Store, email string) *crm.Customer {
	t.Helper()
	m, err := db.ImportMatches(context.Background(), []string{email})
	if err != nil {
		t.Fatal(err)
	}
	id, ok := m[email]
	if !ok {
		t.Fatalf("no customer has the e-mail %s", email)
	}
	c, err := db.GetCustomer(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func countCustomers(t *testing.T, db crm.Store) int {
	t.Helper()
	p, err := db.FindCustomers(context.Background(), crm.CustomerQuery{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	return p.Total
}

func countImports(t *testing.T, db crm.Store) int {
	t.Helper()
	js, err := db.ListImports(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(js)
}

func tagNames(t *testing.T, db crm.Store) []string {
	t.Helper()
	ts, err := db.ListTags(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, x := range ts {
		out = append(out, strings.ToLower(x.Name))
	}
	sort.Strings(out)
	return out
}

// sameSet compares tag names case-insensitively, in any order.
func sameSet(got []string, want ...string) bool {
	if len(got) != len(want) {
		return false
	}
	g := make([]string, len(got))
	for i, s := range got {
		g[i] = strings.ToLower(s)
	}
	w := make([]string, len(want))
	for i, s := range want {
		w[i] = strings.ToLower(s)
	}
	sort.Strings(g)
	sort.Strings(w)
	return reflect.DeepEqual(g, w)
}

// The CLI's NAME.errors.csv neutralises the cells a spreadsheet would run as
// formulas, as the export does.
func TestImportCommandErrorReportIsSafe(t *testing.T) {
	for _, engine := range testdb.Engines() {
		t.Run(engine, func(t *testing.T) {
			dsn := testdb.DSN(t, engine)
			dir := t.TempDir()
			if code, out, stderr := runCLI("user", "add", "--db", dsn, "--email", "imp@example.com", "--name", "Imma Porter",
				"--role", "admin", "--password", "long enough"); code != 0 {
				t.Fatalf("user add: %d %s %s", code, out, stderr)
			}
			file := filepath.Join(dir, "evil.csv")
			if err := os.WriteFile(file, []byte("first_name,email\n=cmd|' /C calc'!A0,@bad\n-2,+1\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if code, out, stderr := runCLI("import", file, "--db", dsn); code != 0 || !strings.Contains(out, "2 failed") {
				t.Fatalf("import: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
			}
			rep := readCSV(t, filepath.Join(dir, "evil.errors.csv"))
			if len(rep) != 3 || rep[1][2] != "'=cmd|' /C calc'!A0" || rep[1][3] != "'@bad" || rep[2][2] != "'-2" || rep[2][3] != "'+1" {
				t.Fatalf("error report %q", rep)
			}
		})
	}
}
