package server

import (
	"context"
	"time"

	"github.com/acme/crm/internal/crm"
)

// sessionStore adapts crm.SessionStore to scs.CtxStore: sessions live in the
// database, so they survive restarts and are shared by several processes.
type sessionStore struct{ s crm.Store }

func (st sessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	return st.s.SessionFind(ctx, token, time.Now())
}

func (st sessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	return st.s.SessionCommit(ctx, token, b, expiry)
}

func (st sessionStore) DeleteCtx(ctx context.Context, token string) error {
	return st.s.SessionDelete(ctx, token)
}

func (st sessionStore) Find(token string) ([]byte, bool, error) {
	return st.FindCtx(context.Background(), token)
}

func (st sessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return st.CommitCtx(context.Background(), token, b, expiry)
}

func (st sessionStore) Delete(token string) error { return st.DeleteCtx(context.Background(), token) }

// CleanSessions deletes expired sessions every interval until ctx ends.
func CleanSessions(ctx context.Context, s crm.Store, every time.Duration, log interface{ Error(string, ...any) }) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if err := s.SessionDeleteExpired(ctx, now); err != nil && ctx.Err() == nil {
				log.Error("deleting expired sessions", "err", err)
			}
		}
	}
}
