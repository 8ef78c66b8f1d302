package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/acme/crm/internal/crm"
)

// CompanyView is a company with its customers.
type CompanyView struct {
	Co        *crm.Company
	Customers []crm.Customer
	Total     int
	More      bool
	Back      int64 // the customer the drawer came from, 0 when none
	Merge     *CompanyMergeInfo
}

// Company serves /crm/companies/{id}: the company drawer (?fragment=drawer) or its page.
func (w *Web) Company(rw http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		w.NotFound(rw, r)
		return
	}
	v, err := w.companyView(r, id)
	if errors.Is(err, crm.ErrNotFound) {
		w.NotFound(rw, r)
		return
	}
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	co := v.Co
	if r.URL.Query().Get("fragment") == "drawer" {
		w.fragment(rw, r, "company-drawer", v)
		return
	}
	w.render(rw, r, http.StatusOK, "company", Page{Title: co.Name, Nav: "companies", Content: v})
}

// companyView reads a company and its first customers, for its drawer.
func (w *Web) companyView(r *http.Request, id int64) (*CompanyView, error) {
	ctx := r.Context()
	co, err := w.Customers.Company(ctx, id)
	if err != nil {
		return nil, err
	}
	page, err := w.Customers.List(ctx, crm.CustomerQuery{Filter: crm.CustomerFilter{CompanyIDs: []int64{id}}, Sort: "name", Limit: 100})
	if err != nil {
		return nil, err
	}
	v := &CompanyView{Co: co, Customers: page.Items, Total: page.Total, More: page.NextCursor != ""}
	v.Back, _ = strconv.ParseInt(r.URL.Query().Get("from"), 10, 64)
	if v.Merge, err = w.companyMergeInfo(r, id); err != nil {
		return nil, err
	}
	return v, nil
}
