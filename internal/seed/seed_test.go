package seed

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

var testNow = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)

func cheapHash(plain string) (string, error) { return "x:" + plain, nil }

func openSQLite(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "crm.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openPostgres is a fresh database on the CRM_TEST_POSTGRES server, dropped when the test ends.
func openPostgres(t testing.TB) *store.DB { return testdb.Open(t, "postgres") }

func run(t testing.TB, db *store.DB, seed int64, n int) Stats {
	t.Helper()
	var out strings.Builder
	st, err := Run(context.Background(), db, Options{Customers: n, Seed: seed, Now: testNow, HashPassword: cheapHash, Progress: &out})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	if !strings.Contains(out.String(), "seeded") {
		t.Errorf("no progress output: %q", out.String())
	}
	return st
}

// digest hashes the customers and contacts as both engines return them.
func digest(t testing.TB, db *store.DB) string {
	t.Helper()
	h := sha256.New()
	rows, err := db.SQL.Query(`SELECT id, full_name, primary_email, primary_phone, country, created_at, updated_at FROM customers ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var name, email, phone, country string
		var created, updated time.Time
		if err := rows.Scan(&id, &name, &email, &phone, &country, &created, &updated); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%d|%s|%s|%s|%s|%s|%s\n", id, name, email, phone, country, created.UTC().Format(time.RFC3339Nano), updated.UTC().Format(time.RFC3339Nano))
	}
	rows.Close()
	rows, err = db.SQL.Query(`SELECT k.id, k.customer_id, k.channel, k.value, k.is_primary, COALESCE(sp.reason, '')
		FROM contacts k LEFT JOIN suppressions sp ON sp.channel = k.channel AND sp.value = k.value ORDER BY k.id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id, cid int64
		var ch, v, reason string
		var primary bool
		if err := rows.Scan(&id, &cid, &ch, &v, &primary, &reason); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%d|%d|%s|%s|%v|%s\n", id, cid, ch, v, primary, reason)
	}
	rows.Close()
	return hex.EncodeToString(h.Sum(nil))
}

func TestDeterministic(t *testing.T) {
	a, b, c := openSQLite(t), openSQLite(t), openSQLite(t)
	sa := run(t, a, 42, 1500)
	sb := run(t, b, 42, 1500)
	run(t, c, 43, 1500)
	da, db, dc := digest(t, a), digest(t, b), digest(t, c)
	if da != db {
		t.Errorf("same seed, different data: %s vs %s", da, db)
	}
	if da == dc {
		t.Errorf("different seeds, same data")
	}
	sa.Elapsed, sb.Elapsed = 0, 0
	if sa != sb {
		t.Errorf("same seed, different stats: %+v vs %+v", sa, sb)
	}
}

func TestInvariantsSQLite(t *testing.T) {
	db := openSQLite(t)
	checkInvariants(t, db, run(t, db, 7, 2000))
	for p, want := range map[string]int{"foreign_keys": 1, "synchronous": 1, "ignore_check_constraints": 0, "cache_size": -16384} { // the writer's pragmas (store/sqlite)
		if got := count(t, db, `PRAGMA `+p); got != want {
			t.Errorf("PRAGMA %s = %d after seeding, want %d", p, got, want)
		}
	}
	rows, err := db.SQL.Query(`PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if rows.Next() {
		t.Errorf("foreign key violations after seeding")
	}
}

func TestInvariantsPostgres(t *testing.T) {
	db := openPostgres(t)
	st := run(t, db, 7, 2000)
	// the same data as on SQLite
	lite := openSQLite(t)
	run(t, lite, 7, 2000)
	if a, b := digest(t, db), digest(t, lite); a != b {
		t.Errorf("PostgreSQL and SQLite got different data from the same seed")
	}
	checkInvariants(t, db, st)
}

func count(t testing.TB, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.SQL.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func checkInvariants(t *testing.T, db *store.DB, st Stats) {
	ctx := context.Background()
	t.Logf("stats: %+v", st)

	// counts match the stats
	for table, want := range map[string]int{
		"customers": st.Customers, "contacts": st.Contacts, "messages": st.Messages, "deals": st.Deals,
		"notes": st.Notes, "tasks": st.Tasks, "activity": st.Activity, "companies": st.Companies, "users": st.Users,
		"tags": st.Tags, "segments": st.Segments, "products": st.Products, "custom_fields": st.CustomFields,
	} {
		if got := count(t, db, `SELECT count(*) FROM `+table); got != want {
			t.Errorf("%s: %d rows, stats say %d", table, got, want)
		}
	}
	if st.Customers != 2000 || st.Users != 10 || st.Companies != 100 || st.Products != 3 || st.CustomFields != 7 {
		t.Errorf("unexpected stats %+v", st)
	}
	if got := count(t, db, `SELECT count(*) FROM suppressions`); got != st.Suppressed || got == 0 {
		t.Errorf("suppressed addresses: %d, stats %d", got, st.Suppressed)
	}
	if n := count(t, db, `SELECT count(*) FROM suppressions sp WHERE NOT EXISTS (
		SELECT 1 FROM contacts k WHERE k.channel = sp.channel AND k.value = sp.value)`); n != 0 {
		t.Errorf("%d suppressed addresses no contact holds", n)
	}
	if n := count(t, db, `SELECT count(*) FROM users WHERE role = 'admin'`); n != 2 {
		t.Errorf("%d admins, want 2", n)
	}
	admin, err := db.GetUserByEmail(ctx, DemoAdminEmail)
	if err != nil || admin.Role != crm.RoleAdmin || !admin.Active || admin.PasswordHash != "x:"+DemoPassword {
		t.Errorf("demo admin: %+v %v", admin, err)
	}

	// the segments' kept member counts (migration 00023) are the live ones,
	// one row per segment, as the table's Segment filter reads them
	if n := count(t, db, `SELECT count(*) FROM segments sg WHERE
		(SELECT COALESCE(sum(k.members), 0) FROM segment_counts k WHERE k.segment_id = sg.id) <>
		(SELECT count(*) FROM segment_members m WHERE m.segment_id = sg.id)
		OR (SELECT COALESCE(sum(k.active), 0) FROM segment_counts k WHERE k.segment_id = sg.id) <>
		(SELECT count(*) FROM segment_members m JOIN customers c ON c.id = m.customer_id
		 WHERE m.segment_id = sg.id AND c.archived_at IS NULL)`); n != 0 {
		t.Errorf("%d segments' kept member counts differ from a live count", n)
	}
	if n, segs := count(t, db, `SELECT count(*) FROM segment_counts`), count(t, db, `SELECT count(DISTINCT segment_id) FROM segment_members`); n != segs || n == 0 {
		t.Errorf("%d rows of segment counts for %d segments with members: the seed should leave one each", n, segs)
	}

	// the companies' match keys are computed, so that the first visit of
	// the company duplicates does not compute them all
	if n := count(t, db, `SELECT count(*) FROM companies WHERE match_name IS NULL OR match_domain IS NULL`); n != 0 {
		t.Errorf("%d companies without their match keys", n)
	}

	// every reference points at a row (the seed writes without foreign key checks)
	for _, fk := range []string{
		"customers.company_id companies", "customers.owner_id users", "contacts.customer_id customers",
		"suppressions.user_id users", "suppression_events.contact_id contacts", "suppression_events.user_id users",
		"customer_tags.customer_id customers", "customer_tags.tag_id tags", "segment_members.segment_id segments",
		"segment_members.customer_id customers", "customer_scores.customer_id customers", "customer_scores.product_id products",
		"custom_values.customer_id customers", "custom_values.field_id custom_fields", "messages.customer_id customers",
		"messages.contact_id contacts", "messages.user_id users", "deals.customer_id customers", "deals.author_id users",
		"notes.customer_id customers", "notes.author_id users", "tasks.customer_id customers", "tasks.author_id users",
		"activity.customer_id customers", "activity.user_id users",
	} {
		child, parent, _ := strings.Cut(fk, " ")
		table, col, _ := strings.Cut(child, ".")
		if n := count(t, db, `SELECT count(*) FROM `+table+` c WHERE c.`+col+` IS NOT NULL
			AND NOT EXISTS (SELECT 1 FROM `+parent+` p WHERE p.id = c.`+col+`)`); n != 0 {
			t.Errorf("%d rows of %s point at no %s", n, child, parent)
		}
	}

	// primary e-mail and phone are the primary contacts
	for _, ch := range []string{"email", "phone"} {
		col := "primary_" + ch
		if n := count(t, db, `SELECT count(*) FROM customers c WHERE c.`+col+` <> COALESCE((SELECT k.value FROM contacts k
			WHERE k.customer_id = c.id AND k.channel = $1 AND k.is_primary AND k.removed_at IS NULL), '')`, ch); n != 0 {
			t.Errorf("%d customers whose %s is not their primary %s contact", n, col, ch)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM customers WHERE primary_email = ''`); n != 0 {
		t.Errorf("%d customers without an e-mail", n)
	}
	if n := count(t, db, `SELECT count(*) FROM (SELECT customer_id, channel FROM contacts WHERE is_primary
		GROUP BY customer_id, channel HAVING count(*) > 1) x`); n != 0 {
		t.Errorf("%d customer channels with several primaries", n)
	}
	if n := count(t, db, `SELECT count(*) FROM (SELECT customer_id, channel FROM contacts
		GROUP BY customer_id, channel HAVING sum(CASE WHEN is_primary THEN 1 ELSE 0 END) = 0) x`); n != 0 {
		t.Errorf("%d customer channels without a primary", n)
	}
	// some e-mails are shared between customers (merge candidates), most are not
	shared := count(t, db, `SELECT count(*) FROM (SELECT value FROM contacts WHERE channel = 'email' GROUP BY value HAVING count(*) > 1) x`)
	if shared == 0 || shared > 100 {
		t.Errorf("%d shared e-mail addresses", shared)
	}

	// contact values are normalised
	rows, err := db.SQL.Query(`SELECT channel, value FROM contacts`)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for rows.Next() {
		var ch, v string
		if err := rows.Scan(&ch, &v); err != nil {
			t.Fatal(err)
		}
		seen[ch]++
		if got, err := crm.NormalizeContact(crm.Channel(ch), v, ""); err != nil || got != v {
			t.Errorf("%s contact %q normalises to %q, %v", ch, v, got, err)
		}
	}
	rows.Close()
	for _, ch := range crm.Channels {
		if seen[string(ch)] == 0 {
			t.Errorf("no %s contacts", ch)
		}
	}

	// has_inbound exactly for customers with an inbound message
	if n := count(t, db, `SELECT count(*) FROM customers c WHERE c.has_inbound <>
		EXISTS (SELECT 1 FROM messages m WHERE m.customer_id = c.id AND m.direction = 'inbound')`); n != 0 {
		t.Errorf("%d customers with a wrong has_inbound", n)
	}
	if n := count(t, db, `SELECT count(*) FROM customers WHERE has_inbound`); n == 0 {
		t.Errorf("no customer has inbound messages")
	}
	if n := count(t, db, `SELECT count(*) FROM messages m JOIN contacts k ON k.id = m.contact_id
		WHERE k.customer_id <> m.customer_id OR k.value <> m.address OR k.channel <> m.channel
		   OR m.status <> CASE m.direction WHEN 'inbound' THEN 'received' ELSE 'sent' END`); n != 0 {
		t.Errorf("%d messages inconsistent with their contact", n)
	}
	if n := count(t, db, `SELECT count(*) FROM messages m JOIN suppressions sp ON sp.channel = m.channel AND sp.value = m.address
		WHERE m.direction = 'outbound' AND m.at > sp.at`); n != 0 {
		t.Errorf("%d outbound messages after the address was suppressed", n)
	}

	// an address's suppression state matches the last event of its history
	if n := count(t, db, `SELECT count(*) FROM suppressions sp WHERE NOT EXISTS (
		SELECT 1 FROM suppression_events e WHERE e.channel = sp.channel AND e.value = sp.value AND e.action = 'suppress' AND e.reason = sp.reason
		AND e.at = sp.at AND e.id = (SELECT max(id) FROM suppression_events WHERE channel = sp.channel AND value = sp.value))`); n != 0 {
		t.Errorf("%d suppressed addresses without a matching last event", n)
	}
	if n := count(t, db, `SELECT count(*) FROM suppression_events e WHERE e.action = 'suppress'
		AND e.id = (SELECT max(id) FROM suppression_events WHERE channel = e.channel AND value = e.value)
		AND NOT EXISTS (SELECT 1 FROM suppressions sp WHERE sp.channel = e.channel AND sp.value = e.value)`); n != 0 {
		t.Errorf("%d unsuppressed addresses whose last event is a suppress", n)
	}
	if n := count(t, db, `SELECT count(*) FROM suppression_events e JOIN contacts k ON k.id = e.contact_id
		WHERE k.channel <> e.channel OR k.value <> e.value`); n != 0 {
		t.Errorf("%d events of an address their contact does not hold", n)
	}
	if n := count(t, db, `SELECT count(*) FROM suppression_events WHERE action = 'unsuppress'`); n == 0 {
		t.Errorf("no unsuppress in the history")
	}
	if a, b := count(t, db, `SELECT count(*) FROM suppression_events`),
		count(t, db, `SELECT count(*) FROM activity WHERE kind IN ('suppressed', 'unsuppressed')`); a != b {
		t.Errorf("%d suppression events but %d activity entries", a, b)
	}

	// activity: one created entry per customer, at its creation, first; ids in time order
	if n := count(t, db, `SELECT count(*) FROM customers c WHERE (SELECT count(*) FROM activity a
		WHERE a.customer_id = c.id AND a.kind = 'created' AND a.at = c.created_at AND a.data = '{"source":"seed"}') <> 1`); n != 0 {
		t.Errorf("%d customers without exactly one created entry", n)
	}
	if n := count(t, db, `SELECT count(*) FROM activity a JOIN activity b ON a.customer_id = b.customer_id AND a.id < b.id AND a.at > b.at`); n != 0 {
		t.Errorf("%d activity pairs out of time order", n)
	}
	// activity data is JSON with what the customers service writes for each kind
	want := map[string][]string{
		crm.ActCreated: {"source"}, crm.ActSuppressed: {"channel", "value", "reason", "note"},
		crm.ActUnsuppressed: {"channel", "value", "was", "note"}, crm.ActMessage: {"direction", "subject"},
		crm.ActNoteAdded: {"excerpt"}, crm.ActDealAdded: {"title", "amount", "currency"}, crm.ActTaskAdded: {"title", "due"},
		crm.ActArchived: {},
	}
	arows, err := db.SQL.Query(`SELECT kind, data FROM activity`)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for arows.Next() {
		var kind, data string
		if err := arows.Scan(&kind, &data); err != nil {
			t.Fatal(err)
		}
		kinds[kind]++
		var d map[string]any
		if err := json.Unmarshal([]byte(data), &d); err != nil {
			t.Errorf("%s activity data %s: %v", kind, data, err)
			continue
		}
		keys, ok := want[kind]
		if !ok {
			t.Errorf("unexpected activity kind %s", kind)
		}
		for _, k := range keys {
			if _, ok := d[k]; !ok {
				t.Errorf("%s activity data %s lacks %s", kind, data, k)
			}
		}
	}
	arows.Close()
	if len(kinds) != len(want) {
		t.Errorf("activity kinds %v", kinds)
	}
	if a, b := count(t, db, `SELECT count(*) FROM messages`), count(t, db, `SELECT count(*) FROM activity WHERE kind = 'message'`); a != b {
		t.Errorf("%d messages but %d message entries", a, b)
	}
	if n := count(t, db, `SELECT count(*) FROM customers WHERE updated_at < created_at OR archived_at < created_at
		OR created_at >= $1 OR created_at < $2`, testNow, testNow.AddDate(-2, 0, 0)); n != 0 {
		t.Errorf("%d customers with inconsistent times", n)
	}
	archived := count(t, db, `SELECT count(*) FROM customers WHERE archived_at IS NOT NULL`)
	owned := count(t, db, `SELECT count(*) FROM customers WHERE owner_id IS NOT NULL`)
	withCompany := count(t, db, `SELECT count(*) FROM customers WHERE company_id IS NOT NULL`)
	if archived < 20 || archived > 120 || owned < 1000 || owned > 1400 || withCompany < 1500 {
		t.Errorf("archived %d, owned %d, with company %d of 2000", archived, owned, withCompany)
	}

	// custom values are valid for their field type
	vrows, err := db.SQL.Query(`SELECT f.type, f.options, v.value FROM custom_values v JOIN custom_fields f ON f.id = v.field_id`)
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]int{}
	for vrows.Next() {
		var typ, opts, v string
		if err := vrows.Scan(&typ, &opts, &v); err != nil {
			t.Fatal(err)
		}
		types[typ]++
		if err := validValue(typ, opts, v); err != nil {
			t.Errorf("%s value %s: %v", typ, v, err)
		}
	}
	vrows.Close()
	if len(types) != 7 {
		t.Errorf("values of types %v", types)
	}
	for _, q := range []string{`SELECT count(*) FROM customer_tags`, `SELECT count(*) FROM segment_members`,
		`SELECT count(*) FROM customer_scores`, `SELECT count(*) FROM activity WHERE kind = 'archived'`} {
		if count(t, db, q) == 0 {
			t.Errorf("%s: none", q)
		}
	}

	// the store reads what the seed wrote and carries on from its ids
	page, err := db.FindCustomers(ctx, crm.CustomerQuery{Limit: 10})
	if err != nil || len(page.Items) != 10 {
		t.Fatalf("find customers: %v", err)
	}
	c, err := db.GetCustomer(ctx, page.Items[0].ID)
	if err != nil || len(c.Contacts) == 0 || c.PrimaryEmail == "" {
		t.Fatalf("get customer: %+v %v", c, err)
	}
	id, err := db.CreateCustomer(ctx, crm.NewCustomer{FullName: "After Seed", CreatedAt: testNow})
	if err != nil || id != 2001 {
		t.Fatalf("create customer after seeding: id %d, %v", id, err)
	}
	k := &crm.Contact{CustomerID: id, Channel: crm.ChannelEmail, Value: "after@example.com"}
	if err := db.AddContact(ctx, k, testNow); err != nil || k.ID != int64(st.Contacts+1) {
		t.Fatalf("add contact after seeding: %+v %v", k, err)
	}
	a := &crm.Activity{CustomerID: id, Kind: crm.ActCreated, At: testNow}
	if err := db.AddActivity(ctx, a); err != nil || a.ID != int64(st.Activity+1) {
		t.Fatalf("add activity after seeding: %+v %v", a, err)
	}

	// never twice
	if _, err := Run(ctx, db, Options{Customers: 10, Seed: 1, HashPassword: cheapHash}); err == nil {
		t.Errorf("seeding a database with customers succeeded")
	}
}

