// Package storetest is the one contract test suite every crm.Store passes.
// Each engine's package calls Run with a function that opens a fresh store.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
)

// Opener returns a fresh, empty, migrated store for one test.
type Opener func(t *testing.T) crm.Store

var t0 = time.Date(2026, 3, 4, 10, 30, 15, 123456000, time.UTC)

// Run runs the whole contract against stores made by open.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s crm.Store)
	}{
		{"Users", testUsers},
		{"APITokens", testAPITokens},
		{"PrefsSessionsThrottle", testPrefsSessionsThrottle},
		{"Companies", testCompanies},
		{"TagsCaseInsensitive", testTags},
		{"SearchTags", SearchTags},
		{"Segments", testSegments},
		{"ProductsAndScores", testProductsAndScores},
		{"CustomFields", testCustomFields},
		{"Customers", testCustomers},
		{"OwnerIsConditional", testSetOwner},
		{"ArchiveNeverDeletes", testArchive},
		{"BulkChangesAreConditional", testBulkChangesAreConditional},
		{"MergeIsConditional", testMergeIsConditional},
		{"ContactsPrimaryAndNormalised", testContacts},
		{"Suppression", testSuppression},
		{"Records", testRecords},
		{"Activity", testActivity},
		{"Imports", testImports},
		{"ImportRunner", testImportRunner},
		{"ImportErrors", testImportErrors},
		{"ImportMatchesAndCompanies", testImportMatchesAndCompanies},
		{"InsertImported", testInsertImported},
		{"FindCustomersFiltersAndPages", testFind},
		{"SortsEmptyLast", SortsEmptyLast},
		{"SearchFoldsAndExactFirst", SearchFoldsAndExactFirst},
		{"TransactionRollsBack", testTx},
		{"ExportCustomers", testExport},
		{"JobCheckpoint", testJobCheckpoint},
		{"SegmentDeliveries", testDeliveries},
		{"BulkUndo", testBulkUndo},
		{"DuplicatePairs", DuplicatePairs},
		{"CompanyMerge", CompanyMerge},
		{"CompanyDuplicates", CompanyDuplicates},
		{"UserPasswordState", UserPasswordState},
		{"AvatarCache", AvatarCache},
		{"UploadChunks", UploadChunks},
		{"SavedViews", SavedViews},
		{"CountCustomersAsList", CountCustomersAsList},
		{"CompaniesTableBruteForce", CompaniesTableBruteForce},
		{"CustomersActiveMaintained", CustomersActiveMaintained},
		{"ImportFillsCompanyCountry", ImportFillsCompanyCountry},
		{"CompanyDomainUnique", CompanyDomainUnique},
		{"CompanyFilterEverywhere", CompanyFilterEverywhere},
		{"SegmentCountsFollowEveryChange", SegmentCountsFollowEveryChange},
		{"ChangeFeed", ChangeFeed},
		{"CountDrivesFromRows", CountDrivesFromRows},
		{"ScoreSortHashedOrNot", ScoreSortHashedOrNot},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

var ctx = context.Background()

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, err error, code crm.Code) {
	t.Helper()
	if code == "" { // no error at all
		must(t, err)
		return
	}
	if crm.CodeOf(err) != code {
		t.Fatalf("want a %s error, got %v", code, err)
	}
}

func newUser(t *testing.T, s crm.Store, email string, role crm.Role) *crm.User {
	t.Helper()
	u := &crm.User{Email: email, Name: "User " + email, Role: role, Active: true, PasswordHash: "h", CreatedAt: t0}
	must(t, s.CreateUser(ctx, u))
	return u
}

func newCustomer(t *testing.T, s crm.Store, name string, at time.Time) int64 {
	t.Helper()
	id, err := s.CreateCustomer(ctx, crm.NewCustomer{FullName: name, CreatedAt: at})
	must(t, err)
	return id
}

func testUsers(t *testing.T, s crm.Store) {
	u := newUser(t, s, " Mia@Example.com ", crm.RoleAdmin)
	if u.ID == 0 || u.Email != "mia@example.com" {
		t.Fatalf("created user %+v", u)
	}
	wantCode(t, s.CreateUser(ctx, &crm.User{Email: "MIA@example.com", Name: "x", Role: crm.RoleMember, CreatedAt: t0}), crm.CodeConflict)
	got, err := s.GetUserByEmail(ctx, "MIA@EXAMPLE.COM")
	must(t, err)
	if got.ID != u.ID || got.Role != crm.RoleAdmin || !got.Active || !got.CreatedAt.Equal(t0) {
		t.Fatalf("got %+v", got)
	}
	_, err = s.GetUser(ctx, 999)
	if !errors.Is(err, crm.ErrNotFound) {
		t.Fatalf("missing user: %v", err)
	}
	role, inactive, name := crm.RoleMember, false, "Mia Wong"
	got, err = s.UpdateUser(ctx, u.ID, crm.UserPatch{Role: &role, Active: &inactive, Name: &name}, t0.Add(time.Hour))
	must(t, err)
	if got.Role != crm.RoleMember || got.Active || got.Name != "Mia Wong" || got.PasswordHash != "h" {
		t.Fatalf("after update %+v", got)
	}
	newUser(t, s, "noah@example.com", crm.RoleMember)
	n, err := s.CountUsers(ctx)
	must(t, err)
	list, err := s.ListUsers(ctx)
	must(t, err)
	if n != 2 || len(list) != 2 || list[0].Name != "Mia Wong" {
		t.Fatalf("count %d list %+v", n, list)
	}
}

