package customers_test

import (
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

func wantViewCode(t *testing.T, err error, code crm.Code) {
	t.Helper()
	if crm.CodeOf(err) != code {
		t.Fatalf("got %v (%s), want %s", err, crm.CodeOf(err), code)
	}
}

func wantNameError(t *testing.T, err error) {
	t.Helper()
	fe, ok := err.(crm.FieldErrors)
	if !ok || fe.For("name") == "" {
		t.Fatalf("want an error beside the name, got %#v", err)
	}
}

func strp(s string) *string { return &s }
func boolp(b bool) *bool    { return &b }

// TestViewPermissions: a personal view is invisible to everyone else (not
// found, admins included); a member cannot change or delete a teammate's
// shared view; an admin can; names are refused beside the field.
func TestViewPermissions(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		svc := customers.New(db)
		admin := mkUser(t, db, "admin@views.example", crm.RoleAdmin)
		ann := mkUser(t, db, "ann@views.example", crm.RoleMember)
		bob := mkUser(t, db, "bob@views.example", crm.RoleMember)

		personal, err := svc.CreateView(ctx, ann, customers.ViewInput{Name: strp("Mine"), Query: strp("owner=me&cursor=abc&limit=25&sort=name")})
		if err != nil {
			t.Fatal(err)
		}
		if personal.Query != "owner=me&sort=name" || personal.Shared {
			t.Fatalf("paging state kept or shared: %+v", personal)
		}
		shared, err := svc.CreateView(ctx, ann, customers.ViewInput{Name: strp("Team DE"), Shared: boolp(true), Query: strp("country=de")})
		if err != nil {
			t.Fatal(err)
		}
		if shared.Query != "country=DE" {
			t.Fatalf("query not normalised: %q", shared.Query)
		}
		for _, u := range []*crm.User{bob, admin} {
			_, err = svc.View(ctx, u, personal.ID)
			wantViewCode(t, err, crm.CodeNotFound)
			_, err = svc.UpdateView(ctx, u, personal.ID, customers.ViewInput{Name: strp("x")})
			wantViewCode(t, err, crm.CodeNotFound)
			wantViewCode(t, svc.DeleteView(ctx, u, personal.ID), crm.CodeNotFound)
			wantViewCode(t, svc.PinView(ctx, u, personal.ID, true), crm.CodeNotFound)
			_, err = svc.DuplicateView(ctx, u, personal.ID, "")
			wantViewCode(t, err, crm.CodeNotFound)
		}
		// bob sees, pins and copies the shared view, but may not change it
		if _, err := svc.View(ctx, bob, shared.ID); err != nil {
			t.Fatal(err)
		}
		_, err = svc.UpdateView(ctx, bob, shared.ID, customers.ViewInput{Query: strp("country=FR")})
		wantViewCode(t, err, crm.CodeForbidden)
		wantViewCode(t, svc.DeleteView(ctx, bob, shared.ID), crm.CodeForbidden)
		if v, _ := svc.View(ctx, ann, shared.ID); v.Query != "country=DE" {
			t.Fatalf("bob's refused change landed: %+v", v)
		}
		if err := svc.PinView(ctx, bob, shared.ID, true); err != nil {
			t.Fatal(err)
		}
		cp, err := svc.DuplicateView(ctx, bob, shared.ID, "")
		if err != nil || cp.Name != "Copy of Team DE" || cp.Shared || cp.Owner.ID != bob.ID || cp.Query != shared.Query {
			t.Fatalf("duplicate %+v %v", cp, err)
		}
		// an admin changes a shared view, but does not make it personal
		v, err := svc.UpdateView(ctx, admin, shared.ID, customers.ViewInput{Name: strp("Team Germany")})
		if err != nil || v.Name != "Team Germany" {
			t.Fatalf("admin rename: %+v %v", v, err)
		}
		_, err = svc.UpdateView(ctx, admin, shared.ID, customers.ViewInput{Shared: boolp(false)})
		wantViewCode(t, err, crm.CodeInvalid)

		// names: empty, taken by the owner (any case), taken among shared views
		_, err = svc.CreateView(ctx, ann, customers.ViewInput{Name: strp("   ")})
		wantNameError(t, err)
		_, err = svc.CreateView(ctx, ann, customers.ViewInput{Name: strp("MINE")})
		wantNameError(t, err)
		_, err = svc.CreateView(ctx, bob, customers.ViewInput{Name: strp("team germany"), Shared: boolp(true)})
		wantNameError(t, err)
		if _, err := svc.CreateView(ctx, bob, customers.ViewInput{Name: strp("mine")}); err != nil {
			t.Fatalf("another owner's personal name is free: %v", err)
		}
		_, err = svc.UpdateView(ctx, ann, personal.ID, customers.ViewInput{Name: strp("team GERMANY")})
		wantNameError(t, err)
		// a bad query is refused, naming the parameter
		_, err = svc.CreateView(ctx, ann, customers.ViewInput{Name: strp("Bad"), Query: strp("country=Atlantis")})
		if fe, ok := err.(crm.FieldErrors); !ok || fe.For("query") == "" {
			t.Fatalf("bad query: %v", err)
		}
		// the owner deletes; bob's pin goes with it
		if err := svc.DeleteView(ctx, ann, shared.ID); err != nil {
			t.Fatal(err)
		}
		views, _ := svc.Views(ctx, bob)
		for _, v := range views {
			if v.ID == shared.ID {
				t.Fatal("a deleted view is still listed")
			}
		}
	})
}

