// Package avatars serves customers' Gravatar pictures from the product's own
// origin: the server fetches https://www.gravatar.com/avatar/{hash}, caches
// the answer in the database (the picture, or that there is none) and a
// browser only ever asks GET /avatars/{hash} of this server. Nothing about a
// customer reaches a third party from a user's browser, and a customer
// without a picture costs no failed request (issue 17, item 7).
package avatars

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/acme/crm/internal/crm"
)

// DefaultBaseURL is where pictures are fetched: BaseURL + hash + "?d=404&s=N".
const DefaultBaseURL = "https://www.gravatar.com/avatar/"

// Defaults of a Service.
const (
	PresentFor     = 7 * 24 * time.Hour // a picture is fetched again after a week
	AbsentFor      = 24 * time.Hour     // "none" is asked again after a day
	RetryAfter     = 10 * time.Minute   // after a failure (timeout, 5xx), ask again after this
	FetchTimeout   = 3 * time.Second
	MaxConcurrency = 4
	MaxBytes       = 256 << 10 // a 96 px picture is a few KiB
	Size           = 96
)

// imageTypes are the pictures passed on (never SVG: it can carry script).
var imageTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true}

// Service fetches and caches pictures. Enabled false (CRM_GRAVATAR=off)
// answers "none" for every hash without asking anyone.
type Service struct {
	Store      crm.AvatarStore
	Enabled    bool
	BaseURL    string
	Client     *http.Client
	Now        func() time.Time
	Log        *slog.Logger
	PresentFor time.Duration
	AbsentFor  time.Duration
	RetryAfter time.Duration

	slots chan struct{} // bounds the fetches running at once
}

// New returns a Service with the defaults; baseURL "" means Gravatar's.
func New(store crm.AvatarStore, enabled bool, baseURL string, log *slog.Logger) *Service {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	return &Service{
		Store: store, Enabled: enabled, BaseURL: baseURL, Log: log, Now: time.Now,
		Client:     &http.Client{Timeout: FetchTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		PresentFor: PresentFor, AbsentFor: AbsentFor, RetryAfter: RetryAfter,
		slots: make(chan struct{}, MaxConcurrency),
	}
}

// Picture is what GET /avatars/{hash} answers: a picture, or none.
type Picture struct {
	ContentType string
	Bytes       []byte // nil: none
	// Until is when the answer should be asked again (for Cache-Control).
	Until time.Time
}

// ErrBadHash is the answer for a path that is not a hash this product makes.
var ErrBadHash = crm.NotFound("avatar")

// Get returns the picture for a hash, from the cache while it is fresh,
// else from Gravatar (at most MaxConcurrency fetches at once, each bounded
// by the client's timeout). A failed fetch serves what the cache had, or
// none, and is tried again after RetryAfter.
func (s *Service) Get(ctx context.Context, hash string) (Picture, error) {
	if !crm.ValidAvatarHash(hash) {
		return Picture{}, ErrBadHash
	}
	now := s.Now()
	if !s.Enabled {
		return Picture{Until: now.Add(s.AbsentFor)}, nil
	}
	cached, err := s.Store.GetAvatar(ctx, hash)
	if err != nil && !errors.Is(err, crm.ErrNotFound) {
		return Picture{}, err
	}
	if cached != nil {
		if until := s.expiry(*cached); now.Before(until) {
			return Picture{ContentType: cached.ContentType, Bytes: cached.Bytes, Until: until}, nil
		}
	}
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return Picture{}, ctx.Err()
	}
	fetched, ferr := s.fetch(ctx, hash)
	<-s.slots
	if ferr != nil {
		if ctx.Err() != nil {
			return Picture{}, ctx.Err() // the browser left: nothing learnt
		}
		s.Log.WarnContext(ctx, "gravatar fetch failed", "err", ferr)
		// keep what we had (or none), and ask again after RetryAfter
		keep := crm.Avatar{Hash: hash, FetchedAt: now}
		life := s.AbsentFor
		if cached != nil && cached.Bytes != nil {
			keep.ContentType, keep.Bytes = cached.ContentType, cached.Bytes
			life = s.PresentFor
		}
		keep.FetchedAt = now.Add(s.RetryAfter - life)
		if err := s.Store.PutAvatar(ctx, keep); err != nil {
			return Picture{}, err
		}
		return Picture{ContentType: keep.ContentType, Bytes: keep.Bytes, Until: now.Add(s.RetryAfter)}, nil
	}
	fetched.Hash, fetched.FetchedAt = hash, now
	if err := s.Store.PutAvatar(ctx, fetched); err != nil {
		return Picture{}, err
	}
	return Picture{ContentType: fetched.ContentType, Bytes: fetched.Bytes, Until: s.expiry(fetched)}, nil
}

// expiry is when a cached answer is stale.
func (s *Service) expiry(a crm.Avatar) time.Time {
	if a.Bytes != nil {
		return a.FetchedAt.Add(s.PresentFor)
	}
	return a.FetchedAt.Add(s.AbsentFor)
}

// fetch asks Gravatar: a picture (200 with an image type), none (404), or
// an error for anything else.
func (s *Service) fetch(ctx context.Context, hash string) (crm.Avatar, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s%s?d=404&s=%d", s.BaseURL, hash, Size), nil)
	if err != nil {
		return crm.Avatar{}, err
	}
	req.Header.Set("User-Agent", "crm-avatars")
	res, err := s.Client.Do(req)
	if err != nil {
		return crm.Avatar{}, err
	}
	defer res.Body.Close()
	switch res.StatusCode {
	case http.StatusNotFound:
		return crm.Avatar{}, nil
	case http.StatusOK:
	default:
		return crm.Avatar{}, fmt.Errorf("gravatar answered %s", res.Status)
	}
	ct, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if !imageTypes[ct] {
		return crm.Avatar{}, fmt.Errorf("gravatar answered %q, not a picture", ct)
	}
	b, err := io.ReadAll(io.LimitReader(res.Body, MaxBytes+1))
	if err != nil {
		return crm.Avatar{}, err
	}
	if len(b) == 0 || len(b) > MaxBytes {
		return crm.Avatar{}, fmt.Errorf("gravatar answered a picture of %d bytes", len(b))
	}
	return crm.Avatar{ContentType: ct, Bytes: b}, nil
}
