package sqlite_test

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/acme/crm/internal/store/sqlite"
	"github.com/acme/crm/internal/store/sqlstore"
)

// The possible-duplicates page walks a range of customers by primary key
// and reaches everything else through indexes (the other holders of a value
// from the index alone): no table is scanned whole, so a page costs what
// its range of customers holds, at 1M customers too.
func TestDuplicatePairsPlanUsesIndexes(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "crm.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.DB().QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+sqlstore.DuplicatePairsSQL, 1, 2049, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	text := strings.Join(plan, "\n")
	t.Log(text)
	for _, want := range []string{
		"SEARCH k1 USING INDEX contacts_unique_value (customer_id=? AND channel=?)",
		"SEARCH k2 USING COVERING INDEX contacts_shared (channel=? AND value=? AND customer_id>?)",
		"SEARCH c2 USING INTEGER PRIMARY KEY (rowid=?)",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the plan lacks %q", want)
		}
	}
	if !regexp.MustCompile(`SEARCH c1 USING .*\((row)?id>\? AND (row)?id<\?\)`).MatchString(text) {
		t.Error("the plan does not read the customers of a range of ids")
	}
	for _, line := range plan {
		if strings.HasPrefix(line, "SCAN ") {
			t.Errorf("the plan scans a table whole: %q", line)
		}
	}
}
