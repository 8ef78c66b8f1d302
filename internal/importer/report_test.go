package importer

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"

	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// The error report is opened in spreadsheets: a cell of the file that a
// spreadsheet would run as a formula comes back neutralised, exactly as the
// export writes it, in the header as in the rows.
func TestErrorReportNeutralisesFormulas(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		s := New(db, t.TempDir(), nil)
		u := admin(t, db)
		path := filepath.Join(t.TempDir(), "f.csv")
		content := "first_name,email,=HYPERLINK(\"x\")\n" +
			"=cmd|' /C calc'!A0,not-an-email,+1\n" +
			"@SUM(A1),bad@,-2\n" +
			"\"\tTabbed\",nope,\"\rcr\"\n" +
			"plain,still-bad,ok\n"
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		j, _, err := s.Register(ctx, u, "f.csv", path, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Submit(ctx, u, j.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.Run(ctx, j.ID, nil); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := s.ErrorReport(ctx, u, j.ID, &buf); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		want := [][]string{
			{"row", "error", "first_name", "email", `'=HYPERLINK("x")`},
			{"1", "", `'=cmd|' /C calc'!A0`, "not-an-email", "'+1"},
			{"2", "", "'@SUM(A1)", "bad@", "'-2"},
			{"3", "", "'\tTabbed", "nope", "'\rcr"},
			{"4", "", "plain", "still-bad", "ok"},
		}
		if len(recs) != len(want) {
			t.Fatalf("report %q", recs)
		}
		for i, r := range recs {
			r[1] = want[i][1] // the messages are not what this test is about
			if len(r) != len(want[i]) {
				t.Fatalf("row %d: %q, want %q", i, r, want[i])
			}
			for k := range r {
				if r[k] != want[i][k] {
					t.Fatalf("row %d: %q, want %q", i, r, want[i])
				}
			}
		}
	})
}
