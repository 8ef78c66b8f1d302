package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
)

// CustomerListView is the customer table page.
type CustomerListView struct {
	Raw        url.Values // the query as typed, to refill the filter form
	Query      string     // the canonical filter query (no cursor), for links that keep the view
	Columns    []column
	Menu       []columnChoice
	Rows       []crm.Customer
	Total      int
	TotalExact bool
	NextURL    string
	PrevURL    string
	SortKey    string
	SortDesc   bool
	// SortProduct is the product a score sort orders by: the query's
	// score_product, else the first product (as the store does).
	SortProduct string
	Offset      int // position of the first row in the list (0-based)
	Limit       int // rows per page
	Chips       []chip
	Errors      crm.FieldErrors
	FiltersOn   int // how many filters are set (for the Filters button)

	ScoreProduct string
	Users        []crm.User
	Segments     []crm.Segment
	Products     []crm.Product
	Channels     []crm.Channel
	Reasons      []crm.Reason
	Me           *crm.User
	Drawer       *DrawerView  // the open drawer, when the page is /crm/customers/{id}
	RecentBulk   []recentBulk // the last day's bulk actions, to undo
	// CompanyNames names the companies of the company filter (its chips)
	CompanyNames map[int64]string
	LiveCursor   string // the change feed's position before the rows were read (live.go)

	failed error // an unexpected error while building the view

	// Saved views (views.go): the user's list, the open one, its state.
	Views         []crm.SavedView
	View          *crm.SavedView
	ViewModified  bool
	ViewCanChange bool
	ViewNotFound  bool
	MissingChips  []chip // the open view's conditions whose tag, segment, user... is gone
	pageKeys      url.Values
}

// chip is one active filter, with the link that removes it.
type chip struct {
	Label     string
	RemoveURL string
}

// CustomerList serves /crm/customers.
func (w *Web) CustomerList(rw http.ResponseWriter, r *http.Request) {
	v, status := w.customerList(r)
	if v.failed != nil {
		w.fail(rw, r, v.failed)
		return
	}
	w.render(rw, r, status, "customers", Page{Title: "Customers", Nav: "customers", Content: v})
}