func testAPITokens(t *testing.T, s crm.Store) {
	u := newUser(t, s, "a@example.com", crm.RoleMember)
	tok := &crm.APIToken{UserID: u.ID, Name: "ci", Hash: []byte("0123456789abcdef0123456789abcdef"), Prefix: "crm_abcd", CreatedAt: t0}
	must(t, s.CreateAPIToken(ctx, tok))
	got, err := s.UserByTokenHash(ctx, tok.Hash, t0.Add(time.Hour))
	must(t, err)
	if got.ID != u.ID {
		t.Fatalf("token user %+v", got)
	}
	list, err := s.ListAPITokens(ctx, u.ID)
	must(t, err)
	if len(list) != 1 || list[0].LastUsedAt == nil || list[0].Prefix != "crm_abcd" {
		t.Fatalf("tokens %+v", list)
	}
	_, err = s.UserByTokenHash(ctx, []byte("nope"), t0)
	wantCode(t, err, crm.CodeNotFound)
	wantCode(t, s.RevokeAPIToken(ctx, u.ID+1, tok.ID, t0), crm.CodeNotFound) // not someone else's
	must(t, s.RevokeAPIToken(ctx, u.ID, tok.ID, t0))
	_, err = s.UserByTokenHash(ctx, tok.Hash, t0)
	wantCode(t, err, crm.CodeNotFound)

	// a deactivated user's tokens stop working
	tok2 := &crm.APIToken{UserID: u.ID, Name: "two", Hash: []byte("second-hash-second-hash-00000000"), Prefix: "crm_x", CreatedAt: t0}
	must(t, s.CreateAPIToken(ctx, tok2))
	off := false
	_, err = s.UpdateUser(ctx, u.ID, crm.UserPatch{Active: &off}, t0)
	must(t, err)
	_, err = s.UserByTokenHash(ctx, tok2.Hash, t0)
	wantCode(t, err, crm.CodeNotFound)
}

func testPrefsSessionsThrottle(t *testing.T, s crm.Store) {
	u := newUser(t, s, "p@example.com", crm.RoleMember)
	v, err := s.GetUserPref(ctx, u.ID, "columns")
	must(t, err)
	if v != "" {
		t.Fatalf("unset pref %q", v)
	}
	must(t, s.SetUserPref(ctx, u.ID, "columns", `["name"]`))
	must(t, s.SetUserPref(ctx, u.ID, "columns", `["name","email"]`))
	v, _ = s.GetUserPref(ctx, u.ID, "columns")
	if v != `["name","email"]` {
		t.Fatalf("pref %q", v)
	}

	must(t, s.SessionCommit(ctx, "tok", []byte("data1"), t0.Add(time.Hour)))
	must(t, s.SessionCommit(ctx, "tok", []byte("data2"), t0.Add(time.Hour)))
	data, ok, err := s.SessionFind(ctx, "tok", t0)
	must(t, err)
	if !ok || string(data) != "data2" {
		t.Fatalf("session %q %v", data, ok)
	}
	if _, ok, _ := s.SessionFind(ctx, "tok", t0.Add(2*time.Hour)); ok {
		t.Fatal("expired session found")
	}
	must(t, s.SessionDeleteExpired(ctx, t0.Add(2*time.Hour)))
	if _, ok, _ := s.SessionFind(ctx, "tok", t0); ok {
		t.Fatal("session survived cleanup")
	}

	for i := range 3 {
		must(t, s.RecordLoginFailure(ctx, "P@example.com", "10.0.0.1", t0.Add(time.Duration(i)*time.Minute)))
	}
	must(t, s.RecordLoginFailure(ctx, "q@example.com", "10.0.0.1", t0.Add(time.Minute)))
	must(t, s.RecordLoginFailure(ctx, "p@example.com", "10.9.9.9", t0))
	f, err := s.CountLoginFailures(ctx, "p@example.com", "10.0.0.1", t0.Add(time.Minute), t0)
	must(t, err)
	if f.Pair != 2 || !f.PairLast.Equal(t0.Add(2*time.Minute)) || f.IP != 4 {
		t.Fatalf("failures of the pair since t0+1m, of the address since t0: %+v", f)
	}
	must(t, s.ClearLoginFailures(ctx, "p@example.com", "10.0.0.1"))
	f, _ = s.CountLoginFailures(ctx, "p@example.com", "10.0.0.1", t0, t0)
	if f.Pair != 0 || !f.PairLast.IsZero() || f.IP != 1 {
		t.Fatalf("after clearing the pair %+v", f)
	}
	if f, _ = s.CountLoginFailures(ctx, "p@example.com", "10.9.9.9", t0, t0); f.Pair != 1 {
		t.Fatalf("clearing one pair cleared another: %+v", f)
	}
}

func testCompanies(t *testing.T, s crm.Store) {
	c := &crm.Company{Name: "Acme GmbH", Domain: "acme.de", CreatedAt: t0}
	must(t, s.CreateCompany(ctx, c))
	wantCode(t, s.CreateCompany(ctx, &crm.Company{Name: "ACME gmbh", CreatedAt: t0}), crm.CodeConflict)
	must(t, s.CreateCompany(ctx, &crm.Company{Name: "Acorn_Ltd", CreatedAt: t0}))
	must(t, s.CreateCompany(ctx, &crm.Company{Name: "Beta", CreatedAt: t0}))
	got, err := s.FindCompanyByName(ctx, "acme gmbh")
	must(t, err)
	if got.ID != c.ID || got.Domain != "acme.de" {
		t.Fatalf("found %+v", got)
	}
	list, err := s.ListCompanies(ctx, "ac", 10)
	must(t, err)
	if len(list) != 2 || list[0].Name != "Acme GmbH" {
		t.Fatalf("prefix list %+v", list)
	}
	if list, _ := s.ListCompanies(ctx, "acorn_", 10); len(list) != 1 { // _ is literal, not a wildcard
		t.Fatalf("literal underscore %+v", list)
	}
	id := newCustomer(t, s, "Anna", t0)
	must(t, s.UpdateCustomer(ctx, id, crm.CustomerPatch{CompanyID: ptr(&c.ID)}, t0))
	c.Name, c.UpdatedAt = "Acme AG", t0.Add(time.Hour)
	must(t, s.UpdateCompany(ctx, c))
	got, _ = s.GetCompany(ctx, c.ID)
	if got.Name != "Acme AG" || got.Customers != 1 {
		t.Fatalf("after update %+v", got)
	}
}

