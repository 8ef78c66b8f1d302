package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
)

// Page-only parameters of the customer table: they say which saved view is
// open and which columns show, and are never list filters (the list, the
// API and the export refuse them).
const (
	keyView     = "view"     // the open saved view's id
	keyCols     = "cols"     // the columns shown, comma-separated, when they differ from the view's
	keyColScore = "colscore" // the product the Score column shows, with cols
)

var pageKeys = []string{keyView, keyCols, keyColScore}

// tableView is the saved-view state of one request of the table.
type tableView struct {
	view     *crm.SavedView
	columns  []string // nil: the user's saved choice
	score    string
	keys     url.Values // the page keys to keep in every link
	notFound bool       // ?view= named a view the user may not see
}

// openTableView reads the page keys of the request (taking them out of raw)
// and, for /crm/customers without any parameter, the user's default view:
// its state then replaces the empty query. Opening a view reads its row, and
// nothing else beyond what its filters cost when typed.
func (w *Web) openTableView(r *http.Request, me *crm.User, raw url.Values) (tableView, url.Values, error) {
	ctx := r.Context()
	var tv tableView
	tv.keys = url.Values{}
	if len(raw) == 0 && r.URL.Path == "/crm/customers" {
		d, err := w.Customers.DefaultView(ctx, me)
		if err != nil {
			return tv, raw, err
		}
		if d != nil {
			raw, _ = url.ParseQuery(d.Query)
			raw.Set(keyView, strconv.FormatInt(d.ID, 10))
		}
	}
	if id, err := strconv.ParseInt(strings.TrimSpace(raw.Get(keyView)), 10, 64); err == nil && id > 0 {
		v, err := w.Customers.View(ctx, me, id)
		switch {
		case crm.CodeOf(err) == crm.CodeNotFound:
			tv.notFound = true
		case err != nil:
			return tv, raw, err
		default:
			tv.view = v
			tv.keys.Set(keyView, strconv.FormatInt(id, 10))
			tv.columns, tv.score = v.Columns, v.ScoreProduct
			if len(tv.columns) == 0 {
				tv.columns = defaultColumns
			}
		}
	}
	if c := strings.TrimSpace(raw.Get(keyCols)); c != "" {
		tv.columns = strings.Split(c, ",")
		tv.score = strings.TrimSpace(raw.Get(keyColScore))
		tv.keys.Set(keyCols, c)
		if tv.score != "" {
			tv.keys.Set(keyColScore, tv.score)
		}
	}
	for _, k := range pageKeys {
		raw.Del(k)
	}
	return tv, raw, nil
}

// viewsOfTable fills the saved-view part of the table page: the views the
// user may see, and whether the open one is modified.
func (w *Web) viewsOfTable(r *http.Request, v *CustomerListView, tv tableView, all []column) error {
	views, err := w.Customers.Views(r.Context(), v.Me)
	if err != nil {
		return err
	}
	v.Views, v.View, v.pageKeys, v.ViewNotFound = views, tv.view, tv.keys, tv.notFound
	if tv.view == nil {
		return nil
	}
	v.ViewCanChange = tv.view.Owner.ID == v.Me.ID || v.Me.IsAdmin() && tv.view.Shared
	saved, _ := url.ParseQuery(tv.view.Query)
	cur, _ := url.ParseQuery(v.StateQuery())
	savedCols := visibleColumns(all, tv.view.Columns)
	if len(tv.view.Columns) == 0 {
		savedCols = visibleColumns(all, defaultColumns)
	}
	sameCols := slices.EqualFunc(savedCols, v.Columns, func(a, b column) bool { return a.Key == b.Key })
	v.ViewModified = saved.Encode() != cur.Encode() || !sameCols || effectiveScore(tv.view.ScoreProduct, v.Products) != v.ScoreProduct
	return nil
}

func effectiveScore(p string, products []crm.Product) string {
	if slices.ContainsFunc(products, func(x crm.Product) bool { return x.Key == p }) {
		return p
	}
	if len(products) > 0 {
		return products[0].Key
	}
	return ""
}

