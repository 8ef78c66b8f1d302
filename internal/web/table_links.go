package web

import (
	"net/url"
	"strconv"
)

// tableLink is the one way every link of the customer table is built from the
// table's state: a path and a query encoded by url.Values. Templates print the
// whole link in an href (html/template leaves a well-formed URL as it is);
// never "path?{{.Query}}", which html/template escapes as one query value
// ("country%3dDE%26tag%3dVIP") — the toolbar's Export broke that way.
func tableLink(path string, q url.Values) string {
	if s := q.Encode(); s != "" {
		return path + "?" + s
	}
	return path
}

// state is a copy of the table's canonical filter, sort and page size, for a
// link to change.
func (v CustomerListView) state() url.Values {
	q, _ := url.ParseQuery(v.Query)
	return q
}

// TableURL is the table as it is shown (the column form's way back).
func (v CustomerListView) TableURL() string { return tableLink("/crm/customers", v.state()) }

// ExportURL is the CSV of every customer of the table's filter (the toolbar's
// Export); the page's position and size do not narrow an export.
func (v CustomerListView) ExportURL() string {
	q := v.state()
	for _, k := range []string{"limit", "cursor", "before"} {
		q.Del(k)
	}
	return tableLink("/api/v1/customers/export.csv", q)
}

// ClearFiltersURL drops every filter and the search, and keeps the order and
// the page size.
func (v CustomerListView) ClearFiltersURL() string {
	q, kept := v.state(), url.Values{}
	for _, k := range []string{"sort", "limit"} {
		if s := q.Get(k); s != "" {
			kept.Set(k, s)
		}
	}
	return tableLink("/crm/customers", kept)
}

// SortURL is the link of a column header: ascending first, then descending.
func (v CustomerListView) SortURL(key string) string {
	q := v.state()
	if v.SortKey == key && !v.SortDesc {
		q.Set("sort", "-"+key)
	} else {
		q.Set("sort", key)
	}
	return tableLink("/crm/customers", q)
}

// Href is the customer's drawer link, keeping the table's state.
func (v CustomerListView) Href(id int64) string {
	return tableLink("/crm/customers/"+strconv.FormatInt(id, 10), v.state())
}
