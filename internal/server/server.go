// Package server wires the HTTP surface: the route table, sessions, and the
// middleware every request passes (recovery, logging, security headers,
// cross-origin and CSRF protection).
package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/acme/crm/internal/accounts"
	"github.com/acme/crm/internal/api"
	"github.com/acme/crm/internal/avatars"
	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/importer"
	"github.com/acme/crm/internal/jobs"
	"github.com/acme/crm/internal/live"
	"github.com/acme/crm/internal/obs"
	"github.com/acme/crm/internal/outreach"
	"github.com/acme/crm/internal/replica"
	"github.com/acme/crm/internal/web"
	"github.com/acme/crm/internal/webhooks"
)

// Deps is what the server is built from.
type Deps struct {
	Store        crm.Store
	Accounts     *accounts.Service
	Customers    *customers.Service
	Outreach     *outreach.Service
	Jobs         jobs.Queue
	Imports      *importer.Service
	WebhookToken string
	Log          *slog.Logger
	SecureCookie bool // set when served over https (also sends HSTS)
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the
	// client (CRM_TRUSTED_PROXIES), for sign-in throttling.
	TrustedProxies []netip.Prefix
	// Avatars fetches and caches Gravatar pictures for GET /avatars/{hash};
	// nil answers every one with "none" (initials).
	Avatars *avatars.Service
	// Reads routes the reads a read replica may answer (--db-read); nil
	// without a replica.
	Reads *replica.Router
	// MetricsToken (CRM_METRICS_TOKEN) opens GET /metrics to requests that
	// bear it; empty, /metrics is not served here (404).
	MetricsToken string
	// Ready is the readiness check of GET /readyz (store.DB.Ready: the
	// database answers and its schema is current); nil checks only that
	// the database answers.
	Ready func(context.Context) error
	// Live fans customer changes out to open pages (GET /api/v1/events);
	// nil: one is made here, polling the feed (cmd/crm makes the real one,
	// which LISTENs on PostgreSQL and ends its streams at shutdown).
	Live *live.Hub
	// Webhooks manages outbound webhook endpoints; nil: one over Store that
	// starts its deliveries on Jobs and refuses private addresses.
	Webhooks *webhooks.Service
}

