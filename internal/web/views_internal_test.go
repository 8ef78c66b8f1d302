package web

import (
	"context"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/acme/crm/internal/accounts"
	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// TestViewKeepsEveryColumnAndFilter saves a view with every column the
// table offers (allColumns: a new column is covered without changing this
// test) and with filters, then opens it as the page does: the columns come
// back in their order, the filters fill the form, nothing reads as
// modified; a change of one filter or of the columns does.
func TestViewKeepsEveryColumnAndFilter(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		svc := customers.New(db)
		w := &Web{Deps: Deps{Customers: svc, Accounts: accounts.New(db), Store: db}, Now: time.Now}
		me := &crm.User{Email: "cols@example.com", Name: "Cols", Role: crm.RoleAdmin, Active: true, CreatedAt: time.Now()}
		if err := db.CreateUser(ctx, me); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"crm", "desk"} {
			if _, err := svc.CreateProduct(ctx, me, p, "Product "+p); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := svc.CreateCustomField(ctx, me, crm.CustomField{Key: "tier", Label: "Tier", Type: crm.FieldText}); err != nil {
			t.Fatal(err)
		}
		products, _ := svc.Products(ctx)
		fields, _ := svc.CustomFields(ctx)
		all := allColumns(products, fields, "desk")
		var keys []string
		for _, c := range all {
			keys = append(keys, c.Key)
		}
		slices.Reverse(keys) // an order of its own, not the menu's
		query := "country=DE&sort=-name&tag=vip&q=anna"
		v, err := svc.CreateView(ctx, me, customers.ViewInput{Name: ptrTo("All columns"), Query: &query, Columns: &keys, ScoreProduct: ptrTo("desk")})
		if err != nil {
			t.Fatal(err)
		}
		page := func(rawQuery string) CustomerListView {
			t.Helper()
			r := httptest.NewRequest("GET", "/crm/customers?"+rawQuery, nil)
			r = r.WithContext(crm.ContextWithUser(r.Context(), me))
			lv, status := w.customerList(r)
			if lv.failed != nil || status != 200 {
				t.Fatalf("%s: %d %v %v", rawQuery, status, lv.failed, lv.Errors)
			}
			return lv
		}
		open := page(ViewURL(*v)[len("/crm/customers?"):])
		var got []string
		for _, c := range open.Columns {
			got = append(got, c.Key)
		}
		if !slices.Equal(got, keys) {
			t.Fatalf("columns came back as\n%v\nwant\n%v", got, keys)
		}
		if open.ScoreProduct != "desk" || open.View == nil || open.View.ID != v.ID || open.ViewModified {
			t.Fatalf("opened: score %q, view %+v, modified %v", open.ScoreProduct, open.View, open.ViewModified)
		}
		if open.Get("country") != "DE" || open.Get("q") != "anna" || !slices.Equal(open.PickedTags(), []string{"vip"}) {
			t.Fatalf("the filter form is not filled from the view: %v", open.Raw)
		}
		// links of the page keep the view
		if u, _ := url.Parse(open.SortURL("name")); u.Query().Get("view") != strconv.FormatInt(v.ID, 10) {
			t.Fatalf("sort link loses the view: %s", open.SortURL("name"))
		}
		if u, _ := url.Parse(open.ExportURL()); u.Query().Has("view") {
			t.Fatalf("the export link carries a page key: %s", open.ExportURL())
		}
		// one filter changed: modified; columns changed: modified
		changed := url.Values{"view": {strconv.FormatInt(v.ID, 10)}, "country": {"FR"}, "sort": {"-name"}, "tag": {"vip"}, "q": {"anna"}}
		if !page(changed.Encode()).ViewModified {
			t.Fatal("a changed filter does not read as modified")
		}
		cols, _ := url.ParseQuery(ViewURL(*v)[len("/crm/customers?"):])
		cols.Set("cols", "name,email")
		if lv := page(cols.Encode()); !lv.ViewModified || len(lv.Columns) != 2 {
			t.Fatalf("changed columns: modified %v, %d columns", lv.ViewModified, len(lv.Columns))
		}
		// the default view opens for /crm/customers without parameters
		if err := svc.SetDefaultView(ctx, me, v.ID); err != nil {
			t.Fatal(err)
		}
		if lv := page(""); lv.View == nil || lv.View.ID != v.ID || lv.ViewModified || lv.Get("country") != "DE" {
			t.Fatalf("default view: %+v", lv.View)
		}
	})
}

func ptrTo[T any](v T) *T { return &v }
