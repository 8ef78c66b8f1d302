package web

import (
	"fmt"
	"net/http"

	"github.com/acme/crm/internal/accounts"
	"github.com/acme/crm/internal/crm"
)

// AddUser adds a user from the Team section (admins only; the rules are accounts').
func (w *Web) AddUser(rw http.ResponseWriter, r *http.Request) {
	f := FormState{Kind: "user", Values: map[string]string{
		"name":  r.PostFormValue("name"),
		"email": r.PostFormValue("email"),
		"role":  r.PostFormValue("role"),
	}} // never the password: it is not shown again
	u, err := w.Accounts.CreateUser(r.Context(), crm.UserFromContext(r.Context()), accounts.NewUser{
		Name: f.Values["name"], Email: f.Values["email"], Role: crm.Role(f.Values["role"]), Password: r.PostFormValue("password"),
	})
	if err != nil {
		w.settingsRefused(rw, r, SettingsView{Form: f}, "users", err)
		return
	}
	w.flash(r, fmt.Sprintf("Added %s as %s. They can sign in as %s with the password you chose.", u.Name, article(u.Role), u.Email))
	http.Redirect(rw, r, "/settings#users", http.StatusSeeOther)
}

// ChangeUser changes a user's role or deactivates / reactivates them: the
// form sends role, or active=true|false.
func (w *Web) ChangeUser(rw http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		w.NotFound(rw, r)
		return
	}
	if !parseForm(rw, r) {
		return
	}
	var ch accounts.UserChange
	if v, ok := r.PostForm["role"]; ok && len(v) > 0 {
		role := crm.Role(v[0])
		ch.Role = &role
	}
	if v, ok := r.PostForm["active"]; ok && len(v) > 0 {
		active := v[0] == "true"
		ch.Active = &active
	}
	u, err := w.Accounts.UpdateUser(r.Context(), crm.UserFromContext(r.Context()), id, ch)
	if err != nil {
		w.settingsRefused(rw, r, SettingsView{}, "users", err)
		return
	}
	switch {
	case ch.Active != nil && !*ch.Active:
		w.flash(r, fmt.Sprintf("%s is deactivated: they can no longer sign in. Their customers stay theirs.", u.Name))
	case ch.Active != nil:
		w.flash(r, fmt.Sprintf("%s is active again and can sign in.", u.Name))
	case ch.Role != nil:
		w.flash(r, fmt.Sprintf("%s is now %s.", u.Name, article(u.Role)))
	default:
		w.flash(r, fmt.Sprintf("Nothing to change for %s.", u.Name))
	}
	http.Redirect(rw, r, "/settings#users", http.StatusSeeOther)
}

// article writes a role with its article: "an admin", "a member".
func article(r crm.Role) string {
	if r == crm.RoleAdmin {
		return "an admin"
	}
	return "a " + string(r)
}
