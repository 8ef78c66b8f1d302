package webhooks_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
	"github.com/acme/crm/internal/webhooks"
)

func TestVerify(t *testing.T) {
	const secret = "whsec_0123456789abcdef"
	body := []byte(`{"id":"evt_1_2","type":"customer.created","at":"2026-03-04T10:00:00Z","data":{}}`)
	sent := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	h := webhooks.Sign(secret, sent, body)
	if !strings.HasPrefix(h, "t=1772618400,v1=") || len(h) != len("t=1772618400,v1=")+64 {
		t.Fatalf("header %q", h)
	}
	for _, c := range []struct {
		name   string
		secret string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"as sent", secret, h, body, sent.Add(2 * time.Second), nil},
		{"4 minutes late", secret, h, body, sent.Add(4 * time.Minute), nil},
		{"replayed 6 minutes later", secret, h, body, sent.Add(6 * time.Minute), webhooks.ErrTimestamp},
		{"from the future", secret, h, body, sent.Add(-6 * time.Minute), webhooks.ErrTimestamp},
		{"body changed", secret, h, []byte(strings.Replace(string(body), "created", "archived", 1)), sent, webhooks.ErrSignature},
		{"other secret", "whsec_somebody_else", h, body, sent, webhooks.ErrSignature},
		{"new timestamp, old signature", secret, strings.Replace(h, "t=1772618400", "t=1772618700", 1), body, sent.Add(5 * time.Minute), webhooks.ErrSignature},
		{"no header", secret, "", body, sent, webhooks.ErrNoSignature},
		{"garbage", secret, "t=x,v1=y", body, sent, webhooks.ErrNoSignature},
	} {
		if err := webhooks.Verify(c.secret, c.header, c.body, c.now, 0); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

// An endpoint that has failed for 24 hours is disabled; a delivery older
// than 24 hours is given up; by default an address on this machine is
// refused when connecting (whatever the URL said).
func TestGiveUpAndDisableAfter24Hours(t *testing.T) {
	db := testdb.Open(t, "sqlite")
	ctx := t.Context()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(503)
	}))
	defer srv.Close()
	clock := time.Now().UTC()
	wh := webhooks.New(db, nil, true)
	wh.Now = func() time.Time { return clock }
	admin := &crm.User{Email: "a@example.com", Name: "A", Role: crm.RoleAdmin, Active: true, PasswordHash: "x", CreatedAt: clock}
	if err := db.CreateUser(ctx, admin); err != nil {
		t.Fatal(err)
	}
	url, events := srv.URL, []string{webhooks.ImportFinished}
	ep, err := wh.Create(ctx, admin, webhooks.Input{URL: &url, Events: &events})
	if err != nil {
		t.Fatal(err)
	}
	emit := func(id string) int64 {
		if err := wh.Emit(ctx, webhooks.Event{ID: id, Type: webhooks.ImportFinished, At: clock, Data: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		ds, err := wh.Deliveries(ctx, admin, ep.ID, 0, 1)
		if err != nil || len(ds) != 1 || ds[0].EventID != id {
			t.Fatalf("deliveries %v %v", ds, err)
		}
		return ds[0].ID
	}
	first := emit("evt_a")
	if err := wh.Deliver(ctx, first); !errors.Is(err, webhooks.ErrRetry) {
		t.Fatalf("a 503: %v", err)
	}
	clock = clock.Add(12 * time.Hour)
	second := emit("evt_b")
	if err := wh.Deliver(ctx, second); !errors.Is(err, webhooks.ErrRetry) {
		t.Fatalf("a 503 after 12 h: %v", err)
	}
	got, _ := wh.Get(ctx, admin, ep.ID)
	if !got.Enabled || got.FailingSince == nil {
		t.Fatalf("after 12 hours of failures: %+v", got)
	}
	clock = clock.Add(12*time.Hour + time.Second)
	if err := wh.Deliver(ctx, first); err != nil { // 24 h old: given up, and the endpoint disabled
		t.Fatalf("after 24 h: %v", err)
	}
	got, _ = wh.Get(ctx, admin, ep.ID)
	if got.Enabled || !strings.Contains(got.DisabledReason, "failed since") {
		t.Fatalf("after 24 hours of failures: %+v", got)
	}
	ds, _ := wh.Deliveries(ctx, admin, ep.ID, 0, 10)
	if ds[1].Status != crm.WebhookFailed || ds[1].Attempts != 2 || ds[1].LastCode != 503 {
		t.Fatalf("the first delivery: %+v", ds[1])
	}
	// the other delivery is not sent to a disabled endpoint
	n := hits.Load()
	if err := wh.Deliver(ctx, second); err != nil || hits.Load() != n {
		t.Fatalf("to a disabled endpoint: %v, %d posts", err, hits.Load()-n)
	}
	// enabled again: a fresh start; private addresses now refused when connecting
	on := true
	if _, err := wh.Update(ctx, admin, ep.ID, webhooks.Input{Enabled: &on}); err != nil {
		t.Fatal(err)
	}
	third := emit("evt_c")
	n = hits.Load()
	strict := webhooks.New(db, nil, false) // as served without CRM_WEBHOOK_ALLOW_PRIVATE
	if err := strict.Deliver(ctx, third); !errors.Is(err, webhooks.ErrRetry) || !strings.Contains(err.Error(), "private address") || hits.Load() != n {
		t.Fatalf("to 127.0.0.1 without CRM_WEBHOOK_ALLOW_PRIVATE: %v", err)
	}
}

// The delivery log keeps ended deliveries (delivered or failed) for Keep
// (30 days), then prunes them with their attempts; a pending delivery stays
// whatever its age, and so do younger ones. Both engines.
func TestPruneKeepsPendingAndRecent(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		now := time.Now().UTC()
		wh := webhooks.New(db, nil, true)
		wh.Now = func() time.Time { return now }
		ep := &crm.WebhookEndpoint{URL: "https://hooks.example.com/crm", Events: []string{"*"}, Secret: "whsec_0123456789abcdef",
			Enabled: true, CreatedAt: now, UpdatedAt: now}
		if err := db.CreateWebhookEndpoint(ctx, ep); err != nil {
			t.Fatal(err)
		}
		old, recent := now.Add(-31*24*time.Hour), now.Add(-29*24*time.Hour)
		made := map[string]*crm.WebhookDelivery{}
		for _, d := range []struct {
			name, status string
			at           time.Time
		}{
			{"old delivered", crm.WebhookDelivered, old}, {"old failed", crm.WebhookFailed, old},
			{"old pending", crm.WebhookPending, old}, {"recent delivered", crm.WebhookDelivered, recent},
		} {
			w := &crm.WebhookDelivery{EndpointID: ep.ID, EventID: "evt_" + strings.ReplaceAll(d.name, " ", "_"), Type: "customer.created",
				Events: 1, Body: `{}`, Status: d.status, CreatedAt: d.at}
			if err := db.AddWebhookDeliveries(ctx, []*crm.WebhookDelivery{w}); err != nil {
				t.Fatal(err)
			}
			if err := db.RecordWebhookAttempt(ctx, crm.WebhookAttempt{DeliveryID: w.ID, At: d.at, Code: 200, Status: d.status}); err != nil {
				t.Fatal(err)
			}
			made[d.name] = w
		}
		n, err := wh.Prune(ctx)
		if err != nil || n != 2 {
			t.Fatalf("pruned %d (%v), want the 2 old ended deliveries", n, err)
		}
		for name, w := range made {
			_, err := db.GetWebhookDelivery(ctx, w.ID)
			gone := strings.HasPrefix(name, "old ") && name != "old pending"
			if gone != errors.Is(err, crm.ErrNotFound) {
				t.Errorf("%s: gone %v, want %v (%v)", name, !gone, gone, err)
			}
		}
		var attempts int
		if err := db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM webhook_attempts`).Scan(&attempts); err != nil || attempts != 2 {
			t.Fatalf("%d attempts left (%v), want those of the 2 deliveries kept", attempts, err)
		}
		if n, err := wh.Prune(ctx); err != nil || n != 0 {
			t.Fatalf("a second prune: %d %v", n, err)
		}
	})
}

// TestEditMeetsTheAutomaticDisable: an admin saves an endpoint's URL again
// and again while a delivery's failure disables it (24 hours of failures),
// 20 rounds: both changes stay, the last URL saved and the disable. Each
// wrote back the whole row it had read, so on PostgreSQL one undid the
// other (the endpoint enabled again unseen, or an old URL restored) in the
// first round of every run before the row was locked.
func TestEditMeetsTheAutomaticDisable(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }))
		defer srv.Close()
		start := time.Now().UTC()
		var clock atomic.Pointer[time.Time]
		clock.Store(&start)
		wh := webhooks.New(db, nil, true)
		wh.Now = func() time.Time { return *clock.Load() }
		admin := &crm.User{Email: "a@example.com", Name: "A", Role: crm.RoleAdmin, Active: true, PasswordHash: "x", CreatedAt: start}
		if err := db.CreateUser(ctx, admin); err != nil {
			t.Fatal(err)
		}
		for round := range 20 {
			now := start.Add(time.Duration(round) * 48 * time.Hour)
			clock.Store(&now)
			url, events := srv.URL, []string{webhooks.ImportFinished}
			ep, err := wh.Create(ctx, admin, webhooks.Input{URL: &url, Events: &events})
			if err != nil {
				t.Fatal(err)
			}
			id := fmt.Sprintf("evt_%d", round)
			if err := wh.Emit(ctx, webhooks.Event{ID: id, Type: webhooks.ImportFinished, At: now, Data: []byte(`{}`)}); err != nil {
				t.Fatal(err)
			}
			ds, err := wh.Deliveries(ctx, admin, ep.ID, 0, 1)
			if err != nil || len(ds) != 1 {
				t.Fatalf("deliveries %v %v", ds, err)
			}
			if err := wh.Deliver(ctx, ds[0].ID); !errors.Is(err, webhooks.ErrRetry) {
				t.Fatalf("a 503: %v", err)
			}
			later := now.Add(24*time.Hour + time.Second)
			clock.Store(&later)
			// the admin saves the URL again and again while the failure
			// disables the endpoint
			var errs [2]error
			var done atomic.Bool
			var last string
			var wg sync.WaitGroup
			wg.Go(func() {
				for i := 0; !done.Load() && errs[1] == nil; i++ {
					u := fmt.Sprintf("%s/v%d", srv.URL, i)
					if _, errs[1] = wh.Update(ctx, admin, ep.ID, webhooks.Input{URL: &u}); errs[1] == nil {
						last = u
					}
				}
			})
			time.Sleep(time.Millisecond)
			errs[0] = wh.Deliver(ctx, ds[0].ID)
			time.Sleep(time.Millisecond)
			done.Store(true)
			wg.Wait()
			if errs[0] != nil || errs[1] != nil {
				t.Fatalf("round %d: %v", round, errs)
			}
			newURL := last
			got, err := wh.Get(ctx, admin, ep.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.URL != newURL || got.Enabled {
				t.Fatalf("round %d: url %s, enabled %v: one change undid the other", round, got.URL, got.Enabled)
			}
		}
	})
}
