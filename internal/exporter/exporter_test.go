package exporter_test

import (
	"bytes"
	"context"
	"encoding/csv"
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
			var got []int64
			for _, r := range records[1:] {
				id, _ := strconv.ParseInt(r[8], 10, 64)
				got = append(got, id)
				if id == formula.ID && (r[9] != "'=HYPERLINK(\"http://evil\")" || r[5] != "'+1 tag") {
					t.Fatalf("formula not neutralised: %q %q", r[9], r[5])
				}
			}
			// the same filter through the list, page by page
			var want []int64
			q.Limit = 500
			for {
				page, err := db.FindCustomers(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range page.Items {
					want = append(want, c.ID)
				}
				if page.NextCursor == "" {
					break
				}
				q.Cursor = page.NextCursor
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
