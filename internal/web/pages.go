package web

import (
	"net/http"
	"strings"
)

// PendingView describes a page whose feature is not built yet.
type PendingView struct {
	Heading string
	What    string
}

// Pending serves a page that says plainly it is not built yet (instead of failing).
func (w *Web) Pending(nav, heading, what string) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		w.render(rw, r, http.StatusOK, "pending", Page{Title: heading, Nav: nav, Content: PendingView{Heading: heading, What: what}})
	}
}

// NotFoundView says what was not found.
type NotFoundView struct {
	Heading string
	What    string
}

// NotFound is the page for unknown addresses and for a customer, company,
// segment or import that does not exist (or no longer does).
func (w *Web) NotFound(rw http.ResponseWriter, r *http.Request) {
	heading, what := "Page not found", "There is nothing at this address. Check the link, or go back to Customers."
	for _, t := range notFoundThings {
		if strings.HasPrefix(r.URL.Path, t.prefix) && len(r.URL.Path) > len(t.prefix) {
			heading, what = t.heading, t.what
			break
		}
	}
	w.render(rw, r, http.StatusNotFound, "notfound", Page{Title: heading, Content: NotFoundView{Heading: heading, What: what}})
}

// notFoundThings name what an address below each prefix would have shown.
var notFoundThings = []struct{ prefix, heading, what string }{
	{"/crm/customers/", "Customer not found", "No customer has this address. It may have been merged into another one; search for it in Customers."},
	{"/crm/companies/", "Company not found", "No company has this address. Search for its customers in Customers."},
	{"/crm/segments/", "Segment not found", "No segment has this address. The list of segments shows every one there is."},
	{"/crm/imports/", "Import not found", "No import has this address, or it was started by someone else."},
	{"/settings/", "Not found", "There is nothing to change at this address. Go back to Settings."},
}