func ptr[T any](v T) *T { return &v }

func testTags(t *testing.T, s crm.Store) {
	tags, err := s.EnsureTags(ctx, []string{"VIP", " vip ", "Churn-risk", ""}, t0)
	must(t, err)
	if len(tags) != 2 || tags[0].Name != "VIP" {
		t.Fatalf("ensure %+v", tags)
	}
	again, err := s.EnsureTags(ctx, []string{"vip", "new"}, t0)
	must(t, err)
	if again[0].ID != tags[0].ID || again[0].Name != "VIP" {
		t.Fatalf("case-insensitive reuse failed: %+v", again)
	}
	all, _ := s.ListTags(ctx)
	if len(all) != 3 {
		t.Fatalf("tags %+v", all)
	}
	// beyond ASCII: one tag, whatever the case of its first letter, on every engine
	umlaut, err := s.EnsureTags(ctx, []string{"Ärzte"}, t0)
	must(t, err)
	again2, err := s.EnsureTags(ctx, []string{"ärzte", "ÄRZTE"}, t0)
	must(t, err)
	if len(again2) != 1 || again2[0].ID != umlaut[0].ID || again2[0].Name != "Ärzte" {
		t.Fatalf("non-ASCII case folding: %+v then %+v", umlaut, again2)
	}
	wantCode(t, s.CreateCompany(ctx, &crm.Company{Name: "Öl AG", CreatedAt: t0}), "")
	wantCode(t, s.CreateCompany(ctx, &crm.Company{Name: "öL ag", CreatedAt: t0}), crm.CodeConflict)
	if c, err := s.FindCompanyByName(ctx, "ÖL AG"); err != nil || c.Name != "Öl AG" {
		t.Fatalf("find company by folded name: %v %v", c, err)
	}
	id := newCustomer(t, s, "Tagged", t0)
	n, err := s.AddCustomerTags(ctx, id, []int64{tags[0].ID, tags[1].ID}, t0)
	must(t, err)
	n2, _ := s.AddCustomerTags(ctx, id, []int64{tags[0].ID}, t0)
	if n != 2 || n2 != 0 {
		t.Fatalf("added %d then %d", n, n2)
	}
	removed, err := s.RemoveCustomerTag(ctx, id, tags[1].ID, t0)
	must(t, err)
	c, _ := s.GetCustomer(ctx, id)
	if !removed || len(c.Tags) != 1 || c.Tags[0] != "VIP" {
		t.Fatalf("customer tags %v", c.Tags)
	}
}

func testSegments(t *testing.T, s crm.Store) {
	sg := &crm.Segment{Name: "Q3 webinar", CreatedAt: t0}
	must(t, s.CreateSegment(ctx, sg))
	wantCode(t, s.CreateSegment(ctx, &crm.Segment{Name: "q3 WEBINAR", CreatedAt: t0}), crm.CodeConflict)
	a, b := newCustomer(t, s, "A", t0), newCustomer(t, s, "B", t0)
	n, err := s.AddSegmentMembers(ctx, sg.ID, []int64{a, b}, t0)
	must(t, err)
	n2, _ := s.AddSegmentMembers(ctx, sg.ID, []int64{a}, t0)
	if n != 2 || n2 != 0 {
		t.Fatalf("added %d then %d", n, n2)
	}
	r, err := s.RemoveSegmentMembers(ctx, sg.ID, []int64{b})
	must(t, err)
	must(t, s.RenameSegment(ctx, sg.ID, "Q3 webinar attendees", t0))
	got, _ := s.GetSegment(ctx, sg.ID)
	if r != 1 || got.Members != 1 || got.Name != "Q3 webinar attendees" {
		t.Fatalf("segment %+v removed %d", got, r)
	}
	c, _ := s.GetCustomer(ctx, a)
	if len(c.Segments) != 1 || c.Segments[0] != sg.ID {
		t.Fatalf("customer segments %v", c.Segments)
	}
	wantCode(t, s.RenameSegment(ctx, 9999, "x", t0), crm.CodeNotFound)
	// members count everyone in the segment; active and archived split them
	// as the table (active by default) and its archived view count them
	d := newCustomer(t, s, "D", t0)
	_, err = s.AddSegmentMembers(ctx, sg.ID, []int64{d}, t0)
	must(t, err)
	must(t, s.SetArchived(ctx, d, &t0, nil, t0))
	list, err := s.ListSegments(ctx)
	must(t, err)
	if len(list) != 1 || list[0].Members != 2 || list[0].Active != 1 || list[0].Archived != 1 {
		t.Fatalf("segments with an archived member: %+v", list)
	}
}