// customerList builds the table view of the request's filter.
func (w *Web) customerList(r *http.Request) (CustomerListView, int) {
	ctx := r.Context()
	me := crm.UserFromContext(ctx)
	raw := r.URL.Query()
	for _, k := range []string{"tab", "fragment"} { // the drawer's own state, not filters
		raw.Del(k)
	}
	v := CustomerListView{Raw: raw, Me: me, Channels: crm.Channels, Reasons: crm.Reasons}
	v.LiveCursor = w.liveCursor(ctx)
	tv, raw, err := w.openTableView(r, me, raw)
	if err != nil {
		v.failed = err
		return v, http.StatusInternalServerError
	}
	v.Raw = raw
	if v.Products, err = w.Customers.Products(ctx); err != nil {
		v.failed = err
		return v, http.StatusInternalServerError
	}
	fields, err := w.Customers.CustomFields(ctx)
	if err != nil {
		v.failed = err
		return v, http.StatusInternalServerError
	}
	if v.Users, err = w.Accounts.ListUsers(ctx); err != nil {
		v.failed = err
		return v, http.StatusInternalServerError
	}
	if v.Segments, err = w.Customers.Segments(ctx); err != nil {
		v.failed = err
		return v, http.StatusInternalServerError
	}
	if v.RecentBulk, err = w.recentBulkActions(ctx, me, v.Users); err != nil {
		v.failed = err
		return v, http.StatusInternalServerError
	}
	var companyIDs []int64
	for _, x := range raw["company"] {
		for _, p := range strings.Split(x, ",") {
			if id, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64); err == nil && id > 0 && !slices.Contains(companyIDs, id) && len(companyIDs) < customers.MaxListVals {
				companyIDs = append(companyIDs, id)
			}
		}
	}
	if v.CompanyNames, err = w.Customers.CompanyNames(ctx, companyIDs); err != nil {
		v.failed = err
		return v, http.StatusInternalServerError
	}
	prefs := w.loadPrefs(ctx, me.ID, v.Products)
	if tv.columns != nil { // a saved view's columns, or the URL's
		prefs.Columns, prefs.ScoreProduct = tv.columns, effectiveScore(tv.score, v.Products)
	}
	v.ScoreProduct = prefs.ScoreProduct
	all := allColumns(v.Products, fields, prefs.ScoreProduct)
	v.Columns = visibleColumns(all, prefs.Columns)
	v.Menu = menuColumns(all, v.Columns)

	// Empty form fields arrive as empty parameters: they mean "not set".
	clean := url.Values{}
	for k, vals := range raw {
		for _, x := range vals {
			if strings.TrimSpace(x) != "" {
				clean.Add(k, x)
			}
		}
	}
	status := http.StatusOK
	var q crm.CustomerQuery
	var missing []customers.Missing
	if tv.view != nil { // a view's tag, segment... may have gone: shown missing, matching nobody
		q, missing, err = w.Customers.OpenQuery(ctx, me, clean)
	} else {
		q, err = w.Customers.ParseQuery(ctx, me, clean)
	}
	if err != nil {
		var fe crm.FieldErrors
		if !errors.As(err, &fe) {
			v.failed = err
			return v, http.StatusInternalServerError
		}
		v.Errors = fe
		status = http.StatusBadRequest
	} else {
		page, err := w.Customers.List(ctx, q)
		if err != nil {
			if crm.CodeOf(err) != crm.CodeInvalid {
				v.failed = err
				return v, http.StatusInternalServerError
			}
			v.Errors = crm.FieldErrors{err.(*crm.Error)}
			status = http.StatusBadRequest
		} else {
			v.Rows, v.Total, v.TotalExact, v.Offset = page.Items, page.Total, page.TotalExact, page.Offset
			canon := customers.QueryValues(q, me)
			for _, m := range missing { // links keep the view's missing conditions
				if !slices.Contains(canon[m.Key], m.Value) {
					canon.Add(m.Key, m.Value)
				}
			}
			if q.Limit > 0 {
				canon.Set("limit", strconv.Itoa(q.Limit))
			}
			v.Query = canon.Encode()
			canon = withPageKeys(canon, tv.keys) // links keep the open view and its columns
			if page.NextCursor != "" {
				n := cloneValues(canon)
				n.Set("cursor", page.NextCursor)
				v.NextURL = tableLink("/crm/customers", n)
			}
			if page.PrevCursor != "" {
				p := cloneValues(canon)
				p.Set("cursor", page.PrevCursor)
				p.Set("before", "true")
				v.PrevURL = tableLink("/crm/customers", p)
			}
			v.Chips = w.chips(q, canon, v)
			v.MissingChips = missingChips(missing, canon)
			v.FiltersOn = len(v.Chips)
			if q.Filter.Q != "" {
				v.FiltersOn-- // the search box is not in the Filters panel
			}
		}
	}
	sort := q.Sort
	if sort == "" {
		sort = "-created"
	}
	v.SortKey, v.SortDesc = strings.TrimPrefix(sort, "-"), strings.HasPrefix(sort, "-")
	v.SortProduct = q.Filter.ScoreProduct
	if v.SortProduct == "" && len(v.Products) > 0 {
		v.SortProduct = v.Products[0].Key
	}
	v.Limit = q.Limit
	if v.Limit <= 0 {
		v.Limit = defaultPageSize
	}
	if err := w.viewsOfTable(r, &v, tv, all); err != nil {
		v.failed = err
		return v, http.StatusInternalServerError
	}
	return v, status
}

// defaultPageSize is the page size when the URL names none (the store's default).
const defaultPageSize = 50

// PageSizes are the page sizes the pager offers.
var PageSizes = []int{25, 50, 100}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vals := range v {
		out[k] = slices.Clone(vals)
	}
	return out
}

