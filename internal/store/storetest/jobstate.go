package storetest

import (
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
)

// testJobCheckpoint: a checkpoint moves only from the value it is at, so
// two runs of one job cannot both record the same chunk.
func testJobCheckpoint(t *testing.T, s crm.Store) {
	now := time.Now()
	after, state, err := s.JobCheckpoint(ctx, 7)
	must(t, err)
	if after != 0 || state != nil {
		t.Fatalf("no checkpoint yet: %d %q", after, state)
	}
	must(t, s.SaveJobCheckpoint(ctx, 7, 0, 100, []byte(`{"done":3}`), now))
	wantCode(t, s.SaveJobCheckpoint(ctx, 7, 0, 100, []byte(`{"done":3}`), now), crm.CodeConflict) // a second run from 0
	must(t, s.SaveJobCheckpoint(ctx, 7, 100, 200, []byte(`{"done":5}`), now))
	wantCode(t, s.SaveJobCheckpoint(ctx, 7, 100, 300, []byte(`{}`), now), crm.CodeConflict)
	after, state, err = s.JobCheckpoint(ctx, 7)
	must(t, err)
	if after != 200 || string(state) != `{"done":5}` {
		t.Fatalf("checkpoint: %d %s", after, state)
	}
	// in a transaction that rolls back, the checkpoint does not move
	_ = s.InTx(ctx, func(tx crm.Store) error {
		must(t, tx.SaveJobCheckpoint(ctx, 7, 200, 400, []byte(`{}`), now))
		return crm.Conflict("roll back")
	})
	if after, _, _ = s.JobCheckpoint(ctx, 7); after != 200 {
		t.Fatalf("a rolled back checkpoint moved to %d", after)
	}
}

// testDeliveries: a segment send claims each customer and contact once.
func testDeliveries(t *testing.T, s crm.Store) {
	now := time.Now()
	a, b, c := newCustomer(t, s, "A", now), newCustomer(t, s, "B", now), newCustomer(t, s, "C", now)
	k1, k2 := int64(11), int64(12)
	claim := func(job, cust int64, k *int64, want bool) {
		t.Helper()
		ok, err := s.ClaimDelivery(ctx, job, cust, k, "sending", now)
		must(t, err)
		if ok != want {
			t.Fatalf("claim job %d customer %d: %v, want %v", job, cust, ok, want)
		}
	}
	claim(1, a, &k1, true)
	claim(1, a, &k2, false) // the customer again
	claim(1, b, &k1, false) // the contact again (moved by a merge)
	claim(1, b, &k2, true)
	claim(1, c, nil, true) // no address
	claim(2, a, &k1, true) // another job
	must(t, s.SetDeliveryStatus(ctx, 1, a, "sent"))
	got, err := s.SegmentDeliveries(ctx, 1, []int64{a, b, c, 999})
	must(t, err)
	if len(got) != 3 || got[a] != "sent" || got[b] != "sending" {
		t.Fatalf("deliveries: %v", got)
	}
	n, err := s.DeliveryCounts(ctx, 1)
	must(t, err)
	if n["sent"] != 1 || n["sending"] != 2 || len(n) != 2 {
		t.Fatalf("counts: %v", n)
	}
}
