package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
)

// The store side of a CSV import: claiming and saving progress, looking up
// e-mails, finding or creating companies, inserting new customers in bulk
// (found by search like any other), and the error report.

func testImportRunner(t *testing.T, s crm.Store) {
	u := newUser(t, s, "runner@example.com", crm.RoleMember)
	j := &crm.ImportJob{UserID: u.ID, Filename: "a.csv", Path: "/tmp/a", Status: crm.ImportUploaded, Mode: "create", CreatedAt: t0}
	must(t, s.CreateImport(ctx, j))
	// only a queued (or running: interrupted) import can be claimed
	_, err := s.ClaimImport(ctx, j.ID, "r1", t0)
	wantCode(t, err, crm.CodeConflict)
	stale := *j // the same import as read by a second tab
	j.Status = crm.ImportQueued
	must(t, s.UpdateImport(ctx, j))
	// once submitted it is written no more as if it were not: the second
	// tab's submit or mapping is refused, and the import stays queued
	stale.Mapping = map[string]string{"Email": "email"}
	wantCode(t, s.UpdateImport(ctx, &stale), crm.CodeConflict)
	stale.Status = crm.ImportQueued
	wantCode(t, s.UpdateImport(ctx, &stale), crm.CodeConflict)
	if cur, _ := s.GetImport(ctx, j.ID); cur.Status != crm.ImportQueued || len(cur.Mapping) != 0 {
		t.Fatalf("after the stale writes: %+v", cur)
	}
	missing := stale
	missing.ID += 1000
	wantCode(t, s.UpdateImport(ctx, &missing), crm.CodeNotFound)
	got, err := s.ClaimImport(ctx, j.ID, "r1", t0.Add(time.Second))
	must(t, err)
	if got.Status != crm.ImportRunning || got.ID != j.ID {
		t.Fatalf("claimed %+v", got)
	}
	got.Processed, got.Created, got.Failed, got.Offset, got.UpdatedAt = 10, 9, 1, 512, t0.Add(2*time.Second)
	must(t, s.SaveImportProgress(ctx, got, "r1"))
	// a second runner takes it over (its first process died); the first may no longer write
	again, err := s.ClaimImport(ctx, j.ID, "r2", t0.Add(time.Minute))
	must(t, err)
	if again.Processed != 10 || again.Created != 9 || again.Failed != 1 || again.Offset != 512 {
		t.Fatalf("progress not kept: %+v", again)
	}
	wantCode(t, s.SaveImportProgress(ctx, got, "r1"), crm.CodeConflict)
	// a progress saved in a transaction that rolls back is not saved
	boom := errors.New("boom")
	err = s.InTx(ctx, func(tx crm.Store) error {
		p := *again
		p.Processed, p.Offset = 20, 1024
		must(t, tx.SaveImportProgress(ctx, &p, "r2"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	cur, _ := s.GetImport(ctx, j.ID)
	if cur.Processed != 10 || cur.Offset != 512 {
		t.Fatalf("rolled back progress kept: %+v", cur)
	}
	// canceled: the runner's next save is refused, a second cancel does nothing
	ok, err := s.CancelImport(ctx, j.ID, t0.Add(time.Hour))
	must(t, err)
	if !ok {
		t.Fatal("not canceled")
	}
	wantCode(t, s.SaveImportProgress(ctx, again, "r2"), crm.CodeConflict)
	ok, err = s.CancelImport(ctx, j.ID, t0.Add(2*time.Hour))
	must(t, err)
	cur, _ = s.GetImport(ctx, j.ID)
	if ok || cur.Status != crm.ImportCanceled || cur.EndedAt == nil || !cur.EndedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("second cancel %v, import %+v", ok, cur)
	}
	_, err = s.ClaimImport(ctx, j.ID, "r3", t0)
	wantCode(t, err, crm.CodeConflict)
	_, err = s.ClaimImport(ctx, 4242, "r3", t0)
	wantCode(t, err, crm.CodeNotFound)
}

func testImportErrors(t *testing.T, s crm.Store) {
	u := newUser(t, s, "errs@example.com", crm.RoleMember)
	j := &crm.ImportJob{UserID: u.ID, Filename: "a.csv", Path: "/tmp/a", Status: crm.ImportUploaded, Mode: "create", CreatedAt: t0}
	must(t, s.CreateImport(ctx, j))
	var errs []crm.ImportError
	for i := 1; i <= 1200; i++ {
		errs = append(errs, crm.ImportError{Row: int64(i * 2), Error: fmt.Sprintf("bad %d", i), Values: []string{"a,b", `q"uote`, "", "ünï"}})
	}
	must(t, s.AddImportErrors(ctx, j.ID, errs[:700]))
	// a row recorded again (a batch written twice) is kept once, as first recorded
	again := append([]crm.ImportError{{Row: 2, Error: "other", Values: []string{"x"}}}, errs[700:]...)
	must(t, s.AddImportErrors(ctx, j.ID, again))
	must(t, s.AddImportErrors(ctx, j.ID, nil))
	var all []crm.ImportError
	for after := int64(0); ; {
		page, err := s.ListImportErrors(ctx, j.ID, after, 500)
		must(t, err)
		all = append(all, page...)
		if len(page) < 500 {
			break
		}
		after = page[len(page)-1].Row
	}
	if len(all) != 1200 || all[0].Row != 2 || all[0].Error != "bad 1" || all[1199].Row != 2400 {
		t.Fatalf("%d errors, first %+v", len(all), all[0])
	}
	if v := all[0].Values; len(v) != 4 || v[0] != "a,b" || v[1] != `q"uote` || v[2] != "" || v[3] != "ünï" {
		t.Fatalf("values %q", v)
	}
	other := &crm.ImportJob{UserID: u.ID, Filename: "b.csv", Path: "/tmp/b", Status: crm.ImportUploaded, Mode: "create", CreatedAt: t0}
	must(t, s.CreateImport(ctx, other))
	if list, _ := s.ListImportErrors(ctx, other.ID, 0, 10); len(list) != 0 {
		t.Fatalf("another import's errors %+v", list)
	}
}

func testImportMatchesAndCompanies(t *testing.T, s crm.Store) {
	a := newCustomer(t, s, "A", t0)
	b := newCustomer(t, s, "B", t0)
	c := newCustomer(t, s, "C", t0)
	must(t, s.AddContact(ctx, &crm.Contact{CustomerID: a, Channel: crm.ChannelEmail, Value: "shared@example.com"}, t0))
	must(t, s.AddContact(ctx, &crm.Contact{CustomerID: b, Channel: crm.ChannelEmail, Value: "shared@example.com"}, t0))
	must(t, s.AddContact(ctx, &crm.Contact{CustomerID: b, Channel: crm.ChannelEmail, Value: "b@example.com"}, t0))
	must(t, s.AddContact(ctx, &crm.Contact{CustomerID: c, Channel: crm.ChannelEmail, Value: "gone@example.com"}, t0))
	must(t, s.AddContact(ctx, &crm.Contact{CustomerID: c, Channel: crm.ChannelPhone, Value: "+4930123456"}, t0))
	at := t0.Add(time.Hour)
	must(t, s.SetArchived(ctx, c, &at, nil, at))
	emails := []string{"shared@example.com", "b@example.com", "gone@example.com", "+4930123456", "nobody@example.com"}
	for i := range 1500 { // more than one statement's worth
		emails = append(emails, fmt.Sprintf("n%d@example.com", i))
	}
	m, err := s.ImportMatches(ctx, emails)
	must(t, err)
	// the lowest id when several hold it; archived customers and other channels do not match
	if len(m) != 2 || m["shared@example.com"] != a || m["b@example.com"] != b {
		t.Fatalf("matches %v", m)
	}
	if m, err := s.ImportMatches(ctx, nil); err != nil || len(m) != 0 {
		t.Fatalf("no e-mails: %v %v", m, err)
	}

	co := &crm.Company{Name: "Globex", CreatedAt: t0}
	must(t, s.CreateCompany(ctx, co))
	names := []string{"GLOBEX", "Initech", " initech ", "Umbrella", ""}
	for i := range 1200 {
		names = append(names, fmt.Sprintf("Company %d", i))
	}
	ids, err := s.EnsureCompanies(ctx, names, t0)
	must(t, err)
	if len(ids) != 1203 || ids[crm.NameKey("Globex")] != co.ID || ids[crm.NameKey("Initech")] == 0 || ids[crm.NameKey("Company 1199")] == 0 {
		t.Fatalf("%d ids, globex %d (want %d)", len(ids), ids[crm.NameKey("Globex")], co.ID)
	}
	again, err := s.EnsureCompanies(ctx, []string{"initech", "company 7"}, t0)
	must(t, err)
	if again[crm.NameKey("Initech")] != ids[crm.NameKey("Initech")] || again[crm.NameKey("Company 7")] != ids[crm.NameKey("Company 7")] {
		t.Fatalf("not found again: %v", again)
	}
	list, err := s.ListCompanies(ctx, "", 1000)
	must(t, err)
	more, err := s.ListCompanies(ctx, "u", 1000)
	must(t, err)
	if len(list) != 1000 || len(more) != 1 || more[0].Name != "Umbrella" {
		t.Fatalf("%d companies, %+v", len(list), more)
	}
	ini, err := s.FindCompanyByName(ctx, "INITECH")
	must(t, err)
	if ini.ID != ids[crm.NameKey("Initech")] || ini.Name != "Initech" {
		t.Fatalf("created as %+v, not as first written", ini)
	}
}

func testInsertImported(t *testing.T, s crm.Store) {
	u := newUser(t, s, "importer@example.com", crm.RoleAdmin)
	before := newCustomer(t, s, "Made By Hand", t0)
	co := &crm.Company{Name: "Initech", CreatedAt: t0}
	must(t, s.CreateCompany(ctx, co))
	tags, err := s.EnsureTags(ctx, []string{"lead", "vip"}, t0)
	must(t, err)
	seg := &crm.Segment{Name: "Fair 2026", CreatedAt: t0}
	must(t, s.CreateSegment(ctx, seg))
	p := &crm.Product{Key: "crm", Name: "CRM"}
	must(t, s.CreateProduct(ctx, p))
	f := &crm.CustomField{Key: "plan", Label: "Plan", Type: crm.FieldText, CreatedAt: t0}
	must(t, s.CreateCustomField(ctx, f))

	const n = 1234 // several statements' worth on every table
	rows := make([]crm.ImportedCustomer, n)
	for i := range rows {
		r := crm.ImportedCustomer{Customer: crm.NewCustomer{FullName: fmt.Sprintf("Zoë Müller %d", i), FirstName: "Zoë",
			LastName: fmt.Sprintf("Müller %d", i), Language: "de", Country: "DE", Timezone: "Europe/Berlin", CreatedAt: t0},
			ActorID: &u.ID, Activity: `{"source":"import","import_id":7}`}
		r.Contacts = []crm.Contact{{Channel: crm.ChannelEmail, Value: fmt.Sprintf("zoe%d@example.com", i)}}
		if i%2 == 0 {
			r.Customer.CompanyID, r.CompanyName = &co.ID, co.Name
			r.Customer.OwnerID = &u.ID
			r.Contacts = append(r.Contacts, crm.Contact{Channel: crm.ChannelPhone, Value: "+4930123456"},
				crm.Contact{Channel: crm.ChannelEmail, Value: fmt.Sprintf("zoe%d@example.com", i)}, // given twice: kept once
				crm.Contact{Channel: crm.ChannelEmail, Value: fmt.Sprintf("other%d@example.com", i)})
			r.TagIDs = []int64{tags[0].ID, tags[1].ID, tags[0].ID}
			r.SegmentID = &seg.ID
			r.Scores = map[int64]int{p.ID: i % 101}
			r.Custom = map[int64]string{f.ID: `"pro"`}
		}
		rows[i] = r
	}
	must(t, s.InTx(ctx, func(tx crm.Store) error { return tx.InsertImported(ctx, rows, t0.Add(time.Minute)) }))
	seen := map[int64]bool{before: true}
	for i, r := range rows {
		if r.ID == 0 || seen[r.ID] {
			t.Fatalf("row %d got id %d", i, r.ID)
		}
		seen[r.ID] = true
	}
	even, err := s.GetCustomer(ctx, rows[10].ID)
	must(t, err)
	if even.FullName != "Zoë Müller 10" || even.PrimaryEmail != "zoe10@example.com" || even.PrimaryPhone != "+4930123456" ||
		even.Company == nil || even.Company.ID != co.ID || even.Owner == nil || even.Owner.ID != u.ID || even.Country != "DE" ||
		len(even.Tags) != 2 || len(even.Segments) != 1 || even.Scores["crm"] != 10 || even.Custom["plan"] != "pro" ||
		!even.CreatedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("imported customer %+v", even)
	}
	if len(even.Contacts) != 3 {
		t.Fatalf("contacts %+v", even.Contacts)
	}
	for _, k := range even.Contacts {
		if k.Primary != (k.Value == "zoe10@example.com" || k.Value == "+4930123456") {
			t.Fatalf("primary flags %+v", even.Contacts)
		}
	}
	odd, _ := s.GetCustomer(ctx, rows[11].ID)
	if odd.Company != nil || odd.Owner != nil || len(odd.Tags) != 0 || len(odd.Contacts) != 1 || odd.PrimaryEmail != "zoe11@example.com" {
		t.Fatalf("imported customer %+v", odd)
	}
	acts, err := s.ListActivity(ctx, rows[10].ID, 0, 10)
	must(t, err)
	var data map[string]any
	if len(acts) != 1 || acts[0].Kind != crm.ActCreated || acts[0].Actor == nil || acts[0].Actor.ID != u.ID ||
		json.Unmarshal(acts[0].Data, &data) != nil || data["source"] != "import" {
		t.Fatalf("activity %+v", acts)
	}
	// search finds imported customers as it finds those made by hand
	find := func(q string) int {
		page, err := s.FindCustomers(ctx, crm.CustomerQuery{Filter: crm.CustomerFilter{Q: q}, Limit: 500})
		must(t, err)
		return page.Total
	}
	if got := find("zoe1233@example.com"); got != 1 {
		t.Fatalf("search by e-mail: %d", got)
	}
	if got := find("müller 1233"); got != 1 {
		t.Fatalf("search by name: %d", got)
	}
	if got := find("initech"); got != n/2 {
		t.Fatalf("search by company: %d, want %d", got, n/2)
	}
	if got := find("made hand"); got != 1 {
		t.Fatalf("search for the customer made by hand: %d", got)
	}
	// matched by e-mail like any customer
	m, err := s.ImportMatches(ctx, []string{"zoe5@example.com", "other4@example.com"})
	must(t, err)
	if m["zoe5@example.com"] != rows[5].ID || m["other4@example.com"] != rows[4].ID {
		t.Fatalf("matches %v", m)
	}
	// a failing insert leaves nothing behind
	bad := []crm.ImportedCustomer{{Customer: crm.NewCustomer{FullName: "Ghost", CreatedAt: t0}, TagIDs: []int64{424242}}}
	if err := s.InTx(ctx, func(tx crm.Store) error { return tx.InsertImported(ctx, bad, t0) }); err == nil {
		t.Fatal("a tag that does not exist was accepted")
	}
	if got := find("ghost"); got != 0 {
		t.Fatalf("rolled back customer found: %d", got)
	}
	page, err := s.FindCustomers(ctx, crm.CustomerQuery{Limit: 1})
	must(t, err)
	if page.Total != n+1 {
		t.Fatalf("%d customers", page.Total)
	}
}
