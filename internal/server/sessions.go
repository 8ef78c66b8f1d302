package server

import (
	"context"
	"time"

	"github.com/acme/crm/internal/crm"
)

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
