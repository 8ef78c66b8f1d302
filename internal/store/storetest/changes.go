package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
)

// feedMark is what a test change carries in its data: writer, transaction, entry.
type feedMark struct{ W, N, K int }

// ChangeFeed: many writers in many transactions, some long (they write
// early, wait while later ones commit, then write more and commit), some
// rolled back, while a reader follows the feed: the reader sees every
// committed change exactly once, each transaction's changes together, and
// never a rolled-back one.
func ChangeFeed(t *testing.T, s crm.Store) {
	u := newUser(t, s, "feed@example.com", crm.RoleMember)
	var cs []int64
	for i := range 5 {
		cs = append(cs, newCustomer(t, s, fmt.Sprintf("Fed %d", i), t0))
	}
	start, err := s.ChangesHead(ctx)
	must(t, err)

	const writers, txs = 4, 25
	key := func(customer int64, data []byte) string { return fmt.Sprintf("%d %s", customer, data) }
	entry := func(w, n, k int) crm.Activity {
		b, _ := json.Marshal(feedMark{w, n, k})
		return crm.Activity{CustomerID: cs[(w+n+k)%len(cs)], Actor: &crm.UserRef{ID: u.ID}, Kind: crm.ActUpdated, Data: b, At: t0}
	}
	var mu sync.Mutex
	committed := map[string]bool{} // key of each committed row
	errRollback := errors.New("rolled back on purpose")
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for n := range txs {
				long, rollback := n%6 == w%6, n%9 == 4
				var rows []string
				err := s.InTx(ctx, func(tx crm.Store) error {
					rows = rows[:0]
					a := entry(w, n, 0)
					if err := tx.AddActivity(ctx, &a); err != nil {
						return err
					}
					rows = append(rows, key(a.CustomerID, a.Data))
					if long {
						time.Sleep(time.Duration(80+20*w) * time.Millisecond) // later transactions commit meanwhile
					}
					switch n % 3 {
					case 1: // a bulk action's one entry for many customers
						b, _ := json.Marshal(feedMark{w, n, 1})
						if err := tx.AddActivityFor(ctx, cs[:3], crm.Activity{Actor: &crm.UserRef{ID: u.ID}, Kind: crm.ActTagAdded, Data: b, At: t0}); err != nil {
							return err
						}
						for _, c := range cs[:3] {
							rows = append(rows, key(c, b))
						}
					case 2: // many entries in one statement
						as := []crm.Activity{entry(w, n, 2), entry(w, n, 3)}
						if err := tx.AddActivities(ctx, as); err != nil {
							return err
						}
						for _, a := range as {
							rows = append(rows, key(a.CustomerID, a.Data))
						}
					}
					if rollback {
						return errRollback
					}
					return nil
				})
				if err != nil && !errors.Is(err, errRollback) {
					t.Error(err)
					return
				}
				if err == nil {
					mu.Lock()
					for _, r := range rows {
						committed[r] = true
					}
					mu.Unlock()
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	seen := map[string]int{}
	var order []feedMark
	after := start
	read := func() int {
		items, next, err := s.Changes(ctx, after, 7)
		must(t, err)
		if len(items) == 0 && next != after {
			t.Fatalf("nothing new moved the cursor from %q to %q", after, next)
		}
		if len(items) > 0 && (next == after || next != items[len(items)-1].Cursor) {
			t.Fatalf("cursor after %d items: %q (was %q)", len(items), next, after)
		}
		for _, c := range items {
			var m feedMark
			if err := json.Unmarshal([]byte(c.Data), &m); err != nil {
				t.Fatalf("change data %q: %v", c.Data, err)
			}
			if c.UserID != u.ID || c.CustomerID == 0 || c.At.IsZero() {
				t.Fatalf("change %+v", c)
			}
			seen[key(c.CustomerID, []byte(c.Data))]++
			order = append(order, m)
		}
		after = next
		return len(items)
	}
	deadline := time.Now().Add(3 * time.Minute) // PostgreSQL: any long transaction on the server holds the feed back
	for finished := false; ; {
		select {
		case <-done:
			finished = true
		default:
		}
		n := read()
		mu.Lock()
		want := len(committed)
		mu.Unlock()
		if finished && n == 0 && len(order) >= want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 3 min the reader has %d changes, %d committed", len(order), want)
		}
		if n == 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	if t.Failed() {
		return
	}
	for k, n := range seen {
		if n != 1 || !committed[k] {
			t.Errorf("change %s seen %d times (committed: %v)", k, n, committed[k])
		}
	}
	for k := range committed {
		if seen[k] == 0 {
			t.Errorf("committed change %s never read", k)
		}
	}
	// A transaction's changes come together (commit order, not id order).
	for i := 1; i < len(order); i++ {
		p, m := order[i-1], order[i]
		if p.W == m.W && p.N == m.N {
			continue
		}
		for _, r := range order[i:] {
			if r.W == p.W && r.N == p.N {
				t.Fatalf("the changes of transaction %d/%d are split by %d/%d", p.W, p.N, m.W, m.N)
			}
		}
	}

	// Nothing new: the cursor stays. A change made after a position is read
	// from it, whether the position was reached by reading or is the head.
	items, next, err := s.Changes(ctx, after, 10)
	must(t, err)
	if len(items) != 0 || next != after {
		t.Fatalf("nothing new: %d items, next %q (was %q)", len(items), next, after)
	}
	head, err := s.ChangesHead(ctx)
	must(t, err)
	last := entry(99, 0, 0)
	must(t, s.AddActivity(ctx, &last))
	for _, from := range []string{after, head} {
		found := false
		for cur, end := from, time.Now().Add(60*time.Second); !found; {
			items, next, err := s.Changes(ctx, cur, 1000)
			must(t, err)
			for _, c := range items {
				found = found || c.Data == string(last.Data)
			}
			if time.Now().After(end) {
				t.Fatalf("the change made after %q never came", from)
			}
			cur = next
			if !found {
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
	// From the start: everything, the customers' creation included.
	all, _, err := s.Changes(ctx, "", 1000)
	must(t, err)
	if len(all) < len(committed)+1 {
		t.Fatalf("from the start: %d changes, want at least %d", len(all), len(committed)+1)
	}
	if _, _, err := s.Changes(ctx, "nonsense", 10); crm.CodeOf(err) != crm.CodeInvalid {
		t.Fatalf("a bad cursor: %v", err)
	}
}
