package webhooks_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/testdb"
	"github.com/acme/crm/internal/webhooks"
)

// Several dispatchers (several processes) at once while changes are
// written: every change becomes exactly one event of the endpoint's
// deliveries, none twice, none lost.
func TestDispatchersTogetherMakeEachEventOnce(t *testing.T) {
	for _, engine := range testdb.Engines() {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			db := testdb.Open(t, engine)
			ctx := t.Context()
			admin := &crm.User{Email: "a@example.com", Name: "A", Role: crm.RoleAdmin, Active: true, PasswordHash: "x", CreatedAt: time.Now()}
			if err := db.CreateUser(ctx, admin); err != nil {
				t.Fatal(err)
			}
			var ds []*webhooks.Service
			for range 3 {
				ds = append(ds, webhooks.New(db, nil, true)) // no Enqueue: deliveries stay in the table
			}
			url, events := "http://127.0.0.1:9/x", []string{webhooks.CustomerTagged}
			ep, err := ds[0].Create(ctx, admin, webhooks.Input{URL: &url, Events: &events})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ds[0].Dispatch(ctx); err != nil { // the position starts now
				t.Fatal(err)
			}
			var ids []int64
			for i := range 20 {
				id, err := db.CreateCustomer(ctx, crm.NewCustomer{FullName: fmt.Sprintf("C%d", i), CreatedAt: time.Now()})
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
			}
			const rounds = 30
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for _, d := range ds {
				wg.Go(func() {
					for {
						if _, err := d.Dispatch(ctx); err != nil {
							t.Error(err)
							return
						}
						select {
						case <-stop:
							return
						default:
						}
					}
				})
			}
			for r := range rounds {
				data, _ := json.Marshal(map[string]any{"tag": fmt.Sprintf("t%d", r)})
				if err := db.AddActivityFor(ctx, ids[:1+r%len(ids)], crm.Activity{Kind: crm.ActTagAdded, Data: data, At: time.Now()}); err != nil {
					t.Fatal(err)
				}
			}
			want := 0
			for r := range rounds {
				want += 1 + r%len(ids)
			}
			count := func() map[string]int {
				seen := map[string]int{}
				list, err := db.ListWebhookDeliveries(ctx, ep.ID, 0, 200)
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range list {
					var b struct {
						ID   string
						Type string
						Data struct {
							Events []struct{ ID string }
						}
					}
					if err := json.Unmarshal([]byte(d.Body), &b); err != nil {
						t.Fatal(err)
					}
					if b.Type != webhooks.Batch {
						seen[b.ID]++
					}
					for _, e := range b.Data.Events {
						seen[e.ID]++
					}
				}
				return seen
			}
			var seen map[string]int
			for end := time.Now().Add(3 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
				if seen = count(); len(seen) >= want || time.Now().After(end) {
					break
				}
			}
			close(stop)
			wg.Wait()
			seen = count()
			if len(seen) != want {
				t.Fatalf("%d events made, want %d", len(seen), want)
			}
			for id, n := range seen {
				if n != 1 {
					t.Fatalf("event %s made %d times", id, n)
				}
			}
		})
	}
}
