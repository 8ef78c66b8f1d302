package exporter_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/exporter"
	"github.com/acme/crm/internal/seed"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/testdb"
)

func TestExportHoldsExactlyTheFilter(t *testing.T) {
	defer exporter.SetChunk(97)() // many chunks, read out of order and written in order
	testdb.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := seed.Run(ctx, db, seed.Options{Customers: 2500, Seed: 3, Now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
			HashPassword: func(p string) (string, error) { return "x:" + p, nil }}); err != nil {
			t.Fatal(err)
		}
		admin, _ := db.GetUserByEmail(ctx, seed.DemoAdminEmail)
		svc := customers.New(db)
		formula, err := svc.Create(ctx, admin, customers.NewCustomer{FullName: "=HYPERLINK(\"http://evil\")", Country: "DE",
			Contact: &customers.ContactInput{Channel: crm.ChannelEmail, Value: "formula@example.com"}, Tags: []string{"+1 tag"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, filter := range []string{"country=DE", "owner=none&has_inbound=false", "archived=all&tag=VIP", ""} {
			v, _ := url.ParseQuery(filter)
			q, err := svc.ParseQuery(ctx, admin, v)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			n, err := exporter.Write(ctx, db, q, &buf, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(buf.Bytes(), []byte("\ufeff")) {
				t.Fatal("no UTF-8 BOM")
			}
			records, err := csv.NewReader(bytes.NewReader(buf.Bytes()[3:])).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			products, _ := db.ListProducts(ctx)
			fields, _ := db.ListCustomFields(ctx, true)
			if !slices.Equal(records[0], exporter.Header(products, fields)) || !slices.Equal(records[0][:8], exporter.ImportColumns) {
				t.Fatalf("header %v", records[0])
			}
			// the same filter through the list, page by page
			listed := map[int64]crm.Customer{}
			var want []int64
			q.Limit = 500
			for {
				page, err := db.FindCustomers(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range page.Items {
					want = append(want, c.ID)
					listed[c.ID] = c
				}
				if page.NextCursor == "" {
					break
				}
				q.Cursor = page.NextCursor
			}
			slices.Sort(want) // an export is in the order customers were added
			var got []int64
			checked, rich := 0, 0 // rich: with a phone and a suppressed contact
			for _, r := range records[1:] {
				id, _ := strconv.ParseInt(r[8], 10, 64)
				got = append(got, id)
				if id == formula.ID && (r[9] != "'=HYPERLINK(\"http://evil\")" || r[5] != "'+1 tag") {
					t.Fatalf("formula not neutralised: %q %q", r[9], r[5])
				}
				// each row says what the list says of its customer
				c := listed[id]
				company, owner := "", ""
				if c.Company != nil {
					company = c.Company.Name
				}
				if c.Owner != nil {
					owner = c.Owner.Email
				}
				segs := make([]string, len(c.Segments))
				for i, sg := range c.Segments {
					segs[i] = strconv.FormatInt(sg, 10)
				}
				wantRow := []string{c.FirstName, c.LastName, c.PrimaryEmail, company, strings.Join(c.Tags, ";"), strings.Join(segs, ";"), owner,
					c.Country, c.CreatedAt.Format(time.RFC3339)}
				gotRow := []string{r[0], r[1], r[2], r[4], r[5], r[6], r[7], r[15], r[len(r)-3]}
				if id != formula.ID && !slices.Equal(gotRow, wantRow) {
					t.Fatalf("customer %d: exported %q, listed %q", id, gotRow, wantRow)
				}
				if id%7 == 0 { // and the contacts, scores and custom values of its drawer
					full, err := db.GetCustomer(ctx, id)
					if err != nil {
						t.Fatal(err)
					}
					var phones, emails, others, suppressed []string
					for _, k := range full.Contacts {
						if k.Suppression != nil {
							suppressed = append(suppressed, fmt.Sprintf("%s:%s (%s)", k.Channel, k.Value, k.Suppression.Reason))
						}
						switch {
						case k.Channel == crm.ChannelEmail && !k.Primary:
							emails = append(emails, k.Value)
						case k.Channel == crm.ChannelPhone:
							phones = append(phones, k.Value)
						case k.Channel != crm.ChannelEmail && k.Channel != crm.ChannelLinkedIn:
							others = append(others, string(k.Channel)+":"+k.Value)
						}
					}
					wantCells := []string{neutral(strings.Join(phones, ";")), neutral(strings.Join(emails, ";")), neutral(strings.Join(others, ";")), neutral(strings.Join(suppressed, ";"))}
					for _, p := range products {
						if v, ok := full.Scores[p.Key]; ok {
							wantCells = append(wantCells, fmt.Sprintf("%s=%d", p.Key, v))
						} else {
							wantCells = append(wantCells, p.Key+"=")
						}
					}
					gotCells := []string{r[10], r[11], r[12], r[13]}
					for i, p := range products {
						gotCells = append(gotCells, p.Key+"="+r[17+i])
					}
					for i, f := range fields {
						gotCells = append(gotCells, f.Key+"="+r[17+len(products)+i])
						wantCells = append(wantCells, f.Key+"="+neutral(customCell(full.Custom[f.Key])))
					}
					if !slices.Equal(gotCells, wantCells) {
						t.Fatalf("customer %d: exported %q, the drawer has %q", id, gotCells, wantCells)
					}
					checked++
					if len(suppressed) > 0 && len(phones) > 0 {
						rich++
					}
				}
			}
			if checked == 0 || (filter == "" && rich == 0) {
				t.Fatalf("%q: compared the contacts of %d customers, %d with a phone and a suppressed contact", filter, checked, rich)
			}
			if n != len(records)-1 || !slices.Equal(got, want) || len(want) == 0 {
				t.Fatalf("%q: exported %d rows (%d counted), the list has %d", filter, len(got), n, len(want))
			}
			if strings.Contains(filter, "country=DE") {
				for _, r := range records[1:] {
					if r[15] != "DE" {
						t.Fatalf("a customer from %q in a DE export", r[15])
					}
				}
			}
		}
	})
}

// customCell is how a custom value reads in a cell: lists sorted and joined with ";".
func customCell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(e)
		}
		slices.Sort(parts)
		return strings.Join(parts, ";")
	}
	return fmt.Sprint(v)
}

// neutral is a cell as a spreadsheet may not run it as a formula.
func neutral(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
