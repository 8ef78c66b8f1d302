package exporter_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/exporter"
	"github.com/acme/crm/internal/importer"
	"github.com/acme/crm/internal/seed"
	"github.com/acme/crm/internal/testdb"
)

// TestExportReadsBackThroughTheImporter: an export of a filter, imported into
// a database with the same team and segments, gives the same customers.
func TestExportReadsBackThroughTheImporter(t *testing.T) {
	for _, engine := range testdb.Engines() {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
			hash := func(p string) (string, error) { return "x:" + p, nil }
			src, dst := testdb.Open(t, engine), testdb.Open(t, engine)
			if _, err := seed.Run(ctx, src, seed.Options{Customers: 400, Seed: 5, Now: now, HashPassword: hash}); err != nil {
				t.Fatal(err)
			}
			if _, err := seed.Run(ctx, dst, seed.Options{Customers: 0, Seed: 5, Now: now, HashPassword: hash}); err != nil {
				t.Fatal(err) // the same users, products, tags and segments, no customers
			}
			admin, _ := src.GetUserByEmail(ctx, seed.DemoAdminEmail)
			q, err := customers.New(src).ParseQuery(ctx, admin, url.Values{"has_inbound": {"false"}})
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "export.csv")
			f, _ := os.Create(path)
			n, err := exporter.Write(ctx, src, q, f, nil)
			f.Close()
			if err != nil || n < 100 {
				t.Fatalf("exported %d: %v", n, err)
			}

			imp := importer.New(dst, t.TempDir(), nil)
			dadmin, _ := dst.GetUserByEmail(ctx, seed.DemoAdminEmail)
			j, _, err := imp.Register(ctx, dadmin, "export.csv", path, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := imp.SetMapping(ctx, dadmin, j.ID, nil, importer.ModeCreate); err != nil { // the automatic mapping
				t.Fatal(err)
			}
			if _, err := imp.Submit(ctx, dadmin, j.ID); err != nil {
				t.Fatal(err)
			}
			if err := imp.Run(ctx, j.ID, nil); err != nil {
				t.Fatal(err)
			}
			j, _ = dst.GetImport(ctx, j.ID)
			if j.Status != crm.ImportDone || j.Processed != int64(n) || j.Created+j.Updated+j.Skipped+j.Failed != int64(n) {
				t.Fatalf("import %+v of %d rows", j, n)
			}

			// The only failed rows are customers owned by a deactivated user: an
			// import's owner_email must name an active user (SPEC section 7).
			errs, _ := dst.ListImportErrors(ctx, j.ID, 0, 1000)
			for _, e := range errs {
				if !strings.Contains(e.Error, "is deactivated") {
					t.Errorf("row %d failed: %s", e.Row, e.Error)
				}
			}
			// Every other exported customer with an e-mail of its own comes back with the same fields.
			q.Limit = 500
			page, _ := src.FindCustomers(ctx, q)
			uses := map[string]int{}
			for _, c := range page.Items {
				uses[c.PrimaryEmail]++
			}
			checked, ownedByInactive := 0, 0
			for _, c := range page.Items {
				if c.Owner != nil {
					if u, _ := src.GetUser(ctx, c.Owner.ID); !u.Active {
						ownedByInactive++
						continue
					}
				}
				if c.PrimaryEmail == "" || uses[c.PrimaryEmail] > 1 { // a shared address: the later row is a duplicate in the file
					continue
				}
				ks, _ := dst.FindContactsByValue(ctx, crm.ChannelEmail, c.PrimaryEmail)
				if len(ks) == 0 {
					t.Errorf("%s (%s) did not come back", c.FullName, c.PrimaryEmail)
					continue
				}
				d, _ := dst.GetCustomer(ctx, ks[0].CustomerID)
				same := d.FirstName == c.FirstName && d.LastName == c.LastName &&
					strings.EqualFold(name(d.Company), name(c.Company)) && owner(d) == owner(&c) &&
					slices.Equal(d.Tags, c.Tags) && slices.Equal(d.Segments, c.Segments)
				if !same {
					t.Errorf("round trip changed %s:\n  was %q %q %q %q %v %v\n  now %q %q %q %q %v %v", c.PrimaryEmail,
						c.FirstName, c.LastName, name(c.Company), owner(&c), c.Tags, c.Segments,
						d.FirstName, d.LastName, name(d.Company), owner(d), d.Tags, d.Segments)
				}
				checked++
			}
			if checked < 50 || len(errs) != ownedByInactive {
				t.Fatalf("%d customers compared; %d rows failed for %d customers of deactivated users", checked, len(errs), ownedByInactive)
			}
		})
	}
}

func name(c *crm.CompanyRef) string {
	if c == nil {
		return ""
	}
	return c.Name
}

func owner(c *crm.Customer) string {
	if c.Owner == nil {
		return ""
	}
	return c.Owner.Email
}
