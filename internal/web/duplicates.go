package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/acme/crm/internal/crm"
)

// DuplicatesView lists pairs of active customers that share contact values.
type DuplicatesView struct {
	Pairs []crm.DuplicatePair
	Next  string // the cursor of the next page, "" on the last page
	Error string
}

// Review opens the table with the pair's two customers and their merge
// preview (bulk.js opens it for "#merge").
func (DuplicatesView) Review(p crm.DuplicatePair) string {
	q := url.Values{"id": {strconv.FormatInt(p.A.ID, 10), strconv.FormatInt(p.B.ID, 10)}}
	return tableLink("/crm/customers", q) + "#merge"
}

// NextURL is the next page of pairs.
func (v DuplicatesView) NextURL() string {
	return tableLink("/crm/duplicates", url.Values{"after": {v.Next}})
}

// Reason says what a shared value is, in words.
func (DuplicatesView) Reason(r crm.SharedContact) string {
	switch r.Channel {
	case crm.ChannelEmail:
		return "same e-mail"
	case crm.ChannelPhone:
		return "same phone"
	case crm.ChannelLinkedIn:
		return "same LinkedIn"
	}
	return "same " + string(r.Channel)
}

// Duplicates serves /crm/duplicates: possible duplicates, a page of pairs at a time.
func (w *Web) Duplicates(rw http.ResponseWriter, r *http.Request) {
	ps, next, err := w.Customers.DuplicatePairs(r.Context(), r.URL.Query().Get("after"), 50)
	v := DuplicatesView{Pairs: ps, Next: next}
	status := http.StatusOK
	if crm.CodeOf(err) == crm.CodeInvalid {
		v.Error, status = "That position in the list is not valid; the list starts again from the top.", http.StatusBadRequest
		ps, next, err = w.Customers.DuplicatePairs(r.Context(), "", 50)
		v.Pairs, v.Next = ps, next
	}
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	w.render(rw, r, status, "duplicates", Page{Title: "Possible duplicates", Nav: "customers", Content: v})
}