func validValue(typ, opts, v string) error {
	var options []string
	if err := json.Unmarshal([]byte(opts), &options); err != nil {
		return err
	}
	in := func(s string) bool {
		for _, o := range options {
			if o == s {
				return true
			}
		}
		return false
	}
	var x any
	if err := json.Unmarshal([]byte(v), &x); err != nil {
		return err
	}
	switch typ {
	case "text":
		if _, ok := x.(string); !ok {
			return fmt.Errorf("not a string")
		}
	case "number":
		if _, ok := x.(float64); !ok {
			return fmt.Errorf("not a number")
		}
	case "date":
		s, _ := x.(string)
		if _, err := time.Parse("2006-01-02", s); err != nil {
			return err
		}
	case "boolean":
		if _, ok := x.(bool); !ok {
			return fmt.Errorf("not a boolean")
		}
	case "select":
		if s, _ := x.(string); !in(s) {
			return fmt.Errorf("not an option")
		}
	case "multiselect":
		l, ok := x.([]any)
		if !ok || len(l) == 0 {
			return fmt.Errorf("not a list")
		}
		for _, e := range l {
			if s, _ := e.(string); !in(s) {
				return fmt.Errorf("%v is not an option", e)
			}
		}
	case "url":
		s, _ := x.(string)
		if u, err := url.Parse(s); err != nil || u.Scheme != "https" || u.Host == "" {
			return fmt.Errorf("not a URL")
		}
	default:
		return fmt.Errorf("unknown type")
	}
	return nil
}

