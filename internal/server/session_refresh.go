package server

import (
	"bytes"
	"context"
	"net/http"
	"reflect"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/acme/crm/internal/crm"
)

// Sessions have an idle timeout, so scs re-commits every session on every
// request only to push its expiry on: one database write per page view, on
// SQLite through the one writer, and each write empties every SQLite reader's
// page cache. A session whose data the request did not change is now written
// again only when this process has not refreshed it for sessionRefreshEvery:
// its idle expiry may then lag the last request by up to that long (a session
// idle for 7 days less a minute may end), and any change of its data is
// written at once, as before.
const sessionRefreshEvery = time.Minute

// maxRefreshed bounds the memory of recent refreshes (one entry per session
// seen within sessionRefreshEvery).
const maxRefreshed = 100_000

type loadedKey struct{}

// loaded is what the request's session held in the database when it was
// read (FindCtx), to tell a commit that changes nothing.
type loaded struct {
	token string
	data  []byte
}

// refreshes remembers when this process last wrote each session.
type refreshes struct {
	mu  sync.Mutex
	at  map[string]time.Time
	now func() time.Time
}

func (r *refreshes) recent(token string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	at, ok := r.at[token]
	return ok && r.now().Sub(at) < sessionRefreshEvery
}

func (r *refreshes) wrote(token string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if len(r.at) >= maxRefreshed {
		for t, at := range r.at {
			if now.Sub(at) >= sessionRefreshEvery {
				delete(r.at, t)
			}
		}
		if len(r.at) >= maxRefreshed {
			clear(r.at)
		}
	}
	r.at[token] = now
}

func (r *refreshes) forget(token string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.at, token)
}

// sessionStore adapts crm.SessionStore to scs.CtxStore: sessions live in the
// database, so they survive restarts and are shared by several processes.
type sessionStore struct {
	s     crm.Store
	codec scs.Codec
	done  *refreshes
}

func newSessionStore(s crm.Store) sessionStore {
	return sessionStore{s: s, codec: scs.GobCodec{}, done: &refreshes{at: map[string]time.Time{}, now: time.Now}}
}

// trackSessions gives each request a place for what its session held, for
// sessionStore.CommitCtx; it goes outside LoadAndSave.
func trackSessions(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), loadedKey{}, &loaded{})))
	})
}

func (st sessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	b, found, err := st.s.SessionFind(ctx, token, time.Now())
	if l, ok := ctx.Value(loadedKey{}).(*loaded); ok && found && err == nil {
		l.token, l.data = token, b
	}
	return b, found, err
}

func (st sessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	if l, ok := ctx.Value(loadedKey{}).(*loaded); ok && l.token == token && st.done.recent(token) && st.same(l.data, b) {
		return nil // nothing changed and this process pushed the expiry on a moment ago
	}
	if err := st.s.SessionCommit(ctx, token, b, expiry); err != nil {
		return err
	}
	st.done.wrote(token)
	return nil
}

// same says whether two encoded sessions hold the same deadline and values
// (the encoding of a map is not stable, so they are compared decoded).
func (st sessionStore) same(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	da, va, err := st.codec.Decode(a)
	if err != nil {
		return false
	}
	db, vb, err := st.codec.Decode(b)
	if err != nil {
		return false
	}
	return da.Equal(db) && reflect.DeepEqual(va, vb)
}

func (st sessionStore) DeleteCtx(ctx context.Context, token string) error {
	st.done.forget(token)
	return st.s.SessionDelete(ctx, token)
}

func (st sessionStore) Find(token string) ([]byte, bool, error) {
	return st.FindCtx(context.Background(), token)
}

func (st sessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return st.CommitCtx(context.Background(), token, b, expiry)
}

func (st sessionStore) Delete(token string) error { return st.DeleteCtx(context.Background(), token) }
