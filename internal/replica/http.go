package replica

import (
	"context"
	"crypto/sha256"
	"net/http"
	"strings"
	"sync"
	"time"
)

const (
	// Cookie carries, for a browser, the primary's WAL position after its
	// last change (a position is no secret: it only makes reads wait for
	// the replica or go to the primary).
	Cookie = "crm_read_after"
	// Header carries the same for any client: sent on the answer to every
	// request that may have written, honoured on a request.
	Header = "CRM-Read-After"
	// remember is how long a client's last change is waited for: past it
	// the replica has either replayed it or been taken out of use (MaxLag).
	remember = time.Minute
)

// Middleware routes the replica-eligible reads of GET and HEAD requests to
// the replica once it has replayed the client's own last change, and
// records that change's position after every other request. secure marks
// the cookie Secure (served over https).
func (r *Router) Middleware(next http.Handler, secure bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch {
		case req.Method == http.MethodOptions || primaryOnly(req):
			next.ServeHTTP(w, req)
		case req.Method == http.MethodGet || req.Method == http.MethodHead:
			next.ServeHTTP(w, req.WithContext(WithReads(req.Context(), r.readAfter(req))))
		default:
			sw := &stampWriter{ResponseWriter: w, r: r, req: req, secure: secure}
			next.ServeHTTP(sw, req)
			sw.stamp() // when the handler wrote nothing
		}
	})
}

// primaryOnly reports a read that must follow the primary as it commits:
// live updates (Server-Sent Events, which re-check a changed customer's
// permission as the change arrives, for as long as the stream lasts) and
// the change feed.
func primaryOnly(req *http.Request) bool {
	return req.URL.Path == "/api/v1/events" || req.URL.Path == "/api/v1/changes" ||
		strings.Contains(req.Header.Get("Accept"), "text/event-stream")
}

// readAfter is the position the client's reads must see: the latest of the
// cookie, the header and its token's last change in this process.
func (r *Router) readAfter(req *http.Request) uint64 {
	var after uint64
	if c, err := req.Cookie(Cookie); err == nil {
		if lsn, err := ParseLSN(c.Value); err == nil {
			after = max(after, lsn)
		}
	}
	if h := req.Header.Get(Header); h != "" {
		if lsn, err := ParseLSN(h); err == nil {
			after = max(after, lsn)
		}
	}
	if auth := req.Header.Get("Authorization"); auth != "" {
		after = max(after, r.tokens.get(auth))
	}
	return after
}

// stampWriter records the primary's position when the answer starts: by
// then the handler has committed what it changed.
type stampWriter struct {
	http.ResponseWriter
	r       *Router
	req     *http.Request
	secure  bool
	stamped bool
}

func (s *stampWriter) stamp() {
	if s.stamped {
		return
	}
	s.stamped = true
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.req.Context()), time.Second)
	defer cancel()
	lsn, err := s.r.CurrentLSN(ctx)
	if err != nil {
		return // the primary did not answer: the handler's answer says what happened
	}
	v := FormatLSN(lsn)
	s.Header().Set(Header, v)
	if auth := s.req.Header.Get("Authorization"); auth != "" {
		s.r.tokens.put(auth, lsn)
		return
	}
	http.SetCookie(s.ResponseWriter, &http.Cookie{Name: Cookie, Value: v, Path: "/", MaxAge: int(remember / time.Second),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}

func (s *stampWriter) WriteHeader(code int) {
	s.stamp()
	s.ResponseWriter.WriteHeader(code)
}

func (s *stampWriter) Write(b []byte) (int, error) {
	s.stamp()
	return s.ResponseWriter.Write(b)
}

func (s *stampWriter) Flush() {
	s.stamp()
	http.NewResponseController(s.ResponseWriter).Flush()
}

func (s *stampWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// tokenLSNs holds, per API token (by a hash of the Authorization header),
// the position after its last change, for a minute.
type tokenLSNs struct {
	mu   sync.Mutex
	m    map[[32]byte]tokenLSN
	puts int
}

type tokenLSN struct {
	lsn   uint64
	until time.Time
}

func (t *tokenLSNs) get(auth string) uint64 {
	k := sha256.Sum256([]byte(auth))
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.m[k]
	if !ok || time.Now().After(e.until) {
		return 0
	}
	return e.lsn
}

func (t *tokenLSNs) put(auth string, lsn uint64) {
	k := sha256.Sum256([]byte(auth))
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[[32]byte]tokenLSN{}
	}
	if t.puts++; t.puts%1024 == 0 { // forget the expired now and then
		for k, e := range t.m {
			if now.After(e.until) {
				delete(t.m, k)
			}
		}
	}
	if e := t.m[k]; e.lsn > lsn && now.Before(e.until) {
		lsn = e.lsn
	}
	t.m[k] = tokenLSN{lsn: lsn, until: now.Add(remember)}
}