func testProductsAndScores(t *testing.T, s crm.Store) {
	p := &crm.Product{Key: "crm", Name: "CRM", Position: 1}
	must(t, s.CreateProduct(ctx, p))
	wantCode(t, s.CreateProduct(ctx, &crm.Product{Key: "crm", Name: "again"}), crm.CodeConflict)
	id := newCustomer(t, s, "Scored", t0)
	must(t, s.SetScore(ctx, id, p.ID, ptr(70), t0))
	must(t, s.SetScore(ctx, id, p.ID, ptr(85), t0))
	c, _ := s.GetCustomer(ctx, id)
	if c.Scores["crm"] != 85 {
		t.Fatalf("scores %v", c.Scores)
	}
	if err := s.SetScore(ctx, id, p.ID, ptr(101), t0); err == nil {
		t.Fatal("score 101 accepted")
	}
	must(t, s.SetScore(ctx, id, p.ID, nil, t0))
	c, _ = s.GetCustomer(ctx, id)
	if len(c.Scores) != 0 {
		t.Fatalf("cleared scores %v", c.Scores)
	}
	p.Name = "CRM Suite"
	must(t, s.UpdateProduct(ctx, p))
	ps, _ := s.ListProducts(ctx)
	if len(ps) != 1 || ps[0].Name != "CRM Suite" {
		t.Fatalf("products %+v", ps)
	}
}

func testCustomFields(t *testing.T, s crm.Store) {
	f := &crm.CustomField{Key: "plan", Label: "Plan", Type: crm.FieldSelect, Options: []string{"free", "pro"}, CreatedAt: t0}
	must(t, s.CreateCustomField(ctx, f))
	wantCode(t, s.CreateCustomField(ctx, &crm.CustomField{Key: "plan", Label: "x", Type: crm.FieldText, CreatedAt: t0}), crm.CodeConflict)
	id := newCustomer(t, s, "Custom", t0)
	must(t, s.SetCustomValue(ctx, id, f.ID, ptr(`"pro"`), t0))
	c, _ := s.GetCustomer(ctx, id)
	if c.Custom["plan"] != "pro" {
		t.Fatalf("custom %v", c.Custom)
	}
	now := t0
	f.RetiredAt, f.Label = &now, "Pricing plan"
	must(t, s.UpdateCustomField(ctx, f))
	live, _ := s.ListCustomFields(ctx, false)
	all, _ := s.ListCustomFields(ctx, true)
	if len(live) != 0 || len(all) != 1 || all[0].Label != "Pricing plan" || len(all[0].Options) != 2 {
		t.Fatalf("live %+v all %+v", live, all)
	}
}

func testCustomers(t *testing.T, s crm.Store) {
	u := newUser(t, s, "o@example.com", crm.RoleMember)
	co := &crm.Company{Name: "Globex", CreatedAt: t0}
	must(t, s.CreateCompany(ctx, co))
	id, err := s.CreateCustomer(ctx, crm.NewCustomer{FullName: "Zoë Müller", FirstName: "Zoë", LastName: "Müller",
		CompanyID: &co.ID, OwnerID: &u.ID, Language: "de", Country: "DE", Timezone: "Europe/Berlin", CreatedAt: t0})
	must(t, err)
	c, err := s.GetCustomer(ctx, id)
	must(t, err)
	if c.FullName != "Zoë Müller" || c.Company == nil || c.Company.Name != "Globex" || c.Owner == nil || c.Owner.ID != u.ID ||
		c.Country != "DE" || !c.CreatedAt.Equal(t0) || c.ArchivedAt != nil || c.MergedInto != nil || c.Contacts == nil {
		t.Fatalf("customer %+v", c)
	}
	name, empty := "Zoe Mueller", ""
	var noCompany *int64
	must(t, s.UpdateCustomer(ctx, id, crm.CustomerPatch{FullName: &name, Country: &empty, CompanyID: &noCompany}, t0.Add(time.Minute)))
	c, _ = s.GetCustomer(ctx, id)
	if c.FullName != name || c.Country != "" || c.Company != nil || !c.UpdatedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("after patch %+v", c)
	}
	wantCode(t, s.UpdateCustomer(ctx, 424242, crm.CustomerPatch{FullName: &name}, t0), crm.CodeNotFound)
	_, err = s.GetCustomer(ctx, 424242)
	wantCode(t, err, crm.CodeNotFound)
}

func testSetOwner(t *testing.T, s crm.Store) {
	a, b := newUser(t, s, "a@example.com", crm.RoleMember), newUser(t, s, "b@example.com", crm.RoleMember)
	id := newCustomer(t, s, "Owned", t0)
	ok, err := s.SetOwner(ctx, id, &a.ID, crm.OwnerExpectation{}, t0)
	must(t, err)
	if !ok {
		t.Fatal("claim of an unclaimed customer failed")
	}
	if ok, _ := s.SetOwner(ctx, id, &b.ID, crm.OwnerExpectation{}, t0); ok {
		t.Fatal("second claim won")
	}
	if ok, _ := s.SetOwner(ctx, id, nil, crm.OwnerExpectation{UserID: &b.ID}, t0); ok {
		t.Fatal("unclaim by a non-owner won")
	}
	if ok, _ := s.SetOwner(ctx, id, nil, crm.OwnerExpectation{UserID: &a.ID}, t0); !ok {
		t.Fatal("unclaim by the owner failed")
	}
	if ok, _ := s.SetOwner(ctx, id, &b.ID, crm.OwnerExpectation{Any: true}, t0); !ok {
		t.Fatal("reassign failed")
	}
	c, _ := s.GetCustomer(ctx, id)
	if c.Owner == nil || c.Owner.ID != b.ID {
		t.Fatalf("owner %+v", c.Owner)
	}
	_, err = s.SetOwner(ctx, 99999, &a.ID, crm.OwnerExpectation{}, t0)
	wantCode(t, err, crm.CodeNotFound)
}

