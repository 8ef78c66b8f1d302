package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
)

// CompanyListView is the Companies table page.
type CompanyListView struct {
	Raw       url.Values // the query as typed, to refill the filter form
	Query     url.Values // the canonical filter, sort and page size (no cursor)
	Rows      []crm.Company
	Owners    map[int64]crm.CompanyOwners
	Total     int
	NextURL   string
	FirstURL  string // the first page, when this is a later one
	SortKey   string
	SortDesc  bool
	Limit     int
	Chips     []chip
	Errors    crm.FieldErrors
	FiltersOn int
	Open      *CompanyView // the company drawer opened beside the table (?open=ID)
}

// companyColumns are the table's columns: key (sort key, "" when it does
// not sort), label, numeric.
var companyColumns = []struct {
	Key, Sort, Label string
	Num              bool
}{
	{"name", "name", "Name", false},
	{"domain", "domain", "Domain", false},
	{"country", "country", "Country", false},
	{"customers_active", "customers_active", "Active customers", true},
	{"owners", "", "Owners", false},
	{"created", "created", "Created", true},
}

// CompanyList serves /crm/companies: the Companies table, with the company
// drawer beside it when the URL names one (open=ID).
func (w *Web) CompanyList(rw http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	raw := r.URL.Query()
	open := raw.Get("open")
	raw.Del("open")
	v := CompanyListView{Raw: raw, Limit: defaultPageSize}
	clean := url.Values{}
	for k, vals := range raw {
		for _, x := range vals {
			if strings.TrimSpace(x) != "" {
				clean.Add(k, x)
			}
		}
	}
	status := http.StatusOK
	q, err := customers.ParseCompanyQuery(clean)
	if err == nil {
		var page *crm.CompanyPage
		if page, err = w.Customers.ListCompanies(ctx, q); err == nil {
			v.Rows, v.Total = page.Items, page.Total
			if v.Owners, err = w.Customers.CompanyOwners(ctx, page.Items); err != nil {
				w.fail(rw, r, err)
				return
			}
			v.Query = customers.CompanyQueryValues(q)
			if page.NextCursor != "" {
				n := cloneValues(v.Query)
				n.Set("cursor", page.NextCursor)
				v.NextURL = tableLink("/crm/companies", n)
			}
			if q.Cursor != "" {
				v.FirstURL = tableLink("/crm/companies", v.Query)
			}
			v.Chips = companyChips(q, v.Query)
			v.FiltersOn = len(v.Chips)
			if q.Filter.Q != "" {
				v.FiltersOn--
			}
		}
	}
	if err != nil {
		var fe crm.FieldErrors
		var ce *crm.Error
		switch {
		case errors.As(err, &fe):
			v.Errors = fe
		case errors.As(err, &ce) && ce.Code == crm.CodeInvalid:
			v.Errors = crm.FieldErrors{ce}
		default:
			w.fail(rw, r, err)
			return
		}
		status = http.StatusBadRequest
		v.Query = url.Values{}
	}
	sort := q.Sort
	if sort == "" {
		sort = "name"
	}
	v.SortKey, v.SortDesc = strings.TrimPrefix(sort, "-"), strings.HasPrefix(sort, "-")
	if q.Limit > 0 {
		v.Limit = q.Limit
	}
	if id, err := strconv.ParseInt(open, 10, 64); err == nil && id > 0 {
		cv, err := w.companyView(r, id)
		if err != nil && !errors.Is(err, crm.ErrNotFound) {
			w.fail(rw, r, err)
			return
		}
		v.Open = cv
	}
	w.render(rw, r, status, "companies", Page{Title: "Companies", Nav: "companies", Content: v})
}

// companyChips lists the active filters, each with the link that drops it.
func companyChips(q crm.CompanyQuery, canon url.Values) []chip {
	var out []chip
	without := func(keys ...string) string {
		u := cloneValues(canon)
		for _, k := range keys {
			u.Del(k)
		}
		return tableLink("/crm/companies", u)
	}
	f := q.Filter
	if f.Q != "" {
		out = append(out, chip{"Search: " + f.Q, without("q")})
	}
	if f.Name != "" {
		out = append(out, chip{"Name: " + f.Name, without("name")})
	}
	for _, c := range f.Countries {
		u := cloneValues(canon)
		u["country"] = slices.DeleteFunc(slices.Clone(u["country"]), func(x string) bool { return x == c })
		out = append(out, chip{"Country: " + crm.CountryName(c), tableLink("/crm/companies", u)})
	}
	if f.HasCustomers != nil {
		label := "Without active customers"
		if *f.HasCustomers {
			label = "With active customers"
		}
		out = append(out, chip{label, without("has_customers")})
	}
	if f.CreatedFrom != nil || f.CreatedTo != nil {
		from, to := "…", "…"
		if f.CreatedFrom != nil {
			from = f.CreatedFrom.Format("2006-01-02")
		}
		if f.CreatedTo != nil {
			to = f.CreatedTo.AddDate(0, 0, -1).Format("2006-01-02")
		}
		out = append(out, chip{"Created: " + from + " – " + to, without("created_from", "created_to")})
	}
	return out
}

// Columns are the table's columns.
func (v CompanyListView) Columns() []struct {
	Key, Sort, Label string
	Num              bool
} {
	return companyColumns
}

// Get is the typed value of a filter field.
func (v CompanyListView) Get(key string) string { return v.Raw.Get(key) }

// Joined is a repeatable filter as one comma-separated field.
func (v CompanyListView) Joined(key string) string {
	var parts []string
	for _, x := range v.Raw[key] {
		if x = strings.TrimSpace(x); x != "" {
			parts = append(parts, x)
		}
	}
	return strings.Join(parts, ", ")
}

// SortURL orders the table by a column: ascending first, then the other way.
func (v CompanyListView) SortURL(key string) string {
	u := cloneValues(v.Query)
	if v.SortKey == key && !v.SortDesc {
		u.Set("sort", "-"+key)
	} else {
		u.Set("sort", key)
	}
	if u.Get("sort") == "name" {
		u.Del("sort")
	}
	return tableLink("/crm/companies", u)
}

// OpenURL opens a company's drawer beside the table, keeping the table's state.
func (v CompanyListView) OpenURL(id int64) string {
	u := cloneValues(v.Query)
	u.Set("open", strconv.FormatInt(id, 10))
	return tableLink("/crm/companies", u)
}

// TableURL is the table without the drawer.
func (v CompanyListView) TableURL() string { return tableLink("/crm/companies", v.Query) }

// ExportURL is the CSV of every company of the table's filter, in its order.
func (v CompanyListView) ExportURL() string {
	u := cloneValues(v.Query)
	u.Del("limit")
	return tableLink("/api/v1/companies/export.csv", u)
}

// ClearFiltersURL drops every filter and the search, keeping the order.
func (v CompanyListView) ClearFiltersURL() string {
	u := url.Values{}
	for _, k := range []string{"sort", "limit"} {
		if s := v.Query.Get(k); s != "" {
			u.Set(k, s)
		}
	}
	return tableLink("/crm/companies", u)
}

// Hidden returns the current filter as hidden fields, without some keys.
func (v CompanyListView) Hidden(except ...string) []kv {
	var out []kv
	for k, vals := range v.Query {
		if slices.Contains(except, k) {
			continue
		}
		for _, x := range vals {
			out = append(out, kv{k, x})
		}
	}
	slices.SortFunc(out, func(a, b kv) int { return strings.Compare(a.Key+a.Value, b.Key+b.Value) })
	return out
}
