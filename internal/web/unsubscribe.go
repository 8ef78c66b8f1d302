package web

import (
	"net/http"

	"github.com/acme/crm/internal/crm"
)

// UnsubscribeView is the public page behind the link in every e-mail.
type UnsubscribeView struct {
	Token   string
	Address string
	Already bool
	Done    bool
	Error   string
}

// Unsubscribe shows the confirmation page of an unsubscribe link (no sign-in).
func (w *Web) Unsubscribe(rw http.ResponseWriter, r *http.Request) {
	tok := r.PathValue("token")
	addr, already, err := w.Outreach.UnsubscribeInfo(r.Context(), tok)
	v := UnsubscribeView{Token: tok, Address: addr, Already: already}
	status := http.StatusOK
	if err != nil {
		if crm.CodeOf(err) != crm.CodeNotFound {
			w.fail(rw, r, err)
			return
		}
		v.Error, status = err.Error(), http.StatusNotFound
	}
	w.render(rw, r, status, "unsubscribe", Page{Title: "Unsubscribe", Bare: true, Content: v})
}

// UnsubscribeSubmit suppresses the link's address: the page's button, or a
// mail client's one-click POST (RFC 8058), which carries no form token: the
// signed link is the permission.
func (w *Web) UnsubscribeSubmit(rw http.ResponseWriter, r *http.Request) {
	tok := r.PathValue("token")
	addr, err := w.Outreach.Unsubscribe(r.Context(), tok)
	v := UnsubscribeView{Token: tok, Address: addr, Done: err == nil}
	status := http.StatusOK
	if err != nil {
		if crm.CodeOf(err) != crm.CodeNotFound {
			w.fail(rw, r, err)
			return
		}
		v.Error, status = err.Error(), http.StatusNotFound
	}
	w.render(rw, r, status, "unsubscribe", Page{Title: "Unsubscribe", Bare: true, Content: v})
}
