package main

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/jobs"
	"github.com/acme/crm/internal/outreach"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/webhooks"
)

// withWebhook registers a webhook endpoint (a receiver in this process,
// subscribed to every event) and runs what `crm serve` runs for it while
// the bulk actions are timed: the dispatcher reading the change feed every
// second and River's workers posting the deliveries.
var withWebhook bool

// webhookBench is the running webhook machinery of a benchmark.
type webhookBench struct {
	mu     sync.Mutex
	events map[string]int // events received, by type
	stop   func()
	db     *store.DB
	recv   *httptest.Server
}

func startWebhooks(ctx context.Context, db *store.DB, admin *crm.User) *webhookBench {
	b := &webhookBench{db: db, events: map[string]int{}}
	b.recv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Type string
			Data struct{ Events []struct{ Type string } }
		}
		_ = json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body)
		b.mu.Lock()
		if body.Type == webhooks.Batch {
			for _, e := range body.Data.Events {
				b.events[e.Type]++
			}
		} else {
			b.events[body.Type]++
		}
		b.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	lg := slog.New(slog.DiscardHandler)
	wh := webhooks.New(db, lg, true)
	q, err := jobs.OpenWith(db, outreach.New(db, nil, "bench@example.com", "http://localhost"), customers.New(db), lg, jobs.Options{Webhooks: wh})
	if err != nil {
		log.Fatal(err)
	}
	url, events := b.recv.URL, webhooks.Types
	ep, err := wh.Create(ctx, admin, webhooks.Input{URL: &url, Events: &events})
	if err != nil {
		log.Fatal(err)
	}
	bg, cancel := context.WithCancel(context.Background())
	if err := q.Start(bg); err != nil {
		log.Fatal(err)
	}
	// the dispatcher starts at the feed's head (what came before is not sent)
	if _, err := wh.Dispatch(ctx); err != nil {
		log.Fatal(err)
	}
	go wh.Run(bg, time.Second)
	b.stop = func() {
		cancel()
		_ = q.Stop(context.Background())
		off := false
		_, _ = wh.Update(context.Background(), admin, ep.ID, webhooks.Input{Enabled: &off})
		b.recv.Close()
	}
	return b
}

// drained waits until n events of the type have been received and
// returns how long that took from start.
func (b *webhookBench) drained(typ string, n int, start time.Time) time.Duration {
	for {
		b.mu.Lock()
		got := b.events[typ]
		b.mu.Unlock()
		if got >= n {
			return time.Since(start)
		}
		if time.Since(start) > 30*time.Minute {
			log.Fatalf("webhooks: %d of %d deliveries after 30 minutes", got, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