// StateQuery is the table's state as a view keeps it: the canonical list
// query without the page size.
func (v CustomerListView) StateQuery() string {
	q, _ := url.ParseQuery(v.Query)
	for _, k := range customers.PagingKeys {
		q.Del(k)
	}
	return q.Encode()
}

// StateColumns is the columns shown, as JSON for the view dialog.
func (v CustomerListView) StateColumns() string {
	keys := make([]string, len(v.Columns))
	for i, c := range v.Columns {
		keys[i] = c.Key
	}
	b, _ := json.Marshal(keys)
	return string(b)
}

// ViewURL opens a saved view exactly as it was saved.
func ViewURL(sv crm.SavedView) string {
	q, _ := url.ParseQuery(sv.Query)
	q.Set(keyView, strconv.FormatInt(sv.ID, 10))
	return tableLink("/crm/customers", q)
}

// OpenViewURL is the open view as saved: the Reset link.
func (v CustomerListView) OpenViewURL() string {
	if v.View == nil {
		return ""
	}
	return ViewURL(*v.View)
}

// ViewLink is the link of one view in the views menu.
func (v CustomerListView) ViewLink(sv crm.SavedView) string { return ViewURL(sv) }

// ViewColumnsJSON is a saved view's columns as JSON (for Duplicate).
func (v CustomerListView) ViewColumnsJSON() string {
	if v.View == nil {
		return "[]"
	}
	b, _ := json.Marshal(v.View.Columns)
	return string(b)
}

// PageKeyFields are the hidden fields that keep the open view and its
// columns in the forms of the table (search, filters).
func (v CustomerListView) PageKeyFields() []kv {
	var out []kv
	for _, k := range pageKeys {
		for _, x := range v.pageKeys[k] {
			out = append(out, kv{k, x})
		}
	}
	return out
}

// OpenView serves /crm/views/{id}: the link to share; it opens the table in
// the view's state, for anyone who may see the view.
func (w *Web) OpenView(rw http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		w.NotFound(rw, r)
		return
	}
	v, err := w.Customers.View(r.Context(), crm.UserFromContext(r.Context()), id)
	if crm.CodeOf(err) == crm.CodeNotFound {
		w.NotFound(rw, r)
		return
	}
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	http.Redirect(rw, r, ViewURL(*v), http.StatusSeeOther)
}

// withPageKeys adds the page keys to a copy of a table query.
func withPageKeys(q, keys url.Values) url.Values {
	out := cloneValues(q)
	for k, xs := range keys {
		out[k] = slices.Clone(xs)
	}
	return out
}

// missingChips are the chips of a saved view's conditions whose tag,
// segment, user, company or product is gone, each with the link that drops it.
func missingChips(missing []customers.Missing, canon url.Values) []chip {
	var out []chip
	for _, m := range missing {
		if m.Label == "" { // a score bound of a removed product: its chip is the product's
			continue
		}
		u := cloneValues(canon)
		u[m.Key] = slices.DeleteFunc(slices.Clone(u[m.Key]), func(x string) bool { return x == m.Value })
		if m.Key == "score_product" {
			u.Del("score_min")
			u.Del("score_max")
		}
		out = append(out, chip{Label: m.Label, RemoveURL: tableLink("/crm/customers", u)})
	}
	return out
}

// viewColumnsBack is where the column menu returns when a saved view is
// open: the same table with the chosen columns in the URL (the view shows
// "modified" until it is updated); Reset returns to the view's columns.
func viewColumnsBack(back string, cols []string, score string, reset bool) (string, bool) {
	u, err := url.Parse(localPath(back))
	if err != nil || u.Path != "/crm/customers" {
		return "", false
	}
	q := u.Query()
	if q.Get(keyView) == "" {
		return "", false
	}
	q.Del(keyCols)
	q.Del(keyColScore)
	q.Del("cursor")
	q.Del("before")
	if !reset {
		q.Set(keyCols, strings.Join(cols, ","))
		if score != "" {
			q.Set(keyColScore, score)
		}
	}
	return tableLink("/crm/customers", q), true
}