// viewSamples holds a value for every list parameter a view keeps. A new
// parameter in customers.QueryKeys fails this test until it has one.
func viewSamples(seg, company, user int64) url.Values {
	return url.Values{
		"q":             {"anna"},
		"owner":         {itoa(user)},
		"tag":           {"vip", "trial"},
		"tag_mode":      {"all"},
		"segment":       {itoa(seg)},
		"company":       {itoa(company)},
		"country":       {"DE", "FR"},
		"language":      {"de"},
		"has_inbound":   {"false"},
		"score_product": {"crm"},
		"score_min":     {"10"},
		"score_max":     {"90"},
		"created_from":  {"2026-01-01"},
		"created_to":    {"2026-02-28"},
		"archived":      {"all"},
		"sort":          {"-name"},
		"id":            {"1", "2"},
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestViewRoundTripsEveryFilter saves a view with every filter parameter of
// the list (customers.QueryKeys, less the paging state) and opens it: the
// same query comes back, each parameter on its own and all together.
func TestViewRoundTripsEveryFilter(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		svc := customers.New(db)
		ann := mkUser(t, db, "ann@views.example", crm.RoleMember)
		seg, err := svc.CreateSegment(ctx, ann, "Round trip")
		if err != nil {
			t.Fatal(err)
		}
		co, err := svc.CreateCompany(ctx, ann, customers.CompanyInput{Name: "Globex"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.CreateProduct(ctx, mkUser(t, db, "boss@views.example", crm.RoleAdmin), "crm", "CRM"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.EnsureTags(ctx, []string{"vip", "trial"}, time.Now()); err != nil {
			t.Fatal(err)
		}
		samples := viewSamples(seg.ID, co.ID, ann.ID)
		for _, key := range customers.QueryKeys {
			if slices.Contains(customers.PagingKeys, key) {
				continue
			}
			if _, ok := samples[key]; !ok {
				t.Fatalf("list parameter %q has no sample value in viewSamples: add one so views are checked to keep it", key)
			}
		}
		check := func(name string, vals url.Values) {
			t.Helper()
			want, err := svc.ParseQuery(ctx, ann, vals)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			saved, err := svc.CreateView(ctx, ann, customers.ViewInput{Name: strp(name), Query: strp(vals.Encode() + "&cursor=x&before=true&limit=25"),
				Columns: &[]string{"name", "score:crm", "custom:birthday"}, ScoreProduct: strp("crm")})
			if err != nil {
				t.Fatalf("%s: save: %v", name, err)
			}
			opened, err := svc.View(ctx, ann, saved.ID)
			if err != nil {
				t.Fatal(err)
			}
			back, _ := url.ParseQuery(opened.Query)
			for k := range vals {
				if !back.Has(k) {
					t.Errorf("%s: parameter %q was dropped: %q", name, k, opened.Query)
				}
			}
			for _, k := range customers.PagingKeys {
				if back.Has(k) {
					t.Errorf("%s: paging %q kept: %q", name, k, opened.Query)
				}
			}
			got, missing, err := svc.OpenQuery(ctx, ann, back)
			if err != nil || len(missing) > 0 {
				t.Fatalf("%s: open: %v, missing %+v", name, err, missing)
			}
			want.Cursor, want.Before, want.Limit = "", false, 0
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: opened as\n%+v\nwant\n%+v", name, got.Filter, want.Filter)
			}
			if !slices.Equal(opened.Columns, []string{"name", "score:crm", "custom:birthday"}) || opened.ScoreProduct != "crm" {
				t.Errorf("%s: columns %v, score product %q", name, opened.Columns, opened.ScoreProduct)
			}
		}
		for key, vals := range samples {
			one := url.Values{key: vals}
			switch key {
			case "score_min", "score_max":
				one.Set("score_product", "crm")
			case "tag_mode":
				one["tag"] = samples["tag"]
			}
			check("only "+key, one)
		}
		check("everything", samples)
	})
}

// TestViewWithDeletedReferencesMatchesNobody: a view whose tag or segment
// was deleted, or whose owner filter names a deactivated user, still opens;
// the condition is reported missing, and the view matches nobody through it
// (list, count and the export's WHERE alike), never everybody.
func TestViewWithDeletedReferencesMatchesNobody(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		svc := customers.New(db)
		admin := mkUser(t, db, "admin@views.example", crm.RoleAdmin)
		ann := mkUser(t, db, "ann@views.example", crm.RoleMember)
		var ids []int64
		for i := range 6 {
			c, err := svc.Create(ctx, admin, customers.NewCustomer{FullName: "Customer " + itoa(int64(i)), Tags: []string{"doomed", "kept"}[i%2 : i%2+1], OwnerID: &ann.ID})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		seg, err := svc.CreateSegment(ctx, admin, "Doomed segment")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.AddSegmentMembers(ctx, seg.ID, ids, time.Now()); err != nil {
			t.Fatal(err)
		}
		count := func(q crm.CustomerQuery) int {
			t.Helper()
			page, err := svc.List(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			n, _, err := db.CountCustomers(ctx, q.Filter)
			if err != nil {
				t.Fatal(err)
			}
			if n != page.Total {
				t.Fatalf("count %d, list %d", n, page.Total)
			}
			return n
		}
		open := func(query string) (crm.CustomerQuery, []customers.Missing) {
			t.Helper()
			v, err := svc.CreateView(ctx, admin, customers.ViewInput{Name: strp(query), Shared: boolp(true), Query: strp(query)})
			if err != nil {
				t.Fatal(err)
			}
			vals, _ := url.ParseQuery(v.Query)
			q, missing, err := svc.OpenQuery(ctx, admin, vals)
			if err != nil {
				t.Fatal(err)
			}
			return q, missing
		}
		tagOnly, _ := open("tag=doomed")
		tagAll, _ := open("tag=doomed&tag=kept&tag_mode=all")
		tagAny, _ := open("tag=doomed&tag=kept")
		segQ, _ := open("segment=" + itoa(seg.ID))
		ownerQ, _ := open("owner=" + itoa(ann.ID))
		if count(tagOnly) != 3 || count(segQ) != 6 || count(ownerQ) != 6 {
			t.Fatal("the views do not match their customers before the deletions")
		}

		// delete the tag and the segment as an operator would, in SQL (the
		// product itself offers no deletion of either yet), and deactivate ann
		for _, stmt := range []string{
			`DELETE FROM customer_tags WHERE tag_id IN (SELECT id FROM tags WHERE name_key = 'doomed')`,
			`DELETE FROM tags WHERE name_key = 'doomed'`,
			`DELETE FROM segment_members WHERE segment_id = ` + itoa(seg.ID),
			`DELETE FROM segments WHERE id = ` + itoa(seg.ID),
		} {
			if _, err := db.SQL.ExecContext(ctx, stmt); err != nil {
				t.Fatal(err)
			}
		}
		off := false
		if _, err := db.UpdateUser(ctx, ann.ID, crm.UserPatch{Active: &off}, time.Now()); err != nil {
			t.Fatal(err)
		}
		reopen := func(q crm.CustomerQuery) (crm.CustomerQuery, []customers.Missing) {
			t.Helper()
			vals, _ := url.ParseQuery(customers.ViewQuery(q))
			q2, missing, err := svc.OpenQuery(ctx, admin, vals)
			if err != nil {
				t.Fatalf("a view with a deleted reference does not open: %v", err)
			}
			return q2, missing
		}
		for _, c := range []struct {
			name  string
			q     crm.CustomerQuery
			want  int
			label string
		}{
			{"only the deleted tag", tagOnly, 0, "Tag: doomed (deleted)"},
			{"all of a deleted and a kept tag", tagAll, 0, "Tag: doomed (deleted)"},
			{"any of a deleted and a kept tag", tagAny, 3, "Tag: doomed (deleted)"},
			{"deleted segment", segQ, 0, "Segment: (deleted)"},
			{"deactivated owner", ownerQ, 6, "Owner: Name of ann@views.example (deactivated)"},
		} {
			q, missing := reopen(c.q)
			if n := count(q); n != c.want {
				t.Errorf("%s: matches %d, want %d", c.name, n, c.want)
			}
			if !slices.ContainsFunc(missing, func(m customers.Missing) bool { return m.Label == c.label }) {
				t.Errorf("%s: missing %+v, want %q", c.name, missing, c.label)
			}
		}
		// the strict parse (a typed URL, the API) still refuses the deleted segment
		if _, err := svc.ParseQuery(ctx, admin, url.Values{"segment": {itoa(seg.ID)}}); err == nil {
			t.Error("ParseQuery accepted a deleted segment")
		}
	})
}

// TestViewNameRace: two saves of one name at the same moment (a double
// click, two teammates sharing one name): exactly one view is made, the
// other is told beside the name field, many rounds over.
func TestViewNameRace(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		t.Parallel()
		svc := customers.New(db)
		ann := mkUser(t, db, "ann@race.example", crm.RoleMember)
		bob := mkUser(t, db, "bob@race.example", crm.RoleMember)
		for round := range 25 {
			name := "Race " + itoa(int64(round))
			var errs [2]error
			users := [2]*crm.User{ann, ann}
			if round%2 == 1 {
				users[1] = bob // two owners, both sharing: one shared name
			}
			together(
				func() {
					_, errs[0] = svc.CreateView(ctx, users[0], customers.ViewInput{Name: strp(name), Shared: boolp(true)})
				},
				func() {
					_, errs[1] = svc.CreateView(ctx, users[1], customers.ViewInput{Name: strp(name), Shared: boolp(true)})
				},
			)
			ok := 0
			for _, err := range errs {
				if err == nil {
					ok++
				} else {
					wantNameError(t, err)
				}
			}
			if ok != 1 {
				t.Fatalf("round %d: %d saves succeeded (%v)", round, ok, errs)
			}
		}
	})
}
