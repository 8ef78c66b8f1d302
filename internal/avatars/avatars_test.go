package avatars

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

var png = []byte("\x89PNG\r\n\x1a\n-a-picture-")

// upstream is a stand-in Gravatar: a picture for the hashes in pictures,
// 404 for the rest; it counts the requests per hash.
type upstream struct {
	mu       sync.Mutex
	pictures map[string][]byte
	asked    map[string]int
	hang     chan struct{} // when set, requests wait for it (or their end)
	srv      *httptest.Server
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{pictures: map[string][]byte{}, asked: map[string]int{}}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hash := strings.TrimPrefix(r.URL.Path, "/avatar/")
		if r.URL.Query().Get("d") != "404" || r.URL.Query().Get("s") == "" {
			t.Errorf("asked %s: want d=404 and a size", r.URL)
		}
		u.mu.Lock()
		u.asked[hash]++
		pic, hang := u.pictures[hash], u.hang
		u.mu.Unlock()
		if hang != nil {
			select {
			case <-hang:
			case <-r.Context().Done():
				return
			}
		}
		if pic == nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(pic)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstream) times(hash string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.asked[hash]
}

// clock is a settable time.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func newService(db *store.DB, u *upstream, c *clock) *Service {
	s := New(db, true, u.srv.URL+"/avatar/", slog.New(slog.DiscardHandler))
	s.Now = c.Now
	return s
}

func TestPictureIsCachedForAWeek(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		u, c := newUpstream(t), &clock{time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
		s := newService(db, u, c)
		h := crm.AvatarHash("Has.Picture@example.com ")
		u.pictures[h] = png
		for range 3 {
			p, err := s.Get(t.Context(), h)
			if err != nil || !bytes.Equal(p.Bytes, png) || p.ContentType != "image/png" || !p.Until.Equal(c.now.Add(PresentFor)) {
				t.Fatalf("picture %+v %v", p, err)
			}
		}
		if n := u.times(h); n != 1 {
			t.Fatalf("Gravatar asked %d times, want once", n)
		}
		c.now = c.now.Add(PresentFor - time.Second)
		if _, err := s.Get(t.Context(), h); err != nil || u.times(h) != 1 {
			t.Fatalf("within the week: asked %d times, %v", u.times(h), err)
		}
		// a week later it is asked again, and a new picture replaces the old one
		c.now = c.now.Add(2 * time.Second)
		u.pictures[h] = []byte("\x89PNG\r\n\x1a\n-a-new-one-")
		p, err := s.Get(t.Context(), h)
		if err != nil || u.times(h) != 2 || !bytes.Equal(p.Bytes, u.pictures[h]) {
			t.Fatalf("after a week: asked %d times, %+v %v", u.times(h), p, err)
		}
	})
}

func TestAbsenceIsCachedForADay(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		u, c := newUpstream(t), &clock{time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
		s := newService(db, u, c)
		h := crm.AvatarHash("no.picture@example.com")
		for range 3 {
			p, err := s.Get(t.Context(), h)
			if err != nil || p.Bytes != nil || !p.Until.Equal(c.now.Add(AbsentFor)) {
				t.Fatalf("none %+v %v", p, err)
			}
		}
		if n := u.times(h); n != 1 {
			t.Fatalf("Gravatar asked %d times, want once", n)
		}
		a, err := db.GetAvatar(t.Context(), h)
		if err != nil || a.Bytes != nil {
			t.Fatalf("the absence is not cached: %+v %v", a, err)
		}
		// a day later it is asked again: the customer may have made one since
		c.now = c.now.Add(AbsentFor + time.Second)
		u.pictures[h] = png
		if p, err := s.Get(t.Context(), h); err != nil || !bytes.Equal(p.Bytes, png) || u.times(h) != 2 {
			t.Fatalf("after a day: asked %d times, %+v %v", u.times(h), p, err)
		}
	})
}

