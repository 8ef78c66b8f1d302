package live

import (
	"context"
	"net/http"
	"time"

	"github.com/acme/crm/internal/crm"
)

// writeTimeout bounds one write to a stream: a client that stops reading
// ends its stream instead of holding a goroutine forever.
const writeTimeout = 15 * time.Second

// Stream is one listener: a browser tab or an API client.
type Stream struct {
	h       *Hub
	userID  int64
	session int64 // the session's version, for a page's stream; -1 for an API token
	cursor  string
	recheck func(context.Context) error
}

// Listener says who opens a stream and how they signed in.
type Listener struct {
	User *crm.User
	// Session is set for a page's stream (a session cookie): it ends when
	// the user's sessions do (a password change or reset), and after
	// Options.SessionLife at the latest.
	Session bool
	// Recheck, when set, is asked every Options.Recheck whether the
	// credential still holds (an API token not revoked); an error ends the stream.
	Recheck func(context.Context) error
}

// Open starts a stream after the cursor after (a Last-Event-ID, or "" for
// "from now on"). A cursor the feed does not accept is an error of
// crm.CodeInvalid; the stream has not begun then.
func (h *Hub) Open(ctx context.Context, l Listener, after string) (*Stream, error) {
	if l.User == nil {
		return nil, crm.ErrUnauthorized
	}
	if after != "" {
		if _, _, err := h.src.Changes(ctx, after, 1); err != nil {
			if crm.CodeOf(err) == crm.CodeInvalid {
				return nil, crm.Invalid("Last-Event-ID", "is not a position of the change feed")
			}
			return nil, err
		}
	}
	head, err := h.join(ctx)
	if err != nil {
		return nil, err
	}
	s := &Stream{h: h, userID: l.User.ID, session: -1, cursor: after, recheck: l.Recheck}
	if l.Session {
		s.session = l.User.SessionVersion
	}
	if after == "" {
		s.cursor = head
	}
	return s, nil
}

// Serve writes the stream's events to w until the client goes, the hub
// shuts down, the user may no longer listen, or the feed fails (the client
// then reconnects with Last-Event-ID and misses nothing).
func (s *Stream) Serve(w http.ResponseWriter, r *http.Request) {
	h := s.h
	defer h.leave()
	ctx := r.Context()
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // no server-wide write timeout for a stream; each write is bounded below
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no") // nginx: pass each event on at once
	w.WriteHeader(http.StatusOK)
	// retry: how long a browser waits before it reconnects (2 s)
	if !s.write(w, rc, []byte("retry: 2000\n: live updates of customers\n\n")) {
		return
	}

	beat := time.NewTicker(h.opt.Heartbeat)
	defer beat.Stop()
	var recheck <-chan time.Time
	if s.recheck != nil {
		t := time.NewTicker(h.opt.Recheck)
		defer t.Stop()
		recheck = t.C
	}
	var life <-chan time.Time
	if s.session >= 0 {
		t := time.NewTimer(h.opt.SessionLife)
		defer t.Stop()
		life = t.C
	}

	for {
		evs, known, wait := h.since(s.cursor)
		if !known {
			// behind the ring (or resuming from long ago): read the feed itself
			items, next, err := h.src.Changes(ctx, s.cursor, pageSize)
			if err != nil {
				if ctx.Err() == nil {
					h.log.Error("live updates: reading the change feed for a stream", "err", err)
				}
				return
			}
			if len(items) > 0 {
				if !s.send(w, rc, h.render(items)) {
					return
				}
				s.cursor = items[len(items)-1].Cursor
				if next != "" {
					s.cursor = next
				}
				continue
			}
			if next != "" {
				s.cursor = next
			}
		} else if len(evs) > 0 {
			if !s.send(w, rc, evs) {
				return
			}
			s.cursor = evs[len(evs)-1].Cursor
			continue
		}
		select {
		case <-wait:
		case <-beat.C:
			if !s.write(w, rc, []byte(": ping\n\n")) {
				return
			}
		case <-recheck:
			if err := s.recheck(ctx); err != nil {
				return
			}
		case <-life:
			return
		case <-ctx.Done():
			return
		case <-h.done:
			return
		}
	}
}

// send writes the events the listener may see, in one flush; it reports
// false when the stream must end (the client is gone, or the user may no
// longer listen).
func (s *Stream) send(w http.ResponseWriter, rc *http.ResponseController, evs []*event) bool {
	u, ok := s.h.user(s.userID) // read at most a second ago
	if !ok || !u.Active || (s.session >= 0 && u.SessionVersion != s.session) {
		return false
	}
	_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
	n := 0
	for _, e := range evs {
		if !s.h.opt.MaySee(&u, e.CustomerID) {
			continue
		}
		if _, err := w.Write(e.frame); err != nil {
			return false
		}
		n++
	}
	if n == 0 {
		return true
	}
	return rc.Flush() == nil
}

// write writes and flushes a frame of the stream's own (a comment, retry).
func (s *Stream) write(w http.ResponseWriter, rc *http.ResponseController, b []byte) bool {
	_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := w.Write(b); err != nil {
		return false
	}
	return rc.Flush() == nil
}
