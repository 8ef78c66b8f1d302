package storetest

import (
	"database/sql"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
)

// AddressSuppressionMigration checks migration 00008 on a database the
// engine's test migrated up to 00007 (db): contact-level suppressions and
// their history are written as that schema held them, then open migrates the
// rest and returns the store. Each suppressed address keeps its latest
// suppression (a removed contact's included), shown on every contact holding
// it, and the history moves to the address with the contact it was made on.
func AddressSuppressionMigration(t *testing.T, db *sql.DB, open func() crm.Store) {
	t.Helper()
	exec := func(q string, args ...any) int64 {
		t.Helper()
		var id int64
		if err := db.QueryRowContext(ctx, q+` RETURNING id`, args...).Scan(&id); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return id
	}
	t1 := t0.Add(time.Hour)
	u := exec(`INSERT INTO users (email, name, role, created_at, updated_at) VALUES ('m@example.com', 'Mo', 'member', $1, $1)`, t0)
	var cs [3]int64
	for i := range cs {
		cs[i] = exec(`INSERT INTO customers (full_name, name_key, created_at, updated_at) VALUES ('C', 'c', $1, $1)`, t0)
	}
	contact := func(customer int64, value, reason, note string, by any, at any, removed any) int64 {
		var r any
		if reason != "" {
			r = reason
		}
		return exec(`INSERT INTO contacts (customer_id, channel, value, is_primary, suppressed_reason, suppressed_note, suppressed_by, suppressed_at, created_at, removed_at)
			VALUES ($1, 'email', $2, false, $3, $4, $5, $6, $7, $8)`, customer, value, r, note, by, at, t0, removed)
	}
	event := func(contact int64, action, reason, note string, by any, at time.Time) {
		exec(`INSERT INTO suppression_events (contact_id, action, reason, note, user_id, at) VALUES ($1, $2, $3, $4, $5, $6)`, contact, action, reason, note, by, at)
	}
	k1 := contact(cs[0], "dup@example.com", "unsubscribe", "asked", u, t0, nil)
	event(k1, "suppress", "unsubscribe", "asked", u, t0)
	k2 := contact(cs[1], "dup@example.com", "bounce", "", nil, t1, nil)
	event(k2, "suppress", "bounce", "", nil, t1)
	k3 := contact(cs[2], "gone@example.com", "manual", "by phone", u, t0, t1)
	event(k3, "suppress", "manual", "by phone", u, t0)
	k4 := contact(cs[2], "fine@example.com", "", "", nil, nil, nil)
	event(k4, "suppress", "complaint", "", nil, t0)
	event(k4, "unsuppress", "", "a mistake", u, t1)

	s := open()
	for _, k := range []int64{k1, k2} {
		got, err := s.GetContact(ctx, k)
		if err != nil || got.Suppression == nil || got.Suppression.Reason != crm.ReasonBounce || !got.Suppression.At.Equal(t1) {
			t.Fatalf("contact %d after the migration: %+v %v", k, got, err)
		}
	}
	if got, _ := s.GetContact(ctx, k4); got.Suppression != nil {
		t.Fatalf("fine@ shows %+v", got.Suppression)
	}
	sup, err := s.Suppression(ctx, crm.ChannelEmail, "gone@example.com")
	if err != nil || sup == nil || sup.Reason != crm.ReasonManual || sup.Note != "by phone" || sup.By == nil || sup.By.ID != u {
		t.Fatalf("a removed contact's suppression: %+v %v", sup, err)
	}
	again := &crm.Contact{CustomerID: cs[0], Channel: crm.ChannelEmail, Value: "gone@example.com"}
	must(t, s.AddContact(ctx, again, t1))
	if got, _ := s.GetContact(ctx, again.ID); got.Suppression == nil || got.Suppression.Reason != crm.ReasonManual {
		t.Fatalf("re-added after the migration: %+v", got.Suppression)
	}
	hist, err := s.ListSuppressionEvents(ctx, crm.ChannelEmail, "dup@example.com")
	if err != nil || len(hist) != 2 || hist[0].ContactID != k1 || hist[1].ContactID != k2 || hist[0].By == nil || hist[0].By.ID != u {
		t.Fatalf("history of dup@: %+v %v", hist, err)
	}
	if hist, _ := s.ListSuppressionEvents(ctx, crm.ChannelEmail, "fine@example.com"); len(hist) != 2 || hist[1].Action != "unsuppress" {
		t.Fatalf("history of fine@: %+v", hist)
	}
}
