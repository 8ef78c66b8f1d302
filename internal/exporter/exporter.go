// Package exporter writes customers and their contacts as CSV, streamed in
// keyset pages over the one customer filter, in constant memory. The first
// columns are exactly the import columns, so an export can be imported again.
package exporter

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/acme/crm/internal/crm"
)

// ImportColumns are the standard import columns, first in every export.
var ImportColumns = []string{"first_name", "last_name", "email", "linkedin_url", "company_name", "tags", "segment_id", "owner_email"}

// Header returns every column, in order, for these products and custom fields.
func Header(products []crm.Product, fields []crm.CustomField) []string {
	h := append([]string{}, ImportColumns...)
	h = append(h, "id", "full_name", "phones", "other_emails", "other_contacts", "suppressed_contacts", "language", "country", "timezone")
	for _, p := range products {
		h = append(h, "score_"+p.Key)
	}
	for _, f := range fields {
		h = append(h, "custom_"+f.Key)
	}
	return append(h, "has_inbound", "created_at", "updated_at", "archived_at")
}

// chunk is how many customers one round of queries reads (tests make it small).
var chunk = 5000

// Write streams the customers of q's filter to w in the order they were
// added (id order), as UTF-8 with a BOM so spreadsheets read accents right.
// One goroutine reads the next chunk from the store while this one writes
// the last. progress, when set, hears the rows written so far.
func Write(ctx context.Context, st crm.Store, q crm.CustomerQuery, w io.Writer, progress func(rows int)) (int, error) {
	products, err := st.ListProducts(ctx)
	if err != nil {
		return 0, err
	}
	fields, err := st.ListCustomFields(ctx, true)
	if err != nil {
		return 0, err
	}
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return 0, err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(Header(products, fields)); err != nil {
		return 0, err
	}
	// the store reads the next chunk while a goroutine writes the last
	chunks := make(chan []crm.Customer, 1)
	done := make(chan struct{})
	var werr error // the writer's, read after done
	rows := 0
	go func() {
		defer close(done)
		record := make([]string, 0, 32)
		for cs := range chunks {
			for i := range cs {
				record = row(record[:0], &cs[i], products, fields)
				if werr = cw.Write(record); werr != nil {
					return
				}
				rows++
			}
			cw.Flush()
			if werr = cw.Error(); werr != nil {
				return
			}
			if progress != nil {
				progress(rows)
			}
		}
	}()
	err = st.ExportCustomers(ctx, q.Filter, chunk, func(cs []crm.Customer) error {
		select {
		case chunks <- cs:
			return nil
		case <-done: // the writer stopped early
			return werr
		}
	})
	close(chunks)
	<-done
	if werr != nil {
		return rows, werr
	}
	return rows, err
}

func row(r []string, c *crm.Customer, products []crm.Product, fields []crm.CustomField) []string {
	var email, linkedin string
	var phones, otherEmails, others, suppressed []string
	for _, k := range c.Contacts {
		if k.Suppression != nil {
			suppressed = append(suppressed, fmt.Sprintf("%s:%s (%s)", k.Channel, k.Value, k.Suppression.Reason))
		}
		switch {
		case k.Channel == crm.ChannelEmail && k.Primary:
			email = k.Value
		case k.Channel == crm.ChannelEmail:
			otherEmails = append(otherEmails, k.Value)
		case k.Channel == crm.ChannelLinkedIn && k.Primary:
			linkedin = k.Value
		case k.Channel == crm.ChannelPhone:
			phones = append(phones, k.Value)
		default:
			others = append(others, string(k.Channel)+":"+k.Value)
		}
	}
	company, owner := "", ""
	if c.Company != nil {
		company = c.Company.Name
	}
	if c.Owner != nil {
		owner = c.Owner.Email
	}
	segs := make([]string, len(c.Segments))
	for i, s := range c.Segments {
		segs[i] = strconv.FormatInt(s, 10)
	}
	r = append(r, safe(c.FirstName), safe(c.LastName), safe(email), safe(linkedin), safe(company), safe(strings.Join(c.Tags, ";")),
		strings.Join(segs, ";"), safe(owner), strconv.FormatInt(c.ID, 10), safe(c.FullName), safe(strings.Join(phones, ";")),
		safe(strings.Join(otherEmails, ";")), safe(strings.Join(others, ";")), safe(strings.Join(suppressed, ";")),
		c.Language, c.Country, c.Timezone)
	for _, p := range products {
		if v, ok := c.Scores[p.Key]; ok {
			r = append(r, strconv.Itoa(v))
		} else {
			r = append(r, "")
		}
	}
	for _, f := range fields {
		r = append(r, safe(custom(c.Custom[f.Key])))
	}
	archived := ""
	if c.ArchivedAt != nil {
		archived = c.ArchivedAt.UTC().Format(time.RFC3339)
	}
	return append(r, strconv.FormatBool(c.HasInbound), c.CreatedAt.UTC().Format(time.RFC3339), c.UpdatedAt.UTC().Format(time.RFC3339), archived)
}

func custom(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(e)
		}
		sort.Strings(parts)
		return strings.Join(parts, ";")
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// safe neutralises cells a spreadsheet would run as a formula.
var safe = crm.SafeCell
