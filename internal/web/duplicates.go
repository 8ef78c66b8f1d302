package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/acme/crm/internal/crm"
)

// DuplicatesView lists contact values that several active customers share.
type DuplicatesView struct {
	Groups []crm.DuplicateGroup
	Next   string // the value to continue after, "" on the last page
}

// Review is the table view of one group's customers, where they can be merged.
func (DuplicatesView) Review(g crm.DuplicateGroup) string {
	v := url.Values{}
	for _, c := range g.Customers {
		v.Add("id", strconv.FormatInt(c.ID, 10))
	}
	return "/crm/customers?" + v.Encode()
}

// Duplicates serves /crm/duplicates: possible duplicates, a page at a time.
func (w *Web) Duplicates(rw http.ResponseWriter, r *http.Request) {
	gs, err := w.Store.DuplicateGroups(r.Context(), r.URL.Query().Get("after"), 50)
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	v := DuplicatesView{Groups: gs}
	if len(gs) == 50 {
		v.Next = gs[len(gs)-1].Value
	}
	w.render(rw, r, http.StatusOK, "duplicates", Page{Title: "Possible duplicates", Nav: "customers", Content: v})
}