func TestGravatarOffAsksNobody(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		u, c := newUpstream(t), &clock{time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
		s := newService(db, u, c)
		s.Enabled = false
		h := crm.AvatarHash("has.picture@example.com")
		u.pictures[h] = png
		p, err := s.Get(t.Context(), h)
		if err != nil || p.Bytes != nil {
			t.Fatalf("off: %+v %v", p, err)
		}
		if n := u.times(h); n != 0 {
			t.Fatalf("Gravatar asked %d times while off", n)
		}
		if _, err := db.GetAvatar(t.Context(), h); crm.CodeOf(err) != crm.CodeNotFound {
			t.Fatalf("off wrote to the cache: %v", err)
		}
	})
}

func TestUpstreamTimeout(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		u, c := newUpstream(t), &clock{time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
		s := newService(db, u, c)
		s.Client.Timeout = 50 * time.Millisecond
		hang := make(chan struct{})
		defer close(hang)
		u.hang = hang

		// no picture known: none, asked again after RetryAfter (not a day)
		h := crm.AvatarHash("slow@example.com")
		p, err := s.Get(t.Context(), h)
		if err != nil || p.Bytes != nil || !p.Until.Equal(c.now.Add(RetryAfter)) {
			t.Fatalf("timeout: %+v %v", p, err)
		}
		if _, err := s.Get(t.Context(), h); err != nil || u.times(h) != 1 {
			t.Fatalf("asked %d times within the retry time: %v", u.times(h), err)
		}
		c.now = c.now.Add(RetryAfter + time.Second)
		if _, err := s.Get(t.Context(), h); err != nil || u.times(h) != 2 {
			t.Fatalf("after the retry time: asked %d times, %v", u.times(h), err)
		}

		// a stale picture is kept when Gravatar does not answer
		h2 := crm.AvatarHash("known@example.com")
		if err := db.PutAvatar(t.Context(), crm.Avatar{Hash: h2, FetchedAt: c.now.Add(-PresentFor - time.Hour), ContentType: "image/png", Bytes: png}); err != nil {
			t.Fatal(err)
		}
		p, err = s.Get(t.Context(), h2)
		if err != nil || !bytes.Equal(p.Bytes, png) || u.times(h2) != 1 {
			t.Fatalf("stale picture on timeout: %+v %v (asked %d)", p, err, u.times(h2))
		}
		if p, err := s.Get(t.Context(), h2); err != nil || !bytes.Equal(p.Bytes, png) || u.times(h2) != 1 {
			t.Fatalf("stale picture again: %+v %v (asked %d)", p, err, u.times(h2))
		}
	})
}

func TestBadHashAndBadAnswers(t *testing.T) {
	db := testdb.Open(t, "sqlite")
	c := &clock{time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	var answer func(w http.ResponseWriter)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { answer(w) }))
	defer srv.Close()
	s := New(db, true, srv.URL+"/", slog.New(slog.DiscardHandler))
	s.Now = c.Now
	for _, bad := range []string{"", "abc", strings.Repeat("A", 64), strings.Repeat("0", 63) + "/", "../" + strings.Repeat("0", 61)} {
		if _, err := s.Get(t.Context(), bad); crm.CodeOf(err) != crm.CodeNotFound {
			t.Fatalf("hash %q: %v", bad, err)
		}
	}
	for name, a := range map[string]func(w http.ResponseWriter){
		"svg": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "image/svg+xml")
			_, _ = w.Write([]byte("<svg/>"))
		},
		"html": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<p>"))
		},
		"too big": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "image/png")
			_, _ = w.Write(make([]byte, MaxBytes+1))
		},
		"empty": func(w http.ResponseWriter) { w.Header().Set("Content-Type", "image/png") },
		"5xx":   func(w http.ResponseWriter) { w.WriteHeader(503) },
		"redirect": func(w http.ResponseWriter) {
			w.Header().Set("Location", "http://example.com/x.png")
			w.WriteHeader(302)
		},
	} {
		answer = a
		h := crm.AvatarHash(name + "@example.com")
		p, err := s.Get(context.Background(), h)
		if err != nil || p.Bytes != nil || !p.Until.Equal(c.now.Add(RetryAfter)) {
			t.Fatalf("%s: %+v %v", name, p, err)
		}
	}
}
