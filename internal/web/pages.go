package web

import "net/http"

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

// NotFound is the page for unknown addresses.
func (w *Web) NotFound(rw http.ResponseWriter, r *http.Request) {
	w.render(rw, r, http.StatusNotFound, "pending", Page{Title: "Not found", Content: PendingView{
		Heading: "Page not found", What: "There is nothing at this address. Check the link, or go back to Customers."}})
}