// chips lists the active filters, each with a link that drops it.
func (w *Web) chips(q crm.CustomerQuery, canon url.Values, v CustomerListView) []chip {
	var out []chip
	without := func(key, val string) string {
		u := cloneValues(canon)
		if val == "" {
			u.Del(key)
		} else {
			u[key] = slices.DeleteFunc(slices.Clone(u[key]), func(x string) bool { return x == val })
		}
		if key == "score_product" {
			u.Del("score_min")
			u.Del("score_max")
		}
		if key == "tag" && len(u["tag"]) < 2 {
			u.Del("tag_mode")
		}
		return tableLink("/crm/customers", u)
	}
	f := q.Filter
	if f.Q != "" {
		out = append(out, chip{"Search: " + f.Q, without("q", "")})
	}
	switch f.Owner {
	case crm.OwnerMe:
		out = append(out, chip{"Owner: mine", without("owner", "")})
	case crm.OwnerNone:
		out = append(out, chip{"Owner: unclaimed", without("owner", "")})
	case "user":
		name := fmt.Sprint(f.OwnerID)
		for _, u := range v.Users {
			if u.ID == f.OwnerID {
				name = u.Name
			}
		}
		out = append(out, chip{"Owner: " + name, without("owner", "")})
	}
	for _, t := range f.Tags {
		label := "Tag: " + t
		if f.TagsAll && len(f.Tags) > 1 {
			label = "Tag (all): " + t
		}
		out = append(out, chip{label, without("tag", t)})
	}
	if f.SegmentID != 0 {
		name := fmt.Sprint(f.SegmentID)
		for _, s := range v.Segments {
			if s.ID == f.SegmentID {
				name = s.Name
			}
		}
		out = append(out, chip{"Segment: " + name, without("segment", "")})
	}
	for _, id := range f.CompanyIDs {
		name := v.CompanyNames[id]
		if name == "" {
			name = fmt.Sprint(id)
		}
		out = append(out, chip{"Company: " + name, without("company", strconv.FormatInt(id, 10))})
	}
	for _, c := range f.Countries {
		out = append(out, chip{"Country: " + crm.CountryName(c), without("country", c)})
	}
	for _, l := range f.Languages {
		out = append(out, chip{"Language: " + crm.LanguageName(l), without("language", l)})
	}
	if f.HasInbound != nil {
		label := "Has inbound: no"
		if *f.HasInbound {
			label = "Has inbound: yes"
		}
		out = append(out, chip{label, without("has_inbound", "")})
	}
	if f.ScoreProduct != "" && (f.ScoreMin != nil || f.ScoreMax != nil) {
		lo, hi := 0, 100
		if f.ScoreMin != nil {
			lo = *f.ScoreMin
		}
		if f.ScoreMax != nil {
			hi = *f.ScoreMax
		}
		name := f.ScoreProduct
		for _, p := range v.Products {
			if p.Key == f.ScoreProduct {
				name = p.Name
			}
		}
		out = append(out, chip{fmt.Sprintf("Score %s: %d–%d", name, lo, hi), without("score_product", "")})
	}
	if f.CreatedFrom != nil || f.CreatedTo != nil {
		from, to := "…", "…"
		if f.CreatedFrom != nil {
			from = f.CreatedFrom.Format("2006-01-02")
		}
		if f.CreatedTo != nil {
			to = f.CreatedTo.AddDate(0, 0, -1).Format("2006-01-02")
		}
		u := cloneValues(canon)
		u.Del("created_from")
		u.Del("created_to")
		out = append(out, chip{"Created: " + from + " – " + to, tableLink("/crm/customers", u)})
	}
	switch f.Archived {
	case crm.ArchivedOnly:
		out = append(out, chip{"Archived only", without("archived", "")})
	case crm.ArchivedAll:
		out = append(out, chip{"Active and archived", without("archived", "")})
	}
	return out
}

