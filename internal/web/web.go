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
	"html"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // users' time zones on machines without a zone database

	"github.com/alexedwards/scs/v2"

	"github.com/acme/crm/internal/accounts"
	"github.com/acme/crm/internal/avatars"
	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/outreach"
	"github.com/acme/crm/internal/webhooks"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Deps is what the page handlers need.
type Deps struct {
	Accounts  *accounts.Service
	Customers *customers.Service
	Outreach  *outreach.Service
	Store     crm.Store
	Sessions  *scs.SessionManager
	Log       *slog.Logger
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names the client (ClientIP).
	TrustedProxies []netip.Prefix
	// Avatars serves customers' pictures from our origin; nil: initials only.
	Avatars *avatars.Service
	// Webhooks manages outbound webhooks (Settings, admins).
	Webhooks *webhooks.Service
}

// Web serves the pages.
type Web struct {
	Deps
	Now func() time.Time

	pages  map[string]*template.Template // never executed: cloned per time zone (pagesIn)
	assets map[string]string             // file name -> versioned URL

	zonesMu sync.Mutex
	zones   map[string]map[string]*template.Template // time zone name -> pages showing times in it
}

// New parses every template and fingerprints the static files.
func New(d Deps) (*Web, error) {
	w := &Web{Deps: d, Now: time.Now, assets: map[string]string{}, zones: map[string]map[string]*template.Template{}}
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
		"initials":    crm.Initials,
		"thousands":   thousands,
		"country":     crm.CountryName,
		"language":    crm.LanguageName,
		"hue":         hue,
		"scoreOf":     scoreOf,
		"money":       money,
		"list":        func(s ...string) []string { return s },
		"customValue": customValue,
		"avatarSrc":   w.avatarSrc,
		"datalist":    codeDatalist,
	}
	for k, f := range w.zoneFuncs(time.UTC) {
		funcs[k] = f
	}
	for k, f := range crm.TemplateFuncs() {
		funcs[k] = f
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/_*.html")
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
		if base == "layout.html" || strings.HasPrefix(base, "_") { // partials are part of every page
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
	Bare    bool // no signed-in shell (public pages such as unsubscribe)
	Content any  // the page's own view struct
}

// render writes a page; the status is sent only after the template succeeded.
func (w *Web) render(rw http.ResponseWriter, r *http.Request, status int, name string, p Page) {
	t, ok := w.pagesIn(w.userLoc(r))[name]
	if !ok {
		w.fail(rw, r, fmt.Errorf("no page template %q", name))
		return
	}
	if p.User == nil && !p.Bare {
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
	w.Log.ErrorContext(r.Context(), "page failed", "method", r.Method, "path", r.URL.Path, "err", err)
	http.Error(rw, "Something went wrong on our side. Please try again.", http.StatusInternalServerError)
}

// flash keeps a one-line message for the next page shown.
func (w *Web) flash(r *http.Request, msg string) { w.Sessions.Put(r.Context(), "flash", msg) }

// zoneFuncs are the template functions that show a time, in loc: one date
// style everywhere (crm.DateLayout), in the reader's time zone; and the
// customer table's rows, which show times.
func (w *Web) zoneFuncs(loc *time.Location) template.FuncMap {
	rows := rowRenderer{loc: loc, avatarSrc: w.avatarSrc}
	return template.FuncMap{
		"date":     func(t time.Time) string { return crm.FormatDate(t, loc) },
		"datetime": func(t time.Time) string { return crm.FormatDateTime(t, loc) },
		"ago":      func(t time.Time) string { return ago(t, loc) },
		"rowHTML":  rows.row, // the customer table's rows (customer_row.go)
	}
}

// maxZones bounds the page sets kept, one per time zone in use.
const maxZones = 64

// pagesIn returns the page templates that show times in loc, cloned once
// per zone from the parsed (never executed) templates and kept.
func (w *Web) pagesIn(loc *time.Location) map[string]*template.Template {
	w.zonesMu.Lock()
	defer w.zonesMu.Unlock()
	if set, ok := w.zones[loc.String()]; ok {
		return set
	}
	if len(w.zones) >= maxZones {
		if set, ok := w.zones["UTC"]; ok {
			return set
		}
		loc = time.UTC
	}
	set := make(map[string]*template.Template, len(w.pages))
	for name, t := range w.pages {
		c, err := t.Clone()
		if err != nil { // only after an execution, and the originals are never executed
			panic(fmt.Sprintf("clone template %s: %v", name, err))
		}
		set[name] = c.Funcs(w.zoneFuncs(loc))
	}
	w.zones[loc.String()] = set
	return set
}

// prefTimezone is the user preference naming the user's time zone; without
// it, pages use the browser's (the tz cookie app.js keeps), else UTC.
const prefTimezone = "timezone"

// userLoc is the time zone the request's reader sees times in.
func (w *Web) userLoc(r *http.Request) *time.Location {
	if u := crm.UserFromContext(r.Context()); u != nil && w.Store != nil {
		if name, err := w.Store.GetUserPref(r.Context(), u.ID, prefTimezone); err == nil && name != "" {
			if loc, ok := loadZone(name); ok {
				return loc
			}
		}
	}
	if c, err := r.Cookie("tz"); err == nil {
		name, _ := url.QueryUnescape(c.Value)
		if loc, ok := loadZone(name); ok {
			return loc
		}
	}
	return time.UTC
}

// loadZone loads an IANA zone name, refusing odd input ("Local", paths).
func loadZone(name string) (*time.Location, bool) {
	if name == "" || len(name) > 64 || name == "Local" || strings.Contains(name, "..") || strings.HasPrefix(name, "/") {
		return nil, false
	}
	loc, err := time.LoadLocation(name)
	return loc, err == nil
}

func ago(t time.Time, loc *time.Location) string {
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	case d < 48*time.Hour:
		return "yesterday"
	case d < 30*24*time.Hour:
		return fmt.Sprintf("%d days ago", int(d.Hours()/24))
	}
	return crm.FormatDate(t, loc)
}

// thousands writes 12345 as "12,345".
func thousands(n int) string { return crm.Thousands(n) }

// hue picks one of twelve stable colours for a name's initials disc.
func hue(name string) int {
	h := 0
	for _, r := range name {
		h = (h*31 + int(r)) % 9973
	}
	return h % 12
}

// customValue shows a custom field value in a cell.
func customValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		if x {
			return "Yes"
		}
		return "No"
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(e)
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprint(v)
}

// money writes minor units with their currency: 120000 EUR as "1,200.00 EUR".
func money(minor int64, currency string) string {
	return fmt.Sprintf("%s.%02d %s", thousands(int(minor/100)), minor%100, currency)
}

// codeDatalists are the datalists of every country and language the filter
// forms offer, written once: their 430 options, each a handful of
// html/template's reflective calls, cost every table page about a
// millisecond.
var codeDatalists = sync.OnceValue(func() map[string]template.HTML {
	out := map[string]template.HTML{}
	for id, list := range map[string][]crm.CodeName{"country-list": crm.Countries(), "language-list": crm.Languages()} {
		var b strings.Builder
		b.WriteString(`<datalist id="` + id + `">`)
		for _, c := range list {
			b.WriteString(`<option value="` + html.EscapeString(c.Name) + `">` + html.EscapeString(c.Code) + `</option>`)
		}
		b.WriteString(`</datalist>`)
		out[id] = template.HTML(b.String()) // names and codes escaped above
	}
	return out
})

// codeDatalist is the datalist of that id: country-list or language-list.
func codeDatalist(id string) (template.HTML, error) {
	if d, ok := codeDatalists()[id]; ok {
		return d, nil
	}
	return "", fmt.Errorf("no datalist %q", id)
}
