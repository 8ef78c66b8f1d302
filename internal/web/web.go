// Package web serves the HTML pages: one small file per page or action,
// typed view structs, templates parsed at start-up (a broken template stops
// the boot, not a user's click) and embedded static assets with
// cache-busting URLs.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/acme/crm/internal/accounts"
	"github.com/acme/crm/internal/crm"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Web holds what the page handlers need.
type Web struct {
	Accounts *accounts.Service
	Store    crm.Store
	Sessions *scs.SessionManager
	Log      *slog.Logger
	Now      func() time.Time

	pages  map[string]*template.Template
	assets map[string]string // file name -> versioned URL
}

// New parses every template and fingerprints the static files.
func New(acc *accounts.Service, st crm.Store, sessions *scs.SessionManager, log *slog.Logger) (*Web, error) {
	w := &Web{Accounts: acc, Store: st, Sessions: sessions, Log: log, Now: time.Now, assets: map[string]string{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		w.assets[strings.TrimPrefix(p, "static/")] = "/" + p + "?v=" + hex.EncodeToString(sum[:6])
		return nil
	})
	if err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		"asset": func(name string) (string, error) {
			u, ok := w.assets[name]
			if !ok {
				return "", fmt.Errorf("no static asset %q", name)
			}
			return u, nil
		},
		"initials": crm.Initials,
		"date":     func(t time.Time) string { return t.UTC().Format("2006-01-02") },
		"datetime": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
		"ago":      ago,
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	w.pages = map[string]*template.Template{}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", base, err)
		}
		w.pages[strings.TrimSuffix(base, ".html")] = t
	}
	return w, nil
}

// Static serves the embedded assets; versioned URLs may be cached for a year.
func (w *Web) Static() http.Handler {
	files := http.FileServerFS(staticFS)
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("v") != "" {
			rw.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		files.ServeHTTP(rw, r)
	})
}

// Page is what every page template gets.
type Page struct {
	Title   string
	Nav     string // the current navigation item
	User    *crm.User
	CSRF    string
	Flash   string
	Content any // the page's own view struct
}

// render writes a page; the status is sent only after the template succeeded.
func (w *Web) render(rw http.ResponseWriter, r *http.Request, status int, name string, p Page) {
	t, ok := w.pages[name]
	if !ok {
		w.fail(rw, r, fmt.Errorf("no page template %q", name))
		return
	}
	if p.User == nil {
		p.User = crm.UserFromContext(r.Context())
	}
	p.CSRF = w.csrfToken(r)
	if p.Flash == "" {
		p.Flash = w.Sessions.PopString(r.Context(), "flash")
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		w.fail(rw, r, err)
		return
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.WriteHeader(status)
	_, _ = buf.WriteTo(rw)
}

// fail logs an unexpected error and shows a plain error page.
func (w *Web) fail(rw http.ResponseWriter, r *http.Request, err error) {
	w.Log.Error("page failed", "method", r.Method, "path", r.URL.Path, "err", err)
	http.Error(rw, "Something went wrong on our side. Please try again.", http.StatusInternalServerError)
}

// flash keeps a one-line message for the next page shown.
func (w *Web) flash(r *http.Request, msg string) { w.Sessions.Put(r.Context(), "flash", msg) }

func ago(t time.Time) string {
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	case d < 30*24*time.Hour:
		return fmt.Sprintf("%d days ago", int(d.Hours()/24))
	}
	return t.UTC().Format("2006-01-02")
}