func testArchive(t *testing.T, s crm.Store) {
	keep, gone := newCustomer(t, s, "Primary", t0), newCustomer(t, s, "Secondary", t0)
	at := t0.Add(time.Hour)
	must(t, s.SetArchived(ctx, gone, &at, &keep, at))
	c, err := s.GetCustomer(ctx, gone)
	must(t, err) // archived, never deleted
	if c.ArchivedAt == nil || !c.ArchivedAt.Equal(at) || c.MergedInto == nil || *c.MergedInto != keep {
		t.Fatalf("archived %+v", c)
	}
	active, _ := s.FindCustomers(ctx, crm.CustomerQuery{})
	archived, _ := s.FindCustomers(ctx, crm.CustomerQuery{Filter: crm.CustomerFilter{Archived: crm.ArchivedOnly}})
	all, _ := s.FindCustomers(ctx, crm.CustomerQuery{Filter: crm.CustomerFilter{Archived: crm.ArchivedAll}})
	if active.Total != 1 || archived.Total != 1 || all.Total != 2 || archived.Items[0].ID != gone {
		t.Fatalf("active %d archived %d all %d", active.Total, archived.Total, all.Total)
	}
	must(t, s.SetArchived(ctx, gone, nil, nil, at))
	c, _ = s.GetCustomer(ctx, gone)
	if c.ArchivedAt != nil || c.MergedInto != nil {
		t.Fatalf("restored %+v", c)
	}
}

func testContacts(t *testing.T, s crm.Store) {
	id := newCustomer(t, s, "Reach Me", t0)
	first := &crm.Contact{CustomerID: id, Channel: crm.ChannelEmail, Value: "  Reach.Me@Example.COM "}
	must(t, s.AddContact(ctx, first, t0))
	if first.Value != "reach.me@example.com" || !first.Primary {
		t.Fatalf("first contact %+v", first)
	}
	second := &crm.Contact{CustomerID: id, Channel: crm.ChannelEmail, Value: "work@example.com"}
	must(t, s.AddContact(ctx, second, t0))
	if second.Primary {
		t.Fatal("second e-mail became primary")
	}
	wantCode(t, s.AddContact(ctx, &crm.Contact{CustomerID: id, Channel: crm.ChannelEmail, Value: "REACH.ME@example.com"}, t0), crm.CodeConflict)
	wantCode(t, s.AddContact(ctx, &crm.Contact{CustomerID: id, Channel: crm.ChannelEmail, Value: "not-an-address"}, t0), crm.CodeInvalid)
	wantCode(t, s.AddContact(ctx, &crm.Contact{CustomerID: id, Channel: crm.ChannelPhone, Value: "030 1234567"}, t0), crm.CodeInvalid) // no region
	phone := &crm.Contact{CustomerID: id, Channel: crm.ChannelPhone, Value: "+49 30 1234567"}
	must(t, s.AddContact(ctx, phone, t0))
	li := &crm.Contact{CustomerID: id, Channel: crm.ChannelLinkedIn, Value: "linkedin.com/in/Reach-Me/"}
	must(t, s.AddContact(ctx, li, t0))
	if phone.Value != "+49301234567" || li.Value != "https://www.linkedin.com/in/reach-me" {
		t.Fatalf("normalised %q %q", phone.Value, li.Value)
	}
	c, _ := s.GetCustomer(ctx, id)
	if c.PrimaryEmail != "reach.me@example.com" || c.PrimaryPhone != "+49301234567" || len(c.Contacts) != 4 || c.Contacts[0].ID != first.ID {
		t.Fatalf("customer contacts %+v", c)
	}

	must(t, s.MakePrimary(ctx, second.ID, t0))
	c, _ = s.GetCustomer(ctx, id)
	primaries := 0
	for _, k := range c.Contacts {
		if k.Channel == crm.ChannelEmail && k.Primary {
			primaries++
		}
	}
	if primaries != 1 || c.PrimaryEmail != "work@example.com" || c.Contacts[0].ID != second.ID {
		t.Fatalf("after make primary: %d primaries, %+v", primaries, c.Contacts)
	}

	must(t, s.UpdateContactValue(ctx, second.ID, " New@Example.com", t0))
	got, _ := s.GetContact(ctx, second.ID)
	c, _ = s.GetCustomer(ctx, id)
	if got.Value != "new@example.com" || c.PrimaryEmail != "new@example.com" {
		t.Fatalf("updated value %q primary %q", got.Value, c.PrimaryEmail)
	}
	wantCode(t, s.UpdateContactValue(ctx, second.ID, "bad", t0), crm.CodeInvalid)

	// removing the primary promotes the other; the removed row stays for the audit trail
	must(t, s.RemoveContact(ctx, second.ID, t0))
	c, _ = s.GetCustomer(ctx, id)
	if c.PrimaryEmail != "reach.me@example.com" || len(c.Contacts) != 3 {
		t.Fatalf("after remove %+v", c)
	}
	_, err := s.GetContact(ctx, second.ID)
	wantCode(t, err, crm.CodeNotFound)

	other := newCustomer(t, s, "Dup", t0)
	must(t, s.AddContact(ctx, &crm.Contact{CustomerID: other, Channel: crm.ChannelEmail, Value: "reach.me@example.com"}, t0))
	same, err := s.FindContactsByValue(ctx, crm.ChannelEmail, "reach.me@example.com")
	must(t, err)
	if len(same) != 2 {
		t.Fatalf("same value on two customers: %+v", same)
	}
}

