package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/acme/crm/internal/accounts"
	"github.com/acme/crm/internal/crm"
)

const sessionUser = "user_id"

// SessionUser loads the signed-in user of the request's session into its
// context; it lets anonymous requests through (RequireUser guards pages).
func (w *Web) SessionUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if id := w.Sessions.GetInt64(r.Context(), sessionUser); id != 0 {
			u, err := w.Store.GetUser(r.Context(), id)
			switch {
			case err == nil && u.Active && u.SessionVersion == w.Sessions.GetInt64(r.Context(), sessionVersion):
				if u.MustChangePassword && !forcedChangeAllows(r) {
					// a temporary password opens the page that replaces it, nothing else
					if strings.HasPrefix(r.URL.Path, "/api/") {
						break // anonymous to the API: 401
					}
					http.Redirect(rw, r, passwordPath, http.StatusSeeOther)
					return
				}
				r = r.WithContext(crm.ContextWithUser(r.Context(), u))
			case err == nil || errors.Is(err, crm.ErrNotFound):
				// deactivated, gone, or signed out by a password change: the session ends here
				_ = w.Sessions.Destroy(r.Context())
			default:
				w.fail(rw, r, err)
				return
			}
		}
		next.ServeHTTP(rw, r)
	})
}

// RequireUser sends anonymous visitors to /login (or /setup on a new
// installation), remembering where they were going.
func (w *Web) RequireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if crm.UserFromContext(r.Context()) != nil {
			next.ServeHTTP(rw, r)
			return
		}
		if setup, err := w.Accounts.NeedsSetup(r.Context()); err == nil && setup {
			http.Redirect(rw, r, "/setup", http.StatusSeeOther)
			return
		}
		http.Redirect(rw, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	})
}

// localPath keeps only same-site paths, so ?next= cannot send anyone
// elsewhere; anything else gives the default page. A browser strips tabs and
// line breaks from a URL, trims spaces and control characters, and reads a
// backslash as a slash, so "/\t/evil.example" is "//evil.example" to it: a
// path is accepted only in the form this site makes them (RequireUser sends
// r.URL.RequestURI(), printable ASCII), starting with exactly one slash,
// without backslashes, and with no scheme or host when parsed.
func localPath(p string) string {
	const home = "/crm/customers"
	if p == "" || len(p) > 4096 || p[0] != '/' || strings.HasPrefix(p, "//") {
		return home
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return home
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		!strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return home
	}
	return p // http.Redirect cleans it further ("/a/..//x" becomes "/x")
}

// LoginView is the sign-in form.
type LoginView struct {
	Email string
	Next  string
	Error string
}

// Login shows the sign-in form.
func (w *Web) Login(rw http.ResponseWriter, r *http.Request) {
	if crm.UserFromContext(r.Context()) != nil {
		http.Redirect(rw, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	if setup, err := w.Accounts.NeedsSetup(r.Context()); err == nil && setup {
		http.Redirect(rw, r, "/setup", http.StatusSeeOther)
		return
	}
	w.render(rw, r, http.StatusOK, "login", Page{Title: "Sign in", Content: LoginView{Next: r.URL.Query().Get("next")}})
}

// LoginSubmit checks the credentials and starts a session.
func (w *Web) LoginSubmit(rw http.ResponseWriter, r *http.Request) {
	v := LoginView{Email: strings.TrimSpace(r.PostFormValue("email")), Next: r.PostFormValue("next")}
	u, err := w.Accounts.Authenticate(r.Context(), v.Email, r.PostFormValue("password"), ClientIP(r, w.TrustedProxies))
	if err != nil {
		status := http.StatusUnauthorized
		switch crm.CodeOf(err) {
		case crm.CodeRateLimited:
			status = http.StatusTooManyRequests
		case crm.CodeUnauthorized:
		default:
			w.fail(rw, r, err)
			return
		}
		v.Error = err.Error()
		w.render(rw, r, status, "login", Page{Title: "Sign in", Content: v})
		return
	}
	w.startSession(rw, r, u, localPath(v.Next))
}

func (w *Web) startSession(rw http.ResponseWriter, r *http.Request, u *crm.User, next string) {
	if err := w.Sessions.RenewToken(r.Context()); err != nil { // a new token at sign-in: no session fixation
		w.fail(rw, r, err)
		return
	}
	w.Sessions.Put(r.Context(), sessionUser, u.ID)
	w.Sessions.Put(r.Context(), sessionVersion, u.SessionVersion)
	w.Sessions.Remove(r.Context(), csrfKey)
	http.Redirect(rw, r, next, http.StatusSeeOther)
}

// Logout ends the session.
func (w *Web) Logout(rw http.ResponseWriter, r *http.Request) {
	if err := w.Sessions.Destroy(r.Context()); err != nil {
		w.fail(rw, r, err)
		return
	}
	http.Redirect(rw, r, "/login", http.StatusSeeOther)
}

// SetupView is the first-run form that creates the first admin.
type SetupView struct {
	Name, Email string
	Errors      crm.FieldErrors
	Error       string
}

// Setup shows the first-run form, only while no user exists.
func (w *Web) Setup(rw http.ResponseWriter, r *http.Request) {
	if setup, err := w.Accounts.NeedsSetup(r.Context()); err != nil || !setup {
		http.Redirect(rw, r, "/login", http.StatusSeeOther)
		return
	}
	w.render(rw, r, http.StatusOK, "setup", Page{Title: "Set up Customers", Content: SetupView{}})
}

// SetupSubmit creates the first admin and signs them in.
func (w *Web) SetupSubmit(rw http.ResponseWriter, r *http.Request) {
	v := SetupView{Name: r.PostFormValue("name"), Email: r.PostFormValue("email")}
	u, err := w.Accounts.Setup(r.Context(), accounts.NewUser{Email: v.Email, Name: v.Name, Password: r.PostFormValue("password")})
	if err != nil {
		var fe crm.FieldErrors
		switch {
		case errors.As(err, &fe):
			v.Errors = fe
		case crm.CodeOf(err) == crm.CodeConflict:
			http.Redirect(rw, r, "/login", http.StatusSeeOther)
			return
		default:
			w.fail(rw, r, err)
			return
		}
		w.render(rw, r, http.StatusUnprocessableEntity, "setup", Page{Title: "Set up Customers", Content: v})
		return
	}
	w.startSession(rw, r, u, "/crm/customers")
}