// TestPhones checks every number plan against libphonenumber: each generated
// number must be valid (not only possible) and already in E.164.
func TestPhones(t *testing.T) {
	g := newGenerator(1, 1, testNow, ids{})
	for i := range locales {
		loc := &locales[i]
		bad := 0
		for k := 0; k < 3000; k++ {
			p := g.phone(loc)
			got, err := crm.NormalizePhone(p, "")
			num, perr := phonenumbers.Parse(p, "")
			if err != nil || got != p || perr != nil || !phonenumbers.IsValidNumber(num) ||
				phonenumbers.GetRegionCodeForNumber(num) != loc.country {
				if bad++; bad <= 3 {
					t.Errorf("%s: %s is not a valid number of the country (%q, %v)", loc.country, p, got, err)
				}
			}
		}
	}
}

// TestPools checks the fixed data: slugs, e-mail shapes and catalog sizes.
func TestPools(t *testing.T) {
	for _, l := range locales {
		for _, n := range append(append([]name{}, l.first...), l.last...) {
			if n.slug == "" {
				t.Errorf("%s: empty slug for %q", l.country, n.s)
			}
			if _, err := crm.NormalizeEmail(n.slug + "." + n.slug + ".1@" + l.mail[0]); err != nil {
				t.Errorf("%s: %v", l.country, err)
			}
		}
		for _, tz := range l.tzs {
			if _, err := time.LoadLocation(tz); err != nil {
				t.Errorf("%s: %v", l.country, err)
			}
		}
	}
	if len(tagNames) < 20 || len(segmentNames) != 8 {
		t.Errorf("%d tags, %d segments", len(tagNames), len(segmentNames))
	}
	g := newGenerator(1, 1, testNow, ids{company: 1})
	cs := g.makeCompanies(50_000, map[string]bool{})
	names, domains := map[string]bool{}, map[string]bool{}
	for _, c := range cs {
		k := strings.ToLower(c.name)
		if names[k] || domains[c.domain] {
			t.Fatalf("duplicate company %q / %q", c.name, c.domain)
		}
		names[k], domains[c.domain] = true, true
	}
}

