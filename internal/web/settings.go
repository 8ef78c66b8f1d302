package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/acme/crm/internal/crm"
)

// SettingsView is the Settings page: the user's own API tokens, the team,
// products and custom fields (changeable by admins, read-only for members).
type SettingsView struct {
	Tokens   []crm.APIToken
	NewToken string // shown once, right after it was created
	NewName  string
	Error    string
	Users    []crm.User
	Products []crm.Product
	Fields   []crm.CustomField // live and retired

	Admin      bool
	FieldTypes []crm.FieldType

	// Form is the form that was just refused, with what was typed and the
	// errors to show beside its fields; Alert is a refusal that concerns no
	// one field (the last admin, a member posting), shown atop its section.
	Form  FormState
	Alert Alert

	Timezone      string // the user's chosen time zone; "" for the browser's
	TimezoneError string
	// ResetPassword is a temporary password an admin just made for
	// ResetFor, shown once (like NewToken).
	ResetPassword, ResetFor string

	Webhooks *WebhooksView // admins only (settings_webhooks.go)
}

// FormState is a submitted form shown again: Kind names the form ("user",
// "product", "field"), ID the row it edits (0 for an add form).
type FormState struct {
	Kind   string
	ID     int64
	Values map[string]string
	Errors crm.FieldErrors
}

// Active reports whether this is the form that was submitted.
func (f FormState) Active() bool { return f.Kind != "" }

// Get returns what was typed in a field.
func (f FormState) Get(field string) string { return f.Values[field] }

// Or returns what was typed when this form was submitted, else current.
func (f FormState) Or(field, current string) string {
	if f.Active() {
		return f.Values[field]
	}
	return current
}

// Err returns the error to show beside a field, or "".
func (f FormState) Err(field string) string { return f.Errors.For(field) }

// Alert is a message shown at the top of one section of the page.
type Alert struct {
	Section string
	Message string
}

// FormFor returns the submitted form if it is this one, else an empty state.
func (v SettingsView) FormFor(kind string, id int64) FormState {
	if v.Form.Kind == kind && v.Form.ID == id {
		return v.Form
	}
	return FormState{}
}

// AlertFor returns the message for a section, or "".
func (v SettingsView) AlertFor(section string) string {
	if v.Alert.Section == section {
		return v.Alert.Message
	}
	return ""
}

// Lines writes options one per line, for a textarea.
func (SettingsView) Lines(opts []string) string { return strings.Join(opts, "\n") }

// Joined writes options on one line, for a table cell.
func (SettingsView) Joined(opts []string) string { return strings.Join(opts, ", ") }

// HasOptions reports whether a field type takes a list of options.
func (SettingsView) HasOptions(t crm.FieldType) bool {
	return t == crm.FieldSelect || t == crm.FieldMultiselect
}

// Settings shows the Settings page.
func (w *Web) Settings(rw http.ResponseWriter, r *http.Request) {
	v := SettingsView{NewToken: w.Sessions.PopString(r.Context(), "new_token"),
		ResetPassword: w.Sessions.PopString(r.Context(), "reset_password"), ResetFor: w.Sessions.PopString(r.Context(), "reset_for")}
	if sec := w.Sessions.PopString(r.Context(), "webhook_secret"); sec != "" {
		id, _ := strconv.ParseInt(w.Sessions.PopString(r.Context(), "webhook_secret_id"), 10, 64)
		v.Webhooks = &WebhooksView{NewSecret: sec, NewSecretID: id}
	}
	w.settings(rw, r, http.StatusOK, v)
}

func (w *Web) settings(rw http.ResponseWriter, r *http.Request, status int, v SettingsView) {
	ctx := r.Context()
	u := crm.UserFromContext(ctx)
	var err error
	if v.Tokens, err = w.Accounts.ListTokens(ctx, u, u.ID); err != nil {
		w.fail(rw, r, err)
		return
	}
	if v.Users, err = w.Accounts.ListUsers(ctx); err != nil {
		w.fail(rw, r, err)
		return
	}
	if v.Products, err = w.Customers.Products(ctx); err != nil {
		w.fail(rw, r, err)
		return
	}
	if v.Fields, err = w.Customers.AllCustomFields(ctx); err != nil {
		w.fail(rw, r, err)
		return
	}
	v.Admin = u.IsAdmin()
	v.FieldTypes = crm.FieldTypes
	if v.Timezone, err = w.Store.GetUserPref(ctx, u.ID, prefTimezone); err != nil {
		w.fail(rw, r, err)
		return
	}
	if err := w.loadWebhooks(ctx, u, &v); err != nil {
		w.fail(rw, r, err)
		return
	}
	w.render(rw, r, status, "settings", Page{Title: "Settings", Nav: "settings", Content: v})
}

// settingsRefused shows the Settings page again after a service refused a
// change: invalid input beside its fields (422, typed values kept in
// v.Form), a refusal atop the section (403 forbidden, 409 conflict), 404 for
// a row that does not exist; anything else is our failure.
func (w *Web) settingsRefused(rw http.ResponseWriter, r *http.Request, v SettingsView, section string, err error) {
	var status int
	switch crm.CodeOf(err) {
	case crm.CodeInvalid:
		status = http.StatusUnprocessableEntity
		if fe := fieldErrors(err); len(fe) > 0 && v.Form.Active() {
			v.Form.Errors = fe
		} else { // no form to show it beside (a row button): atop the section
			v.Alert = Alert{Section: section, Message: message(err)}
		}
	case crm.CodeForbidden:
		status = http.StatusForbidden
		v.Alert = Alert{Section: section, Message: message(err)}
		v.Form = FormState{}
	case crm.CodeConflict:
		status = http.StatusConflict
		v.Alert = Alert{Section: section, Message: message(err)}
		v.Form = FormState{}
	case crm.CodeNotFound:
		w.NotFound(rw, r)
		return
	default:
		w.fail(rw, r, err)
		return
	}
	w.settings(rw, r, status, v)
}

// fieldErrors returns the per-field errors in err (one or several).
func fieldErrors(err error) crm.FieldErrors {
	var fe crm.FieldErrors
	if errors.As(err, &fe) {
		return fe
	}
	var e *crm.Error
	if errors.As(err, &e) && e.Field != "" {
		return crm.FieldErrors{e}
	}
	return nil
}

// message is the readable part of a domain error (without the field names).
func message(err error) string {
	var fe crm.FieldErrors
	if errors.As(err, &fe) && len(fe) > 0 {
		msgs := make([]string, len(fe))
		for i, e := range fe {
			msgs[i] = e.Message
		}
		return strings.Join(msgs, " ")
	}
	var e *crm.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// pathID reads the {id} of the route; ok is false when it is not a number.
func pathID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

// parseForm parses a posted form, answering 400 when it cannot.
func parseForm(rw http.ResponseWriter, r *http.Request) bool {
	if err := r.ParseForm(); err != nil {
		http.Error(rw, "This form could not be read. Go back, reload the page and try again.", http.StatusBadRequest)
		return false
	}
	return true
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
		w.settings(rw, r, http.StatusUnprocessableEntity, SettingsView{NewName: name, Error: message(err)})
		return
	}
	// Post/redirect/get: the token survives one page view in the session, then is gone.
	w.Sessions.Put(r.Context(), "new_token", plain)
	http.Redirect(rw, r, "/settings#tokens", http.StatusSeeOther)
}

// RevokeToken revokes one of the user's tokens.
func (w *Web) RevokeToken(rw http.ResponseWriter, r *http.Request) {
	u := crm.UserFromContext(r.Context())
	id, ok := pathID(r)
	if !ok {
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
