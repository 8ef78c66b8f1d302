package web

import (
	"bytes"
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
)

// drawerTabs are the tabs of the customer drawer, in order.
var drawerTabs = []struct{ Key, Label string }{
	{"profile", "Profile"}, {"activity", "Activity"}, {"messages", "Messages"}, {"records", "Deals, notes & tasks"},
}

// DrawerView is one customer in the drawer.
type DrawerView struct {
	C        *crm.Customer
	Tab      string
	Tabs     []struct{ Key, Label string }
	Allowed  []string
	Users    []crm.User
	Fields   []crm.CustomField
	Products []crm.Product
	Activity []customers.Entry
	Older    int64 // before-id of the next activity page, 0 when none
	Messages []crm.Message
	Records  *customers.Records
	Channels []crm.Channel
	Reasons  []crm.Reason
	Stages   []string
	Me       *crm.User
	Query    string // the table's filter, kept in links
}

// Can reports whether an ownership action is allowed now.
func (d DrawerView) Can(action string) bool { return slices.Contains(d.Allowed, action) }

// CustomValue is the value of a custom field, or nil.
func (d DrawerView) CustomValue(key string) any { return d.C.Custom[key] }

// Picked reports whether a multiselect value holds an option.
func (d DrawerView) Picked(key, option string) bool {
	vals, _ := d.C.Custom[key].([]any)
	return slices.Contains(vals, any(option))
}

// UserName names a user id (authors of deals, notes and tasks).
func (d DrawerView) UserName(id *int64) string {
	if id == nil {
		return "Someone"
	}
	for _, u := range d.Users {
		if u.ID == *id {
			return u.Name
		}
	}
	return "A former user"
}

const activityPage = 50

// drawer loads everything the drawer shows for one customer.
func (w *Web) drawer(r *http.Request, id int64, tab string) (*DrawerView, error) {
	ctx := r.Context()
	me := crm.UserFromContext(ctx)
	c, err := w.Customers.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(drawerTabs, func(t struct{ Key, Label string }) bool { return t.Key == tab }) {
		tab = "profile"
	}
	d := &DrawerView{C: c, Tab: tab, Tabs: drawerTabs, Allowed: customers.Allowed(me, c), Me: me,
		Channels: crm.Channels, Reasons: crm.Reasons, Stages: crm.DealStages}
	if d.Users, err = w.Accounts.ListUsers(ctx); err != nil {
		return nil, err
	}
	if d.Fields, err = w.Customers.CustomFields(ctx); err != nil {
		return nil, err
	}
	if d.Products, err = w.Customers.Products(ctx); err != nil {
		return nil, err
	}
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	if d.Activity, err = w.Customers.Activity(ctx, id, before, activityPage); err != nil {
		return nil, err
	}
	if len(d.Activity) == activityPage {
		d.Older = d.Activity[len(d.Activity)-1].ID
	}
	if d.Messages, err = w.Store.ListMessages(ctx, id, 100); err != nil {
		return nil, err
	}
	if d.Records, err = w.Customers.ListRecords(ctx, id); err != nil {
		return nil, err
	}
	return d, nil
}

// CustomerDrawer serves /crm/customers/{id}: the drawer fragment for the
// page's script (?fragment=drawer), one table row (?fragment=row), or, opened
// directly, the table with the drawer open.
func (w *Web) CustomerDrawer(rw http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		w.NotFound(rw, r)
		return
	}
	q := r.URL.Query()
	tab := q.Get("tab")
	d, err := w.drawer(r, id, tab)
	if errors.Is(err, crm.ErrNotFound) {
		w.NotFound(rw, r)
		return
	}
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	if d.C.MergedInto != nil { // links to a merged customer lead to the one it was merged into
		target := "/crm/customers/" + strconv.FormatInt(*d.C.MergedInto, 10)
		if q.Get("fragment") == "" {
			http.Redirect(rw, r, target, http.StatusSeeOther)
			return
		}
	}
	switch q.Get("fragment") {
	case "drawer":
		w.fragment(rw, r, "drawer", d)
		return
	case "activity":
		w.fragment(rw, r, "activity-items", d)
		return
	case "row":
		v, status := w.customerList(r)
		if status != http.StatusOK {
			http.Error(rw, "bad filter", status)
			return
		}
		w.fragment(rw, r, "row", rowView{View: v, C: *d.C})
		return
	}
	v, status := w.customerList(r)
	if v.failed != nil {
		w.fail(rw, r, v.failed)
		return
	}
	v.Drawer = d
	w.render(rw, r, status, "customers", Page{Title: d.C.FullName + " · Customers", Nav: "customers", Content: v})
}

// Row pairs a customer with the view, for the row template.
func (v CustomerListView) Row(c crm.Customer) rowView { return rowView{View: v, C: c} }

// rowView is one table row rendered on its own (after an edit in the drawer).
type rowView struct {
	View CustomerListView
	C    crm.Customer
}

// fragment renders one named template of the customers page, without the layout.
func (w *Web) fragment(rw http.ResponseWriter, r *http.Request, name string, data any) {
	var buf bytes.Buffer
	if err := w.pagesIn(w.userLoc(r))["customers"].ExecuteTemplate(&buf, name, data); err != nil {
		w.fail(rw, r, err)
		return
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.Header().Set("Cache-Control", "no-store")
	_, _ = buf.WriteTo(rw)
}
