package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"time"
)

// target sends requests to the servers in turn (round-robin).
type target struct {
	urls   []string
	next   atomic.Uint64
	client *http.Client
}

func newTarget(urls []string, conns int, keepAlive bool) *target {
	tr := &http.Transport{
		MaxIdleConns:        conns * 2,
		MaxIdleConnsPerHost: conns * 2,
		IdleConnTimeout:     90 * time.Second,
		DisableKeepAlives:   !keepAlive,
	}
	return &target{urls: urls, client: &http.Client{
		Transport: tr,
		Timeout:   60 * time.Second,
		// a redirect is an answer like any other: the page request is over
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (t *target) base() string {
	return t.urls[int(t.next.Add(1)-1)%len(t.urls)]
}

// session is one signed-in user: the cookie and the CSRF token the pages carry.
type session struct {
	email  string
	userID int64
	cookie string
	csrf   string
}

// result is one request's outcome.
type result struct {
	status int
	body   []byte
	err    error
	took   time.Duration
	path   string
}

func (r result) failed() bool {
	return r.err != nil || r.status < 200 || r.status >= 400
}

func (r result) describe() string {
	if r.err != nil {
		return fmt.Sprintf("%s: %v", r.path, r.err)
	}
	body := strings.Join(strings.Fields(string(r.body)), " ")
	if len(body) > 240 {
		body = body[:240] + "..."
	}
	return fmt.Sprintf("%s: %d %s", r.path, r.status, body)
}

// do sends one request as s (nil: anonymous) and reads the whole answer.
func (t *target) do(ctx context.Context, s *session, method, path string, body io.Reader, contentType string) result {
	return t.doAt(ctx, t.base(), s, method, path, body, contentType)
}

func (t *target) doAt(ctx context.Context, base string, s *session, method, path string, body io.Reader, contentType string) result {
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		return result{err: err, path: path}
	}
	if s != nil && s.cookie != "" {
		req.Header.Set("Cookie", "crm_session="+s.cookie)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if strings.HasPrefix(path, "/api/") {
		req.Header.Set("Accept", "application/json")
		if method != http.MethodGet && s != nil {
			req.Header.Set("X-CSRF-Token", s.csrf)
		}
	} else {
		req.Header.Set("Accept", "text/html")
	}
	start := time.Now()
	res, err := t.client.Do(req)
	if err != nil {
		return result{err: err, took: time.Since(start), path: path}
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	took := time.Since(start)
	r := result{status: res.StatusCode, body: b, err: err, took: took, path: path}
	if s != nil {
		for _, c := range res.Cookies() {
			if c.Name == "crm_session" && c.Value != "" {
				s.cookie = c.Value
			}
		}
	}
	return r
}

var (
	csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	csrfMeta  = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)"`)
	nextLink  = regexp.MustCompile(`href="([^"]+)" rel="next"`)
	rowID     = regexp.MustCompile(`<tr data-id="(\d+)"`)
)

// signIn signs in through the sign-in form, as a browser does.
func (t *target) signIn(ctx context.Context, email, password string) (*session, error) {
	s := &session{email: email}
	r := t.do(ctx, s, http.MethodGet, "/login", nil, "")
	if r.failed() {
		return nil, fmt.Errorf("GET /login: %s", r.describe())
	}
	m := csrfInput.FindSubmatch(r.body)
	if m == nil {
		return nil, errors.New("GET /login: no csrf_token in the form")
	}
	form := url.Values{"email": {email}, "password": {password}, "csrf_token": {html.UnescapeString(string(m[1]))}}
	r = t.do(ctx, s, http.MethodPost, "/login", strings.NewReader(form.Encode()), "application/x-www-form-urlencoded")
	if r.status != http.StatusSeeOther {
		return nil, fmt.Errorf("signing in as %s: %s", email, r.describe())
	}
	r = t.do(ctx, s, http.MethodGet, "/crm/customers?limit=25", nil, "")
	if r.failed() {
		return nil, fmt.Errorf("the first page after signing in as %s: %s", email, r.describe())
	}
	if m = csrfMeta.FindSubmatch(r.body); m == nil {
		return nil, errors.New("the customers page has no csrf-token")
	}
	s.csrf = html.UnescapeString(string(m[1]))
	var me struct {
		ID int64 `json:"id"`
	}
	if err := t.getJSON(ctx, s, "/api/v1/me", &me); err != nil {
		return nil, err
	}
	s.userID = me.ID
	return s, nil
}

func (t *target) getJSON(ctx context.Context, s *session, path string, v any) error {
	r := t.do(ctx, s, http.MethodGet, path, nil, "")
	if r.failed() {
		return errors.New(r.describe())
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func (t *target) sendJSON(ctx context.Context, s *session, method, path string, v any) result {
	var body io.Reader
	ct := ""
	if v != nil {
		b, _ := json.Marshal(v)
		body, ct = strings.NewReader(string(b)), "application/json"
	}
	return t.do(ctx, s, method, path, body, ct)
}
