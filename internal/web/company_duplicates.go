package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
)

// CompanyDuplicatesView lists groups of active companies that may be one
// company entered several times (issue 13).
type CompanyDuplicatesView struct {
	Groups []crm.CompanyGroup
	Next   string            // the cursor of the next page, "" on the last page
	Of     *crm.CompanyState // only the groups of this company, when set
	Error  string
}

// NextURL is the next page of groups.
func (v CompanyDuplicatesView) NextURL() string {
	return tableLink("/crm/companies/duplicates", url.Values{"after": {v.Next}})
}

// Reason says in words why a group's companies may be one.
func (CompanyDuplicatesView) Reason(g crm.CompanyGroup) string {
	if g.Reason == crm.SameDomain {
		return "Same domain"
	}
	return "Similar name"
}

// More is how many companies of a group are not listed.
func (CompanyDuplicatesView) More(g crm.CompanyGroup) int { return g.Total - len(g.Companies) }

// CompanyDuplicates serves /crm/companies/duplicates: groups of possible
// duplicate companies, a page at a time, or (?company=ID) those of one company.
func (w *Web) CompanyDuplicates(rw http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := CompanyDuplicatesView{}
	status := http.StatusOK
	if s := r.URL.Query().Get("company"); s != "" {
		id, _ := strconv.ParseInt(s, 10, 64)
		co, err := w.Customers.CompanyState(ctx, id)
		if crm.CodeOf(err) == crm.CodeNotFound || id <= 0 {
			w.NotFound(rw, r)
			return
		}
		if err != nil {
			w.fail(rw, r, err)
			return
		}
		v.Of = co
		if v.Groups, err = w.Customers.CompanyDuplicatesOf(ctx, id); err != nil {
			w.fail(rw, r, err)
			return
		}
		w.render(rw, r, status, "company_duplicates", Page{Title: "Possible duplicates of " + co.Name, Nav: "companies", Content: v})
		return
	}
	gs, next, err := w.Customers.CompanyDuplicates(ctx, r.URL.Query().Get("after"), 50)
	if crm.CodeOf(err) == crm.CodeInvalid {
		v.Error, status = "That position in the list is not valid; the list starts again from the top.", http.StatusBadRequest
		gs, next, err = w.Customers.CompanyDuplicates(ctx, "", 50)
	}
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	v.Groups, v.Next = gs, next
	w.render(rw, r, status, "company_duplicates", Page{Title: "Possible duplicate companies", Nav: "companies", Content: v})
}

// CompanyMergeInfo is what the company drawer shows of merges: where a
// merged company went, how many possible duplicates an active one has, and
// its log.
type CompanyMergeInfo struct {
	State *crm.CompanyState
	Into  *crm.CompanyState // the company it was merged into
	Dups  int               // other active companies sharing its domain or loose name
	Log   []customers.CompanyEntry
}

// companyMergeInfo loads the drawer's merge information of a company.
func (w *Web) companyMergeInfo(r *http.Request, id int64) (*CompanyMergeInfo, error) {
	ctx := r.Context()
	st, err := w.Customers.CompanyState(ctx, id)
	if err != nil {
		return nil, err
	}
	info := &CompanyMergeInfo{State: st}
	if st.MergedInto != nil {
		if info.Into, err = w.Customers.CompanyState(ctx, *st.MergedInto); err != nil {
			return nil, err
		}
	}
	if st.ArchivedAt == nil {
		groups, err := w.Customers.CompanyDuplicatesOf(ctx, id)
		if err != nil {
			return nil, err
		}
		seen := map[int64]bool{id: true}
		for _, g := range groups {
			for _, m := range g.Companies {
				if !seen[m.ID] {
					seen[m.ID] = true
					info.Dups++
				}
			}
		}
	}
	info.Log, err = w.Customers.CompanyLog(ctx, id, 20)
	return info, err
}
