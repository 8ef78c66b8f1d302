package importer

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

// exportCatalog has the custom fields the demo data has: a job title and a
// homepage.
func exportCatalog() *Catalog {
	return &Catalog{Products: map[string]crm.Product{}, Segments: map[int64]crm.Segment{}, Users: map[string]crm.User{},
		Fields: map[string]crm.CustomField{
			"job_title": {Key: "job_title", Label: "Job title", Type: crm.FieldText},
			"homepage":  {Key: "homepage", Label: "Homepage", Type: crm.FieldURL},
		}}
}

// contactList shows a row's contacts as "channel value*" (* = primary).
func contactList(r *Row) string {
	var out []string
	for _, k := range r.Contacts() {
		s := string(k.Channel) + " " + k.Value
		if k.Primary {
			s += "*"
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

// The header rows real tools export, mapped automatically and each first
// row read: every e-mail, phone and web address column is a contact (the
// first non-empty one of a channel primary), a nickname never becomes the
// name, job titles and homepages go to the custom fields that hold them,
// Google's labels become tags without its system labels, and owner columns
// of names (HubSpot, Salesforce) are not taken for owner e-mails.
func TestExportShapes(t *testing.T) {
	cases := []struct {
		file     string
		mapped   map[string]string
		name     string
		contacts string
		tags     string
		custom   map[string]string
		country  string
	}{
		{"google_contacts_new.csv", map[string]string{"First Name": "first_name", "Last Name": "last_name", "Nickname": "",
			"Organization Name": "company_name", "Organization Title": "custom:job_title", "Labels": "tags",
			"E-mail 1 - Label": "", "E-mail 1 - Value": "email", "E-mail 2 - Value": "email", "Phone 1 - Label": "",
			"Phone 1 - Value": "phone", "Phone 2 - Value": "phone", "Address 1 - Country": "country",
			"Website 1 - Label": "", "Website 1 - Value": "custom:homepage", "File As": "", "Notes": ""},
			"Anna Berg", "email anna@acme.example*, phone +4915112345678*, email anna.berg@mail.example, phone +49301234567", "Clients",
			map[string]string{"job_title": `"Head of Sales"`, "homepage": `"https://acme.example/anna"`}, "DE"},
		{"google_contacts_old.csv", map[string]string{"Name": "full_name", "Given Name": "first_name", "Family Name": "last_name",
			"Nickname": "", "Short Name": "", "Occupation": "", "Group Membership": "tags", "E-mail 1 - Type": "",
			"E-mail 1 - Value": "email", "E-mail 2 - Value": "email", "Phone 1 - Value": "phone", "Phone 2 - Value": "phone",
			"Organization 1 - Name": "company_name", "Organization 1 - Title": "custom:job_title", "Website 1 - Value": "custom:homepage",
			"Language": "language", "Address 1 - Country": "country"},
			"Carla Núñez", "email carla@nunez.example*, phone +34612345678*, email carla.n@mail.example", "Partners",
			map[string]string{"job_title": `"Founder"`, "homepage": `"https://nunez.example"`}, ""},
		{"outlook.csv", map[string]string{"Title": "", "Nickname": "", "Job Title": "custom:job_title", "E-mail Address": "email",
			"E-mail 2 Address": "email", "E-mail 3 Address": "email", "Home Phone": "phone", "Business Phone": "phone",
			"Mobile Phone": "phone", "Primary Phone": "phone", "Business Fax": "", "Pager": "", "Assistant's Phone": "",
			"Company Main Telephone": "", "Company": "company_name", "Business Country/Region": "country",
			"Home Country/Region": "", "Web Page": "custom:homepage", "Personal Web Page": "website", "Notes": ""},
			"Chloé Martin", "email chloe@martin.example*, phone +33123456789*, email c.martin@mail.example, phone +33612345678", "",
			map[string]string{"job_title": `"Buyer"`, "homepage": `"https://martin.example"`}, "FR"},
		{"hubspot.csv", map[string]string{"Record ID": "", "First Name": "first_name", "Last Name": "last_name", "Email": "email",
			"Phone Number": "phone", "Mobile Phone Number": "phone", "Company Name": "company_name", "Job Title": "custom:job_title",
			"Contact owner": "", "Lifecycle Stage": "", "Website URL": "custom:homepage", "Country/Region": "country", "Industry": ""},
			"Dana Kowalski", "email dana@kowalski.example*, phone +48221234567*, phone +48601234567", "",
			map[string]string{"job_title": `"CTO"`, "homepage": `"https://kowalski.example"`}, "PL"},
		{"salesforce.csv", map[string]string{"Contact ID": "", "Salutation": "", "Title": "custom:job_title", "Account Name": "company_name",
			"Email": "email", "Phone": "phone", "Mobile": "phone", "Fax": "", "Mailing Country": "country", "Contact Owner": "",
			"Email Opt Out": "", "Lead Source": ""},
			"Evan Price", "email evan@price.example*, phone +14155550100*, phone +14155550199", "",
			map[string]string{"job_title": `"VP Operations"`}, "US"},
		{"apple_vcard.csv", map[string]string{"First name": "first_name", "Last name": "last_name", "Nickname": "", "Company": "company_name",
			"Job title": "custom:job_title", "Email (home)": "email", "Email (work)": "email", "Email (other)": "email",
			"Phone (mobile)": "phone", "Phone (iPhone)": "phone", "Phone (home)": "phone", "Phone (work)": "phone", "Phone (main)": "phone",
			"URL (homepage)": "custom:homepage", "URL (work)": "website", "Note": "", "Address (home)": ""},
			"Fatima Zahra", "email fatima@home.example*, phone +971501234567*, website https://zahra.example/work*, email fatima@zahra.example, phone +97142345678", "",
			map[string]string{"job_title": `"Designer"`, "homepage": `"https://zahra.example"`}, ""},
		{"apple_vcard_fields.csv", map[string]string{"Full Name": "full_name", "Given Name": "first_name", "Family Name": "last_name",
			"Nickname": "", "Organization": "company_name", "Title": "custom:job_title", "Email 1": "email", "Email 2": "email",
			"Email 3": "email", "Phone 1": "phone", "Phone 2": "phone", "URL 1": "website", "URL 2": "website", "Note": ""},
			"Gustav Lind", "email gustav@lind.example*, phone +46812345678*, website https://lind.example*, email gus@mail.example, phone +46701234567", "",
			map[string]string{"job_title": `"Engineer"`}, ""},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			path := filepath.Join("testdata", "exports", c.file)
			f, err := Sniff(path)
			if err != nil {
				t.Fatal(err)
			}
			samples, err := Samples(path, f, 2)
			if err != nil {
				t.Fatal(err)
			}
			cat := exportCatalog()
			m := AutoMap(f.Columns, samples, cat)
			for col, want := range c.mapped {
				if got, ok := m[col]; !ok || got != want {
					t.Errorf("column %q mapped to %q, want %q", col, got, want)
				}
			}
			if err := CheckMapping(f.Columns, m, cat); err != nil {
				t.Fatalf("the automatic mapping is refused: %v", err)
			}
			ck := &checker{cat: cat, plan: newPlan(f.Columns, m)}
			rows, _ := readAll(t, path, f)
			r := ck.check(1, rows[0])
			if len(r.Errors) > 0 {
				t.Fatalf("first row fails: %v", r.Errors)
			}
			if r.FullName != c.name || contactList(r) != c.contacts || strings.Join(r.Tags, "|") != c.tags || r.Country != c.country {
				t.Errorf("first row: name %q contacts %q tags %q country %q\nwant %q %q %q %q", r.FullName, contactList(r),
					strings.Join(r.Tags, "|"), r.Country, c.name, c.contacts, c.tags, c.country)
			}
			if fmt.Sprint(r.Custom) != fmt.Sprint(c.custom) {
				t.Errorf("custom %v, want %v", r.Custom, c.custom)
			}
			// without those custom fields: no job title target, web sites are contacts
			m = AutoMap(f.Columns, samples, nil)
			for col, want := range c.mapped {
				if want == "custom:homepage" {
					want = "website"
				} else if strings.HasPrefix(want, "custom:") {
					want = ""
				}
				if m[col] != want {
					t.Errorf("without custom fields: column %q mapped to %q, want %q", col, m[col], want)
				}
			}
		})
	}
}

// Google's second row: E-mail 1 is empty, so E-mail 2 is the primary; its
// labels are system labels only.
func TestGoogleSecondRowAndLabels(t *testing.T) {
	path := filepath.Join("testdata", "exports", "google_contacts_new.csv")
	f, err := Sniff(path)
	if err != nil {
		t.Fatal(err)
	}
	cat := exportCatalog()
	ck := &checker{cat: cat, plan: newPlan(f.Columns, AutoMap(f.Columns, nil, cat))}
	rows, _ := readAll(t, path, f)
	r := ck.check(2, rows[1])
	if len(r.Errors) > 0 || r.Email != "ben@okafor.example" || len(r.Tags) != 0 || contactList(r) != "email ben@okafor.example*, phone +442079460958*" {
		t.Fatalf("row 2: %+v (%s)", r, contactList(r))
	}
	for in, want := range map[string]string{"* myContacts ::: Clients": "Clients", "* starred ::: * myContacts": "",
		"VIP ::: Clients;Leads": "VIP|Clients|Leads", "a,b": "a|b", "* friends ::: Golf club": "Golf club"} {
		if got := strings.Join(splitTags(in), "|"); got != want {
			t.Errorf("%q: tags %q, want %q", in, got, want)
		}
	}
	// an invalid second e-mail names its column and fails the row
	plan := newPlan([]string{"E-mail 1 - Value", "E-mail 2 - Value"}, map[string]string{"E-mail 1 - Value": "email", "E-mail 2 - Value": "email"})
	r = (&checker{cat: cat, plan: plan}).check(1, []string{"a@example.com", "not-an-address"})
	if len(r.Errors) != 1 || !strings.Contains(r.Errors[0], "E-mail 2 - Value") {
		t.Fatalf("errors %v", r.Errors)
	}
	if !slices.Contains(Targets, "website") {
		t.Fatal("no website target")
	}
}

// A Google Contacts file imported for real, on both engines (COPY on
// PostgreSQL): every e-mail and phone becomes a contact, the first of each
// channel primary, the labels tags; imported again in upsert mode, a new
// second address is added to the customer, who keeps the primary.
func TestRunGoogleContactsMultiContact(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		s := New(db, t.TempDir(), nil)
		s.BatchRows, s.TxRows = 1, 2
		u := admin(t, db)
		for _, f := range []crm.CustomField{{Key: "job_title", Label: "Job title", Type: crm.FieldText},
			{Key: "homepage", Label: "Homepage", Type: crm.FieldURL}} {
			f.CreatedAt = time.Now()
			if err := db.CreateCustomField(t.Context(), &f); err != nil {
				t.Fatal(err)
			}
		}
		run := func(path, mode string) *crm.ImportJob {
			j, _, err := s.Register(t.Context(), u, filepath.Base(path), path, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.SetMapping(t.Context(), u, j.ID, nil, mode); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Submit(t.Context(), u, j.ID); err != nil {
				t.Fatal(err)
			}
			if err := s.Run(t.Context(), j.ID, nil); err != nil {
				t.Fatal(err)
			}
			j, _ = db.GetImport(t.Context(), j.ID)
			return j
		}
		j := run(filepath.Join("testdata", "exports", "google_contacts_new.csv"), ModeCreate)
		if j.Status != crm.ImportDone || j.Created != 2 || j.Failed != 0 {
			t.Fatalf("import %+v", j)
		}
		contacts := func(email string) (*crm.Customer, string) {
			m, err := db.ImportMatches(t.Context(), []string{email})
			if err != nil || m[email] == 0 {
				t.Fatalf("no customer has %s: %v", email, err)
			}
			c, err := db.GetCustomer(t.Context(), m[email])
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, k := range c.Contacts {
				s := string(k.Channel) + " " + k.Value
				if k.Primary {
					s += "*"
				}
				out = append(out, s)
			}
			slices.Sort(out)
			return c, strings.Join(out, ", ")
		}
		c, got := contacts("anna@acme.example")
		if got != "email anna.berg@mail.example, email anna@acme.example*, phone +4915112345678*, phone +49301234567" ||
			c.PrimaryEmail != "anna@acme.example" || c.PrimaryPhone != "+4915112345678" || fmt.Sprint(c.Tags) != "[Clients]" ||
			c.FullName != "Anna Berg" || fmt.Sprint(c.Custom["job_title"]) != "Head of Sales" {
			t.Fatalf("Anna: %s; %+v", got, c)
		}
		if _, got := contacts("ben@okafor.example"); got != "email ben@okafor.example*, phone +442079460958*" {
			t.Fatalf("Ben: %s", got)
		}
		more := filepath.Join(t.TempDir(), "more.csv")
		if err := os.WriteFile(more, []byte("E-mail 1 - Value,E-mail 2 - Value,Phone 1 - Value\nanna@acme.example,anna@home.example,+49 30 1234567\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if j := run(more, ModeUpsert); j.Updated != 1 || j.Failed != 0 {
			t.Fatalf("upsert %+v", j)
		}
		if c, got := contacts("anna@acme.example"); !strings.Contains(got, "email anna@home.example,") || c.PrimaryEmail != "anna@acme.example" ||
			strings.Count(got, "+49301234567") != 1 {
			t.Fatalf("after the upsert: %s", got)
		}
	})
}
