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
	return withPageKeys(q, v.pageKeys)
}

// TableURL is the table as it is shown (the column form's way back).
func (v CustomerListView) TableURL() string { return tableLink("/crm/customers", v.state()) }

// ExportURL is the CSV of every customer of the table's filter (the toolbar's
// Export); the page's position and size do not narrow an export.
func (v CustomerListView) ExportURL() string {
	q := v.state()
	for _, k := range append([]string{"limit", "cursor", "before"}, pageKeys...) {
		q.Del(k)
	}
	return tableLink("/api/v1/customers/export.csv", q)
}

// ClearFiltersURL drops every filter and the search, and keeps the order and
// the page size.
func (v CustomerListView) ClearFiltersURL() string {
	q, kept := v.state(), url.Values{}
	for _, k := range append([]string{"sort", "limit"}, pageKeys...) {
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

// ColSortURL is the link of a column header. A score column sorts by its own
// product's score (score_product), unless a score range already filters on
// a product: the sort then follows the filter's product.
func (v CustomerListView) ColSortURL(c column) string {
	q := v.state()
	if c.Sort == "score" && c.Product != "" && q.Get("score_min") == "" && q.Get("score_max") == "" {
		q.Set("score_product", c.Product)
	}
	if v.ColSorted(c) && !v.SortDesc {
		q.Set("sort", "-"+c.Sort)
	} else {
		q.Set("sort", c.Sort)
	}
	q.Del("cursor")
	q.Del("before")
	return tableLink("/crm/customers", q)
}

// ColSorted reports whether the table is sorted by this column.
func (v CustomerListView) ColSorted(c column) bool {
	if c.Sort == "" || c.Sort != v.SortKey {
		return false
	}
	return c.Sort != "score" || c.Product == v.SortProduct
}

// PageSizeURL shows the table with n rows per page, from its first page.
func (v CustomerListView) PageSizeURL(n int) string {
	q := v.state()
	q.Set("limit", strconv.Itoa(n))
	q.Del("cursor")
	q.Del("before")
	return tableLink("/crm/customers", q)
}

// PageSizes are the page sizes the pager offers.
func (v CustomerListView) PageSizes() []int { return PageSizes }

// Position is the rows shown, "51-100", for the pager.
func (v CustomerListView) Position() string {
	if len(v.Rows) == 0 {
		return ""
	}
	return strconv.Itoa(v.Offset+1) + "-" + strconv.Itoa(v.Offset+len(v.Rows))
}

// AvatarBeforeName reports whether the table starts with the avatar and then
// the name: both then stay in view when the table scrolls sideways.
func (v CustomerListView) AvatarBeforeName() bool {
	return len(v.Columns) > 1 && v.Columns[0].Key == "avatar" && v.Columns[1].Key == "name"
}
