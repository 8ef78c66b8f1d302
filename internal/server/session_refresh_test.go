package server_test

import (
	"context"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/server"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// commitCounter counts the session writes the server makes.
type commitCounter struct {
	crm.Store
	commits atomic.Int32
}

func (c *commitCounter) SessionCommit(ctx context.Context, token string, data []byte, expiry time.Time) error {
	c.commits.Add(1)
	return c.Store.SessionCommit(ctx, token, data, expiry)
}

// Page views that change nothing in the session do not write it again (its
// idle expiry is pushed on at most once a minute); a change is written at once.
func TestSessionWrittenOnlyWhenChanged(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		counter := &commitCounter{Store: db}
		e := newEnv(t, db, func(d *server.Deps) { d.Store = counter })
		e.user("mia@example.com", crm.RoleMember)
		b := e.browser()
		if st, _, _ := b.post("/login", "/login", url.Values{"email": {"mia@example.com"}, "password": {"correct horse"}}); st != 303 {
			t.Fatalf("sign-in: %d", st)
		}
		if st, _, _ := b.get("/crm/customers"); st != 200 { // the first page makes the session's form token
			t.Fatalf("first page: %d", st)
		}
		before := counter.commits.Load()
		for range 10 {
			if st, _, _ := b.get("/crm/customers"); st != 200 {
				t.Fatalf("page: %d", st)
			}
		}
		if n := counter.commits.Load() - before; n != 0 {
			t.Fatalf("10 page views that change nothing wrote the session %d times", n)
		}
		// the session still works, and a change (signing out) still takes effect
		if st, loc, _ := b.post("/crm/customers", "/logout", url.Values{}); st != 303 || loc != "/login" {
			t.Fatalf("sign-out: %d %s", st, loc)
		}
		if st, _, _ := b.get("/crm/customers"); st != 303 {
			t.Fatalf("after sign-out: %d", st)
		}
	})
}
