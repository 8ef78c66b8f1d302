package live

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// Channel is the PostgreSQL notification channel the activity trigger of
// migration 00024 notifies on every commit that wrote activity entries.
const Channel = "crm_changes"

// listen keeps one connection of its own LISTENing on Channel and pokes the
// poller at every notification, from this process or any other on the same
// database. A lost connection is opened again (1 s, doubling up to 30 s);
// meanwhile the poller's interval still finds every change.
func (h *Hub) listen(ctx context.Context) {
	defer h.wg.Done()
	wait := time.Second
	for ctx.Err() == nil {
		err := h.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		h.log.Warn("live updates: LISTEN connection lost; retrying", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, 30*time.Second)
	}
}

func (h *Hub) listenOnce(ctx context.Context) error {
	cfg := h.opt.Pool.Config().ConnConfig.Copy()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+Channel); err != nil {
		return err
	}
	h.Poke() // changes made while the connection was down
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		h.Poke()
	}
}