// A suppression belongs to the address (channel and normalised value):
// every contact holding the value shows it, removed and re-added ones and
// ones added later included, until it is lifted; the history is the address's.
func testSuppression(t *testing.T, s crm.Store) {
	u := newUser(t, s, "s@example.com", crm.RoleMember)
	id := newCustomer(t, s, "Quiet", t0)
	k := &crm.Contact{CustomerID: id, Channel: crm.ChannelEmail, Value: "quiet@example.com"}
	must(t, s.AddContact(ctx, k, t0))
	twin := newCustomer(t, s, "Quiet twin", t0)
	k2 := &crm.Contact{CustomerID: twin, Channel: crm.ChannelEmail, Value: "quiet@example.com"}
	must(t, s.AddContact(ctx, k2, t0))
	if sup, err := s.Suppression(ctx, crm.ChannelEmail, "quiet@example.com"); err != nil || sup != nil {
		t.Fatalf("before: %+v %v", sup, err)
	}
	by := &crm.UserRef{ID: u.ID}
	must(t, s.SetSuppression(ctx, k.Channel, k.Value, &crm.Suppression{Reason: crm.ReasonUnsubscribe, Note: "asked by phone", By: by, At: t0},
		crm.SuppressionEvent{ContactID: k.ID, Action: "suppress", Reason: crm.ReasonUnsubscribe, Note: "asked by phone", By: by, At: t0}))
	for _, kid := range []int64{k.ID, k2.ID} {
		got, _ := s.GetContact(ctx, kid)
		if got.Suppression == nil || got.Suppression.Reason != crm.ReasonUnsubscribe || got.Suppression.By == nil ||
			got.Suppression.By.Email != "s@example.com" || !got.Suppression.At.Equal(t0) || got.Suppression.Note != "asked by phone" {
			t.Fatalf("contact %d suppressed %+v", kid, got.Suppression)
		}
	}
	c, _ := s.GetCustomer(ctx, twin)
	if c.Contacts[0].Suppression == nil {
		t.Fatalf("the twin's customer shows %+v", c.Contacts)
	}
	// the same value on another channel is another address
	other := &crm.Contact{CustomerID: id, Channel: crm.ChannelOther, Value: "quiet@example.com"}
	must(t, s.AddContact(ctx, other, t0))
	if got, _ := s.GetContact(ctx, other.ID); got.Suppression != nil {
		t.Fatalf("another channel shows %+v", got.Suppression)
	}
	must(t, s.SetSuppression(ctx, k.Channel, k.Value, nil, crm.SuppressionEvent{ContactID: k2.ID, Action: "unsuppress", Note: "re-subscribed in writing", By: by, At: t0.Add(time.Hour)}))
	for _, kid := range []int64{k.ID, k2.ID} {
		if got, _ := s.GetContact(ctx, kid); got.Suppression != nil {
			t.Fatalf("contact %d still suppressed %+v", kid, got.Suppression)
		}
	}
	wantCode(t, s.SetSuppression(ctx, k.Channel, k.Value, nil, crm.SuppressionEvent{Action: "unsuppress", Note: "again", At: t0}), crm.CodeConflict)
	hist, err := s.ListSuppressionEvents(ctx, crm.ChannelEmail, "quiet@example.com")
	must(t, err)
	if len(hist) != 2 || hist[0].Action != "suppress" || hist[0].ContactID != k.ID || hist[1].Note != "re-subscribed in writing" ||
		hist[1].ContactID != k2.ID || hist[1].Value != "quiet@example.com" || hist[1].Channel != crm.ChannelEmail {
		t.Fatalf("history %+v", hist)
	}
	// removing the contact leaves the address suppressed: re-added, it shows it
	must(t, s.SetSuppression(ctx, k.Channel, k.Value, &crm.Suppression{Reason: crm.ReasonBounce, At: t0}, crm.SuppressionEvent{Action: "suppress", Reason: crm.ReasonBounce, At: t0}))
	must(t, s.RemoveContact(ctx, k.ID, t0))
	if gone, err := s.GetContactEver(ctx, k.ID); err != nil || gone.Value != "quiet@example.com" || gone.Suppression == nil {
		t.Fatalf("removed contact %+v %v", gone, err)
	}
	again := &crm.Contact{CustomerID: id, Channel: crm.ChannelEmail, Value: "quiet@example.com"}
	must(t, s.AddContact(ctx, again, t0))
	if got, _ := s.GetContact(ctx, again.ID); got.Suppression == nil || got.Suppression.Reason != crm.ReasonBounce {
		t.Fatalf("re-added %+v", got.Suppression)
	}
	if hist, _ := s.ListSuppressionEvents(ctx, crm.ChannelEmail, "quiet@example.com"); len(hist) != 3 || hist[2].ContactID != 0 {
		t.Fatalf("history after removal %+v", hist)
	}
	// editing a contact's value moves it to the other address's state
	must(t, s.UpdateContactValue(ctx, again.ID, "loud@example.com", t0))
	if got, _ := s.GetContact(ctx, again.ID); got.Suppression != nil {
		t.Fatalf("edited to a new address %+v", got.Suppression)
	}
}

