package server

import (
	"context"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

type countCommits struct {
	crm.Store
	n int
}

func (c *countCommits) SessionCommit(ctx context.Context, token string, data []byte, expiry time.Time) error {
	c.n++
	return c.Store.SessionCommit(ctx, token, data, expiry)
}

// The expiry of an unchanged session is pushed on again once the refresh
// interval has passed; changed data is written at once; a commit for a
// token other than the one loaded is always written.
func TestSessionRefreshInterval(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		counted := &countCommits{Store: db}
		st := newSessionStore(counted)
		now := time.Now()
		st.done.now = func() time.Time { return now }
		deadline := now.Add(30 * 24 * time.Hour)
		enc := func(v map[string]any) []byte {
			b, err := scs.GobCodec{}.Encode(deadline, v)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		// one request: load the session (when given), then commit b
		request := func(token string, b []byte) {
			t.Helper()
			c := context.WithValue(ctx, loadedKey{}, &loaded{})
			if _, _, err := st.FindCtx(c, "tok"); err != nil {
				t.Fatal(err)
			}
			if err := st.CommitCtx(c, token, b, now.Add(7*24*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		values := map[string]any{"user": int64(7), "csrf": "abc", "v": 1}
		request("tok", enc(values)) // signed in: written
		if counted.n != 1 {
			t.Fatalf("sign-in: %d writes", counted.n)
		}
		for range 20 { // a second later, unchanged (gob may encode the map in another order): not written
			now = now.Add(time.Second)
			request("tok", enc(map[string]any{"v": 1, "csrf": "abc", "user": int64(7)}))
		}
		if counted.n != 1 {
			t.Fatalf("unchanged within the interval: %d writes", counted.n)
		}
		request("tok", enc(map[string]any{"user": int64(7), "csrf": "xyz", "v": 1})) // changed: written
		if counted.n != 2 {
			t.Fatalf("changed: %d writes", counted.n)
		}
		b, found, err := db.SessionFind(ctx, "tok", now)
		if err != nil || !found || !st.same(b, enc(map[string]any{"user": int64(7), "csrf": "xyz", "v": 1})) {
			t.Fatalf("the change is not in the database: %v %v", found, err)
		}
		request("other", b) // a new token (renewed at sign-in): written
		if counted.n != 3 {
			t.Fatalf("new token: %d writes", counted.n)
		}
		now = now.Add(sessionRefreshEvery) // the interval has passed: the expiry moves on
		request("tok", b)
		if counted.n != 4 {
			t.Fatalf("after the interval: %d writes", counted.n)
		}
		if err := st.DeleteCtx(ctx, "tok"); err != nil {
			t.Fatal(err)
		}
		if st.done.recent("tok") {
			t.Fatal("a deleted session is still remembered")
		}
	})
}
