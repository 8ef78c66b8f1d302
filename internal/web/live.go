package web

import (
	"context"
	"net/url"
)

// liveCursor is the change feed's position now, taken before a page reads
// its rows: the page's live stream starts there, so a change that commits
// between the read and the stream's start still reaches the page. "" (the
// feed failed; the page still works) starts the stream at its own "now".
func (w *Web) liveCursor(ctx context.Context) string {
	c, err := w.Store.ChangesHead(ctx)
	if err != nil {
		w.Log.Warn("live updates: reading the change feed's head", "err", err)
		return ""
	}
	return c
}

// LiveURL is the page's stream of live updates (GET /api/v1/events).
func (v CustomerListView) LiveURL() string {
	if v.LiveCursor == "" {
		return "/api/v1/events"
	}
	return "/api/v1/events?after=" + url.QueryEscape(v.LiveCursor)
}