// SaveColumns stores the user's column choice (the column menu).
func (w *Web) SaveColumns(rw http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	me := crm.UserFromContext(ctx)
	products, err := w.Customers.Products(ctx)
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	fields, err := w.Customers.CustomFields(ctx)
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	all := allColumns(products, fields, "")
	p := tablePrefs{Columns: cleanColumnKeys(all, r.PostForm["col"]), ScoreProduct: r.PostFormValue("score_product")}
	if r.PostFormValue("reset") != "" || len(p.Columns) == 0 {
		p.Columns = defaultColumns
	}
	if back, ok := viewColumnsBack(r.PostFormValue("back"), p.Columns, p.ScoreProduct, r.PostFormValue("reset") != ""); ok {
		http.Redirect(rw, r, back, http.StatusSeeOther) // a saved view is open: its columns are in the URL, not the user's choice
		return
	}
	b, _ := json.Marshal(p)
	if err := w.Store.SetUserPref(ctx, me.ID, prefTable, string(b)); err != nil {
		w.fail(rw, r, err)
		return
	}
	back := localPath(r.PostFormValue("back"))
	if !strings.HasPrefix(back, "/crm/customers") {
		back = "/crm/customers"
	}
	http.Redirect(rw, r, back, http.StatusSeeOther)
}

// kv is one hidden form field.
type kv struct{ Key, Value string }

// HiddenExcept returns the current filter as hidden fields, without some keys
// (the search box keeps the filters; the filter form keeps the search).
func (v CustomerListView) HiddenExcept(keys ...string) []kv {
	q := v.state()
	var out []kv
	for k, vals := range q {
		if slices.Contains(keys, k) {
			continue
		}
		for _, x := range vals {
			out = append(out, kv{k, x})
		}
	}
	slices.SortFunc(out, func(a, b kv) int { return strings.Compare(a.Key+a.Value, b.Key+b.Value) })
	return out
}

// Get is the typed value of a filter field.
func (v CustomerListView) Get(key string) string { return v.Raw.Get(key) }

// Joined is a repeatable filter as one comma-separated field.
func (v CustomerListView) Joined(key string) string {
	var parts []string
	for _, x := range v.Raw[key] {
		if x = strings.TrimSpace(x); x != "" {
			parts = append(parts, x)
		}
	}
	return strings.Join(parts, ", ")
}

// PickedTags are the tag filter's names as typed in the URL (each tag
// parameter may hold several, separated by commas), for the tag picker: the
// page never lists the tags there are, which may be tens of thousands.
func (v CustomerListView) PickedTags() []string {
	var out []string
	for _, x := range v.Raw["tag"] {
		for _, name := range strings.Split(x, ",") {
			if name = strings.TrimSpace(name); name != "" && !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	return out
}

// Has reports whether a repeatable filter holds a value.
func (v CustomerListView) Has(key, val string) bool { return slices.Contains(v.Raw[key], val) }

// SegmentName names a segment id.
func (v CustomerListView) SegmentName(id int64) string {
	for _, s := range v.Segments {
		if s.ID == id {
			return s.Name
		}
	}
	return fmt.Sprint(id)
}

// DateSorted reports whether the table is sorted by a date (then dates show absolute).
func (v CustomerListView) DateSorted() bool { return v.SortKey == "created" || v.SortKey == "updated" }

// pickedCompany is a company of the company filter, for its picker's chips.
type pickedCompany struct {
	ID   int64
	Name string
}

// PickedCompanies are the company filter's companies as the URL names them,
// with their names (an id no company has shows as the id).
func (v CustomerListView) PickedCompanies() []pickedCompany {
	var out []pickedCompany
	for _, x := range v.Raw["company"] {
		for _, p := range strings.Split(x, ",") {
			p = strings.TrimSpace(p)
			id, err := strconv.ParseInt(p, 10, 64)
			if p == "" || slices.ContainsFunc(out, func(c pickedCompany) bool { return c.ID == id && err == nil }) {
				continue
			}
			name := v.CompanyNames[id]
			if name == "" {
				name = p
			}
			out = append(out, pickedCompany{id, name})
		}
	}
	return out
}