func testRecords(t *testing.T, s crm.Store) {
	u := newUser(t, s, "r@example.com", crm.RoleMember)
	id := newCustomer(t, s, "Busy", t0)
	out := &crm.Message{CustomerID: id, Direction: crm.Outbound, Channel: crm.ChannelEmail, Address: "b@example.com", Subject: "Hi", Status: "outbox", UserID: &u.ID, At: t0}
	must(t, s.AddMessage(ctx, out))
	c, _ := s.GetCustomer(ctx, id)
	if c.HasInbound {
		t.Fatal("outbound made has_inbound")
	}
	must(t, s.AddMessage(ctx, &crm.Message{CustomerID: id, Direction: crm.Inbound, Channel: crm.ChannelEmail, Body: "Re: Hi", Status: "received", At: t0.Add(time.Minute)}))
	c, _ = s.GetCustomer(ctx, id)
	msgs, _ := s.ListMessages(ctx, id, 10)
	if !c.HasInbound || len(msgs) != 2 || msgs[0].Direction != crm.Inbound || msgs[1].UserID == nil {
		t.Fatalf("has_inbound %v messages %+v", c.HasInbound, msgs)
	}

	d := &crm.Deal{CustomerID: id, Title: "Pilot", Amount: 120000, Currency: "EUR", Stage: "lead", AuthorID: &u.ID, CreatedAt: t0}
	must(t, s.CreateDeal(ctx, d))
	d.Stage, d.UpdatedAt = "won", t0.Add(time.Hour)
	must(t, s.UpdateDeal(ctx, d))
	n := &crm.Note{CustomerID: id, Body: "Met at the fair", AuthorID: &u.ID, CreatedAt: t0}
	must(t, s.CreateNote(ctx, n))
	n.Body, n.UpdatedAt = "Met at the fair in Cologne", t0.Add(time.Hour)
	must(t, s.UpdateNote(ctx, n))
	due := t0.Add(48 * time.Hour)
	tk := &crm.Task{CustomerID: id, Title: "Send offer", Due: &due, AuthorID: &u.ID, CreatedAt: t0}
	must(t, s.CreateTask(ctx, tk))
	done := t0.Add(time.Hour)
	tk.DoneAt, tk.UpdatedAt = &done, done
	must(t, s.UpdateTask(ctx, tk))
	deals, _ := s.ListDeals(ctx, id)
	notes, _ := s.ListNotes(ctx, id)
	tasks, _ := s.ListTasks(ctx, id)
	if len(deals) != 1 || deals[0].Stage != "won" || deals[0].Amount != 120000 ||
		len(notes) != 1 || notes[0].Body != n.Body || len(tasks) != 1 || tasks[0].DoneAt == nil || !tasks[0].Due.Equal(due) {
		t.Fatalf("deals %+v notes %+v tasks %+v", deals, notes, tasks)
	}
	wantCode(t, s.UpdateNote(ctx, &crm.Note{ID: 999, Body: "x"}), crm.CodeNotFound)
}

func testActivity(t *testing.T, s crm.Store) {
	u := newUser(t, s, "act@example.com", crm.RoleMember)
	id := newCustomer(t, s, "Logged", t0)
	for i := range 7 {
		data, _ := json.Marshal(map[string]any{"i": i})
		must(t, s.AddActivity(ctx, &crm.Activity{CustomerID: id, Actor: &crm.UserRef{ID: u.ID}, Kind: crm.ActUpdated, Data: data, At: t0.Add(time.Duration(i) * time.Second)}))
	}
	page1, err := s.ListActivity(ctx, id, 0, 5)
	must(t, err)
	page2, _ := s.ListActivity(ctx, id, page1[len(page1)-1].ID, 5)
	if len(page1) != 5 || len(page2) != 2 || page1[0].Actor.Name == "" || string(page1[0].Data) != `{"i":6}` {
		t.Fatalf("pages %d %d first %+v", len(page1), len(page2), page1[0])
	}
	// the same entry for many customers at once (a bulk action)
	other := newCustomer(t, s, "Also logged", t0)
	must(t, s.AddActivityFor(ctx, []int64{other, id}, crm.Activity{Actor: &crm.UserRef{ID: u.ID}, Kind: crm.ActTagAdded,
		Data: json.RawMessage(`{"tag":"VIP","bulk":true}`), At: t0.Add(time.Minute)}))
	for _, c := range []int64{id, other} {
		got, err := s.ListActivity(ctx, c, 0, 1)
		must(t, err)
		if len(got) != 1 || got[0].CustomerID != c || got[0].Kind != crm.ActTagAdded || got[0].Actor == nil || got[0].Actor.ID != u.ID ||
			string(got[0].Data) != `{"tag":"VIP","bulk":true}` || !got[0].At.Equal(t0.Add(time.Minute)) {
			t.Fatalf("bulk entry of customer %d: %+v", c, got)
		}
	}
}

func testImports(t *testing.T, s crm.Store) {
	u := newUser(t, s, "imp@example.com", crm.RoleMember)
	j := &crm.ImportJob{UserID: u.ID, Filename: "leads.csv", Path: "/tmp/x", Size: 10, Status: crm.ImportUploaded, Mode: "create",
		Mapping: map[string]string{"E-mail": "email"}, CreatedAt: t0}
	must(t, s.CreateImport(ctx, j))
	j.Status, j.Processed, j.Created, j.Offset, j.UpdatedAt = crm.ImportRunning, 5, 4, 123, t0
	must(t, s.UpdateImport(ctx, j))
	got, err := s.GetImport(ctx, j.ID)
	must(t, err)
	list, _ := s.ListImports(ctx, 10)
	if got.Status != crm.ImportRunning || got.Offset != 123 || got.Mapping["E-mail"] != "email" || len(list) != 1 {
		t.Fatalf("import %+v", got)
	}
}