func TestRefusesBadOptions(t *testing.T) {
	db := openSQLite(t)
	if _, err := Run(context.Background(), db, Options{Customers: 1}); err == nil {
		t.Errorf("no HashPassword accepted")
	}
	if _, err := Run(context.Background(), db, Options{Customers: -1, HashPassword: cheapHash}); err == nil {
		t.Errorf("negative count accepted")
	}
}

func TestNoCustomers(t *testing.T) {
	db := openSQLite(t)
	st := run(t, db, 1, 0)
	if st.Users != 10 || st.Products != 3 || st.Tags != len(tagNames) || st.Customers != 0 || st.Companies != 0 {
		t.Errorf("stats %+v", st)
	}
	// and customers can still be seeded afterwards, reusing users and catalogs
	st = run(t, db, 1, 50)
	if st.Users != 0 || st.Products != 0 || st.Tags != 0 || st.Segments != 0 || st.CustomFields != 0 || st.Customers != 50 {
		t.Errorf("second run stats %+v", st)
	}
}

// TestExistingUsers: demo users that exist are kept, the others created.
func TestExistingUsers(t *testing.T) {
	db := openSQLite(t)
	u := &crm.User{Email: DemoAdminEmail, Name: "Existing Admin", Role: crm.RoleAdmin, Active: true, PasswordHash: "keep", CreatedAt: testNow}
	if err := db.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	co := &crm.Company{Name: "Existing Company", CreatedAt: testNow}
	if err := db.CreateCompany(context.Background(), co); err != nil {
		t.Fatal(err)
	}
	st := run(t, db, 1, 100)
	if st.Users != 9 || st.Companies != 5 {
		t.Errorf("created %d users and %d companies, want 9 and 5", st.Users, st.Companies)
	}
	got, err := db.GetUserByEmail(context.Background(), DemoAdminEmail)
	if err != nil || got.PasswordHash != "keep" || got.Name != "Existing Admin" {
		t.Errorf("existing admin changed: %+v %v", got, err)
	}
	var n int
	if err := db.SQL.QueryRow(`SELECT count(*) FROM customers`).Scan(&n); err != nil || n != 100 {
		t.Errorf("%d customers, %v", n, err)
	}
}
