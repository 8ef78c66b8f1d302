package postgres_test

import (
	"strings"
	"testing"

	"github.com/acme/crm/internal/store/postgres"
	"github.com/acme/crm/internal/store/sqlstore"
	"github.com/acme/crm/internal/testdb"
)

// The possible-duplicates page reads a range of customers by primary key
// and reaches everything else through indexes (the other holders of a value
// by an index-only scan of contacts_shared): on a table of 60,000
// customers with statistics, no table is read whole.
func TestDuplicatePairsPlanUsesIndexes(t *testing.T) {
	s, err := postgres.Open(t.Context(), testdb.DSN(t, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db := s.DB()
	for _, q := range []string{
		`INSERT INTO customers (full_name, name_key, created_at, updated_at, archived_at)
		 SELECT 'C ' || i, 'c ' || i, now(), now(), CASE WHEN i % 50 = 0 THEN now() END FROM generate_series(1, 60000) i`,
		`INSERT INTO contacts (customer_id, channel, value, is_primary, created_at)
		 SELECT i, 'email', 'p' || (CASE WHEN i % 100 = 0 THEN i / 2 ELSE i END) || '@example.com', true, now() FROM generate_series(1, 60000) i`,
		`INSERT INTO contacts (customer_id, channel, value, is_primary, created_at)
		 SELECT i, 'phone', '+49' || (3000000000 + i), true, now() FROM generate_series(1, 60000, 3) i`,
		`INSERT INTO not_duplicates (customer_a, customer_b, at) SELECT i, i + 1, now() FROM generate_series(1, 59999, 4) i`,
		`VACUUM ANALYZE`, // what autovacuum does as a table grows
	} {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := db.QueryContext(t.Context(), "EXPLAIN "+sqlstore.DuplicatePairsSQL, 30000, 32048, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	text := strings.Join(plan, "\n")
	t.Log(text)
	if strings.Contains(text, "Seq Scan") {
		t.Error("the plan reads a table whole")
	}
	if !strings.Contains(text, "Index Only Scan using contacts_shared on contacts k2") {
		t.Error("the other holders of a value are not read from contacts_shared alone")
	}
}
