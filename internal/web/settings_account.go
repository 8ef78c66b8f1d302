package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/acme/crm/internal/crm"
)

// Your account (name and password), the forced change after an admin's
// reset, and the reset itself (issue 17, item 6). The rules are accounts'.

// sessionVersion is the session key holding the user's session version at
// sign-in (see accounts: a password change raises it and ends older sessions).
const sessionVersion = "user_v"

// passwordPath is the only page a user with a temporary password may see.
const passwordPath = "/settings/password"

// forcedChangeAllows lists what a session with a temporary password may
// reach: the change itself, signing out, and the assets of its page.
func forcedChangeAllows(r *http.Request) bool {
	p := r.URL.Path
	return p == passwordPath || p == "/logout" || strings.HasPrefix(p, "/static/")
}

// RenameSelf changes the signed-in user's name.
func (w *Web) RenameSelf(rw http.ResponseWriter, r *http.Request) {
	f := FormState{Kind: "account", Values: map[string]string{"name": r.PostFormValue("name")}}
	u, err := w.Accounts.Rename(r.Context(), crm.UserFromContext(r.Context()), f.Values["name"])
	if err != nil {
		w.settingsRefused(rw, r, SettingsView{Form: f}, "account", err)
		return
	}
	w.flash(r, fmt.Sprintf("Your name is now %s.", u.Name))
	http.Redirect(rw, r, "/settings#account", http.StatusSeeOther)
}

// PasswordView is the page that replaces a temporary password.
type PasswordView struct {
	Name   string
	Errors crm.FieldErrors
	Error  string
}

// PasswordPage shows the forced change; anyone else changes their password
// in the Settings page.
func (w *Web) PasswordPage(rw http.ResponseWriter, r *http.Request) {
	u := crm.UserFromContext(r.Context())
	if !u.MustChangePassword {
		http.Redirect(rw, r, "/settings#password", http.StatusSeeOther)
		return
	}
	w.render(rw, r, http.StatusOK, "password", Page{Title: "Choose your password", Bare: true, Content: PasswordView{Name: u.Name}})
}

// ChangePassword replaces the signed-in user's password: from the Settings
// page (current password required) or from the forced change page. Other
// sessions of the user end; this one is renewed and stays.
func (w *Web) ChangePassword(rw http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := crm.UserFromContext(ctx)
	forced := u.MustChangePassword
	next, confirm := r.PostFormValue("password"), r.PostFormValue("confirm")
	var err error
	var changed *crm.User
	if next != confirm && next != "" {
		err = crm.FieldErrors{crm.Invalid("confirm", "The two passwords are not the same.")}
	} else {
		changed, err = w.Accounts.ChangePassword(ctx, u, r.PostFormValue("current"), next, ClientIP(r, w.TrustedProxies))
	}
	if err != nil {
		if crm.CodeOf(err) == crm.CodeRateLimited {
			err = crm.FieldErrors{crm.Invalid("current", "%s", message(err))}
		}
		if forced {
			fe := fieldErrors(err)
			if fe == nil && crm.CodeOf(err) != crm.CodeInvalid {
				w.fail(rw, r, err)
				return
			}
			w.render(rw, r, http.StatusUnprocessableEntity, "password", Page{Title: "Choose your password", Bare: true,
				Content: PasswordView{Name: u.Name, Errors: fe}})
			return
		}
		w.settingsRefused(rw, r, SettingsView{Form: FormState{Kind: "password", Values: map[string]string{}}}, "account", err)
		return
	}
	if err := w.Sessions.RenewToken(ctx); err != nil {
		w.fail(rw, r, err)
		return
	}
	w.Sessions.Put(ctx, sessionVersion, changed.SessionVersion)
	if forced {
		w.flash(r, "Your password is set. Welcome!")
		http.Redirect(rw, r, "/crm/customers", http.StatusSeeOther)
		return
	}
	w.flash(r, "Your password is changed. Your other sessions are signed out; API tokens keep working.")
	http.Redirect(rw, r, "/settings#account", http.StatusSeeOther)
}

// ResetPassword gives a user a temporary password, shown once to the admin.
func (w *Web) ResetPassword(rw http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		w.NotFound(rw, r)
		return
	}
	temp, u, err := w.Accounts.ResetPassword(r.Context(), crm.UserFromContext(r.Context()), id)
	if err != nil {
		w.settingsRefused(rw, r, SettingsView{}, "users", err)
		return
	}
	// Post/redirect/get, like a new token: kept for one page view, then gone.
	w.Sessions.Put(r.Context(), "reset_password", temp)
	w.Sessions.Put(r.Context(), "reset_for", fmt.Sprintf("%s (%s)", u.Name, u.Email))
	http.Redirect(rw, r, "/settings#users", http.StatusSeeOther)
}