// New returns the whole HTTP handler.
func New(d Deps) (http.Handler, error) {
	if d.Webhooks == nil {
		d.Webhooks = webhooks.New(d.Store, d.Log, false)
		if d.Jobs != nil {
			d.Webhooks.Enqueue = jobs.WebhookEnqueuer(d.Jobs)
		}
	}
	sessions := scs.New()
	sessions.Store = newSessionStore(d.Store)
	sessions.Lifetime = 30 * 24 * time.Hour
	sessions.IdleTimeout = 7 * 24 * time.Hour
	sessions.Cookie.Name = "crm_session"
	sessions.Cookie.HttpOnly = true
	sessions.Cookie.SameSite = http.SameSiteLaxMode
	sessions.Cookie.Secure = d.SecureCookie
	sessions.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		d.Log.ErrorContext(r.Context(), "session failed", "path", logPath(r), "err", err)
		http.Error(w, "Something went wrong on our side. Please try again.", http.StatusInternalServerError)
	}

	if d.Live == nil {
		d.Live = live.New(d.Store, live.Options{MaySee: customers.MaySee, Log: d.Log})
	}
	w, err := web.New(web.Deps{Accounts: d.Accounts, Customers: d.Customers, Outreach: d.Outreach, Store: d.Store, Sessions: sessions, Log: d.Log, TrustedProxies: d.TrustedProxies, Avatars: d.Avatars, Webhooks: d.Webhooks})
	if err != nil {
		return nil, err
	}
	apiHandler := api.Handler(api.Deps{Accounts: d.Accounts, Customers: d.Customers, Outreach: d.Outreach, Jobs: d.Jobs, Imports: d.Imports, WebhookToken: d.WebhookToken, Store: d.Store, Log: d.Log, SessionCSRF: w.ValidCSRF, Live: d.Live, Webhooks: d.Webhooks})

	mux := http.NewServeMux()
	page := func(h http.HandlerFunc) http.Handler { return w.RequireUser(w.CSRF(h)) }
	open := func(h http.HandlerFunc) http.Handler { return w.CSRF(h) }

	// The route table, top to bottom.
	mux.HandleFunc("GET /healthz", health(d.Store))
	routeOps(mux, d)
	mux.Handle("GET /static/", w.Static())
	mux.Handle("/api/", apiHandler)

	mux.HandleFunc("GET /u/{token}", w.Unsubscribe)        // public: the signed link is the permission
	mux.HandleFunc("POST /u/{token}", w.UnsubscribeSubmit) // also one-click from mail clients (RFC 8058)

	mux.Handle("GET /login", open(w.Login))
	mux.Handle("POST /login", open(w.LoginSubmit))
	mux.Handle("POST /logout", open(w.Logout))
	mux.Handle("GET /setup", open(w.Setup))
	mux.Handle("POST /setup", open(w.SetupSubmit))

	mux.Handle("GET /{$}", page(func(rw http.ResponseWriter, r *http.Request) {
		http.Redirect(rw, r, "/crm/customers", http.StatusSeeOther)
	}))
	mux.Handle("GET /avatars/{hash}", page(w.Avatar)) // our origin's copy of a Gravatar picture
	mux.Handle("GET /crm/customers", page(w.CustomerList))
	mux.Handle("POST /crm/customers/columns", page(w.SaveColumns))
	mux.Handle("GET /crm/customers/{id}", page(w.CustomerDrawer))
	mux.Handle("GET /crm/views/{id}", page(w.OpenView)) // a saved view's link to share
	mux.Handle("GET /crm/duplicates", page(w.Duplicates))
	mux.Handle("GET /crm/companies/duplicates", page(w.CompanyDuplicates))
	mux.Handle("GET /crm/companies/{id}", page(w.Company))
	mux.Handle("GET /crm/companies", page(w.CompanyList))
	mux.Handle("GET /crm/segments", page(w.Segments))
	mux.Handle("POST /crm/segments", page(w.CreateSegment))
	mux.Handle("POST /crm/segments/{id}", page(w.RenameSegment))
	mux.Handle("GET /crm/imports", page(w.Imports))
	mux.Handle("GET /crm/imports/{id}", page(w.Imports))
	mux.Handle("GET /settings", page(w.Settings))
	mux.Handle("POST /settings/timezone", page(w.SaveTimezone))
	mux.Handle("POST /settings/tokens", page(w.CreateToken))
	mux.Handle("POST /settings/tokens/{id}/revoke", page(w.RevokeToken))
	mux.Handle("POST /settings/users", page(w.AddUser))
	mux.Handle("POST /settings/users/{id}", page(w.ChangeUser))
	mux.Handle("POST /settings/users/{id}/reset-password", page(w.ResetPassword))
	mux.Handle("POST /settings/account", page(w.RenameSelf))
	mux.Handle("GET /settings/password", page(w.PasswordPage))
	mux.Handle("POST /settings/password", page(w.ChangePassword))
	mux.Handle("POST /settings/products", page(w.AddProduct))
	mux.Handle("POST /settings/products/{id}", page(w.RenameProduct))
	mux.Handle("POST /settings/fields", page(w.AddCustomField))
	mux.Handle("POST /settings/fields/{id}", page(w.ChangeCustomField))
	w.WebhookRoutes(mux, page)
	mux.Handle("/", page(w.NotFound))

	var h http.Handler = obs.RecordPattern(mux)
	h = w.SessionUser(h)
	h = sessions.LoadAndSave(h)
	h = trackSessions(h) // lets the session store skip commits that only refresh the expiry
	h = checkInput(h)
	cop := http.NewCrossOriginProtection()
	cop.AddInsecureBypassPattern("POST /u/{token}")                    // mail providers' one-click unsubscribe comes from elsewhere
	cop.AddInsecureBypassPattern("POST /api/v1/webhooks/email-events") // the mail provider's webhook: its own token, never a cookie
	h = tokenRequestsBypass(cop, h)
	if d.Reads != nil {
		h = d.Reads.Middleware(h, d.SecureCookie) // the replica for GET, the user's last change recorded after others
	}
	h = securityHeaders(h, d.SecureCookie)
	h = instrument(h)
	h = logRequests(d.Log, h)
	h = recoverPanics(d.Log, h)
	h = requestIDs(h)
	return h, nil
}

func health(s crm.Store) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if _, err := s.CountUsers(ctx); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	}
}

// tokenRequestsBypass puts the cross-origin protection in front of h,
// except for API requests that carry an Authorization header: the API then
// authenticates by that token alone and ignores the session cookie, and a
// browser never adds that header to a cross-site request by itself (nor may
// a page, without a CORS permission this server never gives), so such a
// request cannot be a forgery riding on someone's session.
func tokenRequestsBypass(cop *http.CrossOriginProtection, h http.Handler) http.Handler {
	protected := cop.Handler(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") && r.Header.Get("Authorization") != "" {
			h.ServeHTTP(w, r)
			return
		}
		protected.ServeHTTP(w, r)
	})
}

// securityHeaders sets the headers every answer gets; https adds HSTS. Pages
// and API answers carry customer data and are never stored by a browser or a
// proxy (Cache-Control: no-store); only static assets may be cached.
func securityHeaders(next http.Handler, https bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		if https {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; "+
				"style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
		}
		next.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logRequests logs method, path (never the query: it may hold search text), status and time.
// Probes and scrapes (/healthz, /readyz, /metrics) that succeed are not logged.
func logRequests(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if strings.HasPrefix(r.URL.Path, "/static/") {
			return
		}
		switch r.URL.Path {
		case "/healthz", "/readyz", "/metrics":
			if sw.status < 400 {
				return
			}
		}
		log.InfoContext(r.Context(), "request", "method", r.Method, "path", logPath(r), "status", sw.status, "ms", time.Since(start).Milliseconds())
	})
}

// logPath is the request's path as logged: an unsubscribe link's token
// (which unsubscribes whoever holds it) is left out.
func logPath(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/u/") {
		return "/u/..."
	}
	return r.URL.Path
}

func recoverPanics(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.ErrorContext(r.Context(), "panic", "path", logPath(r), "panic", p)
				http.Error(w, "Something went wrong on our side. Please try again.", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}
