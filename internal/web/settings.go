package web

import (
	"net/http"
	"strconv"

	"github.com/acme/crm/internal/crm"
)

// SettingsView is the Settings page: the user's own API tokens, and the team.
type SettingsView struct {
	Tokens   []crm.APIToken
	NewToken string // shown once, right after it was created
	NewName  string
	Error    string
	Users    []crm.User
}

// Settings shows the Settings page.
func (w *Web) Settings(rw http.ResponseWriter, r *http.Request) {
	v := SettingsView{NewToken: w.Sessions.PopString(r.Context(), "new_token")}
	w.settings(rw, r, http.StatusOK, v)
}

func (w *Web) settings(rw http.ResponseWriter, r *http.Request, status int, v SettingsView) {
	u := crm.UserFromContext(r.Context())
	var err error
	if v.Tokens, err = w.Accounts.ListTokens(r.Context(), u, u.ID); err != nil {
		w.fail(rw, r, err)
		return
	}
	if v.Users, err = w.Accounts.ListUsers(r.Context()); err != nil {
		w.fail(rw, r, err)
		return
	}
	w.render(rw, r, status, "settings", Page{Title: "Settings", Nav: "settings", Content: v})
}

// CreateToken makes a personal API token and shows it once.
func (w *Web) CreateToken(rw http.ResponseWriter, r *http.Request) {
	u := crm.UserFromContext(r.Context())
	name := r.PostFormValue("name")
	plain, _, err := w.Accounts.CreateToken(r.Context(), u, u.ID, name)
	if err != nil {
		if crm.CodeOf(err) == crm.CodeInternal {
			w.fail(rw, r, err)
			return
		}
		w.settings(rw, r, http.StatusUnprocessableEntity, SettingsView{NewName: name, Error: err.Error()})
		return
	}
	// Post/redirect/get: the token survives one page view in the session, then is gone.
	w.Sessions.Put(r.Context(), "new_token", plain)
	http.Redirect(rw, r, "/settings#tokens", http.StatusSeeOther)
}

// RevokeToken revokes one of the user's tokens.
func (w *Web) RevokeToken(rw http.ResponseWriter, r *http.Request) {
	u := crm.UserFromContext(r.Context())
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		w.NotFound(rw, r)
		return
	}
	if err := w.Accounts.RevokeToken(r.Context(), u, u.ID, id); err != nil {
		if crm.CodeOf(err) == crm.CodeNotFound {
			w.NotFound(rw, r)
			return
		}
		w.fail(rw, r, err)
		return
	}
	w.flash(r, "Token revoked. Programs using it can no longer sign in.")
	http.Redirect(rw, r, "/settings#tokens", http.StatusSeeOther)
}
