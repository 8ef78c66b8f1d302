package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
)

// AddProduct adds a product (admins only; the rules are the customers service's).
func (w *Web) AddProduct(rw http.ResponseWriter, r *http.Request) {
	f := FormState{Kind: "product", Values: map[string]string{"key": r.PostFormValue("key"), "name": r.PostFormValue("name")}}
	p, err := w.Customers.CreateProduct(r.Context(), crm.UserFromContext(r.Context()), f.Values["key"], f.Values["name"])
	if err != nil {
		w.settingsRefused(rw, r, SettingsView{Form: f}, "products", err)
		return
	}
	w.flash(r, fmt.Sprintf("Added the product %s (%s).", p.Name, p.Key))
	http.Redirect(rw, r, "/settings#products", http.StatusSeeOther)
}

// RenameProduct renames a product; its key stays.
func (w *Web) RenameProduct(rw http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		w.NotFound(rw, r)
		return
	}
	f := FormState{Kind: "product", ID: id, Values: map[string]string{"name": r.PostFormValue("name")}}
	p, err := w.Customers.RenameProduct(r.Context(), crm.UserFromContext(r.Context()), id, f.Values["name"])
	if err != nil {
		w.settingsRefused(rw, r, SettingsView{Form: f}, "products", err)
		return
	}
	w.flash(r, fmt.Sprintf("Renamed the product %s to %s.", p.Key, p.Name))
	http.Redirect(rw, r, "/settings#products", http.StatusSeeOther)
}

// AddCustomField defines a custom field.
func (w *Web) AddCustomField(rw http.ResponseWriter, r *http.Request) {
	f := FormState{Kind: "field", Values: map[string]string{
		"key":     r.PostFormValue("key"),
		"label":   r.PostFormValue("label"),
		"type":    r.PostFormValue("type"),
		"options": r.PostFormValue("options"),
	}}
	if strings.TrimSpace(f.Values["key"]) == "" { // shown again with the key the label gave
		f.Values["key"] = customers.FieldKeyFromLabel(f.Values["label"])
	}
	cf, err := w.Customers.CreateCustomField(r.Context(), crm.UserFromContext(r.Context()), crm.CustomField{
		Key: f.Values["key"], Label: f.Values["label"], Type: crm.FieldType(f.Values["type"]), Options: splitOptions(f.Values["options"]),
	})
	if err != nil {
		w.settingsRefused(rw, r, SettingsView{Form: f}, "fields", err)
		return
	}
	w.flash(r, fmt.Sprintf("Added the custom field %s (%s). It shows on every customer from now on.", cf.Label, cf.Type))
	http.Redirect(rw, r, "/settings#fields", http.StatusSeeOther)
}

// ChangeCustomField edits a field's label and options, or retires / brings
// it back: the form sends label and options, or retired=true|false.
func (w *Web) ChangeCustomField(rw http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r)
	if !ok {
		w.NotFound(rw, r)
		return
	}
	if !parseForm(rw, r) {
		return
	}
	f := FormState{Kind: "field", ID: id, Values: map[string]string{}}
	var ch customers.CustomFieldChange
	if _, ok := r.PostForm["label"]; ok {
		label := r.PostForm.Get("label")
		f.Values["label"] = label
		ch.Label = &label
	}
	if _, ok := r.PostForm["options"]; ok {
		f.Values["options"] = r.PostForm.Get("options")
		opts := splitOptions(f.Values["options"])
		ch.Options = &opts
	}
	if v, ok := r.PostForm["retired"]; ok && len(v) > 0 {
		retired := v[0] == "true"
		ch.Retired = &retired
		f = FormState{} // a button, not a form to show again
	}
	cf, err := w.Customers.UpdateCustomField(r.Context(), crm.UserFromContext(r.Context()), id, ch)
	if err != nil {
		w.settingsRefused(rw, r, SettingsView{Form: f}, "fields", err)
		return
	}
	switch {
	case ch.Retired != nil && *ch.Retired:
		w.flash(r, fmt.Sprintf("Retired %s: it no longer shows on customers; its values are kept.", cf.Label))
	case ch.Retired != nil:
		w.flash(r, fmt.Sprintf("%s is back on customers, with the values it had.", cf.Label))
	default:
		w.flash(r, fmt.Sprintf("Saved the custom field %s.", cf.Label))
	}
	http.Redirect(rw, r, "/settings#fields", http.StatusSeeOther)
}

// splitOptions reads the options box: one option per line, or, when it holds
// a single line, options separated by commas.
func splitOptions(s string) []string {
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 1 {
		lines = strings.Split(lines[0], ",")
	}
	return lines
}
