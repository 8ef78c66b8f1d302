package exporter

import (
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/acme/crm/internal/crm"
)

// CompanyHeader are the columns of the companies export.
var CompanyHeader = []string{"id", "name", "domain", "country", "customers_active", "owners", "created_at"}

// companyPage is how many companies one round of queries reads.
var companyPage = 500

// WriteCompanies streams the companies of q's filter, in q's order, to w as
// CSV (UTF-8 with a BOM), walking keyset pages so memory stays constant;
// owners are the distinct owners of each company's active customers, every
// one of them, joined with ";".
func WriteCompanies(ctx context.Context, st crm.Store, q crm.CompanyQuery, w io.Writer) (int, error) {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return 0, err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(CompanyHeader); err != nil {
		return 0, err
	}
	q.Cursor, q.Limit, q.NoTotal = "", companyPage, true
	n := 0
	for {
		page, err := st.FindCompanies(ctx, q)
		if err != nil {
			return n, err
		}
		ids := make([]int64, len(page.Items))
		for i, c := range page.Items {
			ids[i] = c.ID
		}
		owners, err := st.CompanyOwners(ctx, ids, 1000)
		if err != nil {
			return n, err
		}
		for _, c := range page.Items {
			var names []string
			for _, u := range owners[c.ID].First {
				names = append(names, u.Name)
			}
			if err := cw.Write([]string{strconv.FormatInt(c.ID, 10), crm.SafeCell(c.Name), crm.SafeCell(c.Domain), c.Country,
				strconv.Itoa(c.CustomersActive), crm.SafeCell(strings.Join(names, ";")), c.CreatedAt.UTC().Format(time.RFC3339)}); err != nil {
				return n, err
			}
			n++
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return n, err
		}
		if page.NextCursor == "" {
			return n, nil
		}
		q.Cursor = page.NextCursor
	}
}