func testFind(t *testing.T, s crm.Store) {
	u := newUser(t, s, "f@example.com", crm.RoleMember)
	vip, _ := s.EnsureTags(ctx, []string{"vip", "trial"}, t0)
	p := &crm.Product{Key: "crm", Name: "CRM"}
	must(t, s.CreateProduct(ctx, p))
	var ids []int64
	for i := range 23 {
		id := newCustomer(t, s, fmt.Sprintf("Customer %02d", i), t0.Add(time.Duration(i%5)*24*time.Hour)) // equal times: ties broken by id
		ids = append(ids, id)
		country := []string{"DE", "FR", "US"}[i%3]
		must(t, s.UpdateCustomer(ctx, id, crm.CustomerPatch{Country: &country}, t0))
		if i%2 == 0 {
			_, err := s.SetOwner(ctx, id, &u.ID, crm.OwnerExpectation{}, t0)
			must(t, err)
		}
		if i%4 == 0 {
			_, err := s.AddCustomerTags(ctx, id, []int64{vip[0].ID}, t0)
			must(t, err)
		}
		if i%8 == 0 {
			_, err := s.AddCustomerTags(ctx, id, []int64{vip[1].ID}, t0)
			must(t, err)
		}
		must(t, s.SetScore(ctx, id, p.ID, ptr(i*4), t0))
	}
	count := func(f crm.CustomerFilter) int {
		t.Helper()
		pg, err := s.FindCustomers(ctx, crm.CustomerQuery{Filter: f, Limit: 500})
		must(t, err)
		if pg.Total != len(pg.Items) {
			t.Fatalf("total %d but %d items", pg.Total, len(pg.Items))
		}
		return pg.Total
	}
	checks := []struct {
		name string
		f    crm.CustomerFilter
		want int
	}{
		{"all", crm.CustomerFilter{}, 23},
		{"mine", crm.CustomerFilter{Owner: crm.OwnerMe, OwnerID: u.ID}, 12},
		{"unclaimed", crm.CustomerFilter{Owner: crm.OwnerNone}, 11},
		{"tag any", crm.CustomerFilter{Tags: []string{"VIP", "trial"}}, 6},
		{"tag all", crm.CustomerFilter{Tags: []string{"vip", "trial"}, TagsAll: true}, 3},
		{"country", crm.CustomerFilter{Countries: []string{"DE", "US"}}, 15},
		{"score", crm.CustomerFilter{ScoreProduct: "crm", ScoreMin: ptr(40), ScoreMax: ptr(60)}, 6},
		{"created", crm.CustomerFilter{CreatedFrom: ptr(t0.Add(24 * time.Hour)), CreatedTo: ptr(t0.Add(48 * time.Hour))}, 5},
		{"search", crm.CustomerFilter{Q: "customer 1"}, 10},
		{"ids", crm.CustomerFilter{IDs: ids[:3]}, 3},
		{"combined", crm.CustomerFilter{Owner: crm.OwnerMe, OwnerID: u.ID, Countries: []string{"DE"}, Tags: []string{"vip"}}, 2},
	}
	for _, c := range checks {
		if got := count(c.f); got != c.want {
			t.Errorf("%s: %d customers, want %d", c.name, got, c.want)
		}
	}

	// Paging forwards in each sort visits everyone once; paging back returns the same pages.
	for _, sort := range []string{"-created", "created", "name", "-name", "email", "-updated", "country"} {
		seen := map[int64]bool{}
		var cursors []string
		q := crm.CustomerQuery{Sort: sort, Limit: 5}
		var pages [][]int64
		for {
			pg, err := s.FindCustomers(ctx, q)
			must(t, err)
			var pageIDs []int64
			for _, c := range pg.Items {
				if seen[c.ID] {
					t.Fatalf("%s: customer %d repeated", sort, c.ID)
				}
				seen[c.ID] = true
				pageIDs = append(pageIDs, c.ID)
			}
			pages = append(pages, pageIDs)
			cursors = append(cursors, pg.PrevCursor)
			if pg.NextCursor == "" {
				break
			}
			q.Cursor = pg.NextCursor
		}
		if len(seen) != 23 || len(pages) != 5 {
			t.Fatalf("%s: saw %d customers in %d pages", sort, len(seen), len(pages))
		}
		back, err := s.FindCustomers(ctx, crm.CustomerQuery{Sort: sort, Limit: 5, Cursor: cursors[2], Before: true})
		must(t, err)
		if fmt.Sprint(idsOf(back.Items)) != fmt.Sprint(pages[1]) {
			t.Fatalf("%s: previous of page 3 is %v, want %v", sort, idsOf(back.Items), pages[1])
		}
	}
	_, err := s.FindCustomers(ctx, crm.CustomerQuery{Sort: "shoe-size"})
	wantCode(t, err, crm.CodeInvalid)
	_, err = s.FindCustomers(ctx, crm.CustomerQuery{Cursor: "garbage!"})
	wantCode(t, err, crm.CodeInvalid)
}

func idsOf(cs []crm.Customer) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func testTx(t *testing.T, s crm.Store) {
	boom := errors.New("boom")
	err := s.InTx(ctx, func(tx crm.Store) error {
		if _, err := tx.CreateCustomer(ctx, crm.NewCustomer{FullName: "Ghost", CreatedAt: t0}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx returned %v", err)
	}
	pg, _ := s.FindCustomers(ctx, crm.CustomerQuery{Filter: crm.CustomerFilter{Archived: crm.ArchivedAll}})
	if pg.Total != 0 {
		t.Fatalf("rolled-back customer exists (%d)", pg.Total)
	}
	must(t, s.InTx(ctx, func(tx crm.Store) error {
		_, err := tx.CreateCustomer(ctx, crm.NewCustomer{FullName: "Real", CreatedAt: t0})
		return err
	}))
	pg, _ = s.FindCustomers(ctx, crm.CustomerQuery{})
	if pg.Total != 1 {
		t.Fatalf("committed customers %d", pg.Total)
	}
}
