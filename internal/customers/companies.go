package customers

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/acme/crm/internal/crm"
)

// CompanyQueryKeys are the query parameters of the Companies table and of
// GET /api/v1/companies (name: an exact name, any case, for pickers).
var CompanyQueryKeys = []string{"q", "name", "country", "has_customers", "created_from", "created_to", "sort", "limit", "cursor"}

// MaxCompanyOwners is how many owners a row of the Companies table names
// before "+N".
const MaxCompanyOwners = 3

// ParseCompanyQuery turns list parameters into a company query, checking
// every value; it refuses (never ignores) what it does not understand.
func ParseCompanyQuery(v url.Values) (crm.CompanyQuery, error) {
	var q crm.CompanyQuery
	var fe crm.FieldErrors
	f := &q.Filter
	for key := range v {
		if !slices.Contains(CompanyQueryKeys, key) {
			fe.Add(key, "is not a filter (use %s)", strings.Join(CompanyQueryKeys, ", "))
		}
	}
	for _, k := range []string{"q", "name"} {
		if err := crm.CheckText(k, v.Get(k)); err != nil {
			return q, err
		}
	}
	f.Q = strings.TrimSpace(v.Get("q"))
	if len([]rune(f.Q)) > MaxQ {
		fe.Add("q", "The search is longer than %d characters.", MaxQ)
	}
	f.Name = strings.TrimSpace(v.Get("name"))
	if len([]rune(f.Name)) > MaxName {
		fe.Add("name", "Use at most %d characters.", MaxName)
	}
	for _, c := range splitList(v["country"]) {
		code, err := crm.NormalizeCountry(c)
		if err != nil {
			fe.Add("country", "%q is not a country code or name.", c)
			continue
		}
		if !slices.Contains(f.Countries, code) {
			f.Countries = append(f.Countries, code)
		}
	}
	if len(f.Countries) > MaxListVals {
		fe.Add("country", "Filter by at most %d countries.", MaxListVals)
	}
	switch h := v.Get("has_customers"); h {
	case "":
	case "true", "yes":
		f.HasCustomers = ptr(true)
	case "false", "no":
		f.HasCustomers = ptr(false)
	default:
		fe.Add("has_customers", "Has active customers is yes or no, not %q.", h)
	}
	f.CreatedFrom = dateParam(v, "created_from", &fe)
	if to := dateParam(v, "created_to", &fe); to != nil {
		end := to.AddDate(0, 0, 1)
		f.CreatedTo = &end
		if f.CreatedFrom != nil && f.CreatedFrom.After(*to) {
			fe.Add("created_from", "The first date is after the last date.")
		}
	}
	q.Sort = strings.TrimSpace(v.Get("sort"))
	if key := strings.TrimPrefix(q.Sort, "-"); q.Sort != "" && !slices.Contains(crm.CompanySortKeys, key) {
		fe.Add("sort", "%q is not a sortable column (use %s, with - for descending)", key, strings.Join(crm.CompanySortKeys, ", "))
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxLimit {
			fe.Add("limit", "%q is not a number from 1 to %d", l, MaxLimit)
		}
		q.Limit = n
	}
	q.Cursor = v.Get("cursor")
	if len(q.Cursor) > 1000 {
		fe.Add("cursor", "is not a cursor from a previous page")
	}
	return q, fe.Err()
}

// CompanyQueryValues is the inverse of ParseCompanyQuery: the canonical
// parameters of a query's filter and sort (no cursor), so links keep the view.
func CompanyQueryValues(q crm.CompanyQuery) url.Values {
	v := url.Values{}
	f := q.Filter
	if f.Q != "" {
		v.Set("q", f.Q)
	}
	if f.Name != "" {
		v.Set("name", f.Name)
	}
	for _, c := range f.Countries {
		v.Add("country", c)
	}
	if f.HasCustomers != nil {
		v.Set("has_customers", strconv.FormatBool(*f.HasCustomers))
	}
	if f.CreatedFrom != nil {
		v.Set("created_from", f.CreatedFrom.Format("2006-01-02"))
	}
	if f.CreatedTo != nil {
		v.Set("created_to", f.CreatedTo.AddDate(0, 0, -1).Format("2006-01-02"))
	}
	if q.Sort != "" {
		v.Set("sort", q.Sort)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

// ListCompanies is one page of the Companies table.
func (s *Service) ListCompanies(ctx context.Context, q crm.CompanyQuery) (*crm.CompanyPage, error) {
	return s.Store.FindCompanies(ctx, q)
}

// CompanyOwners are the distinct owners of the active customers of a page
// of companies (the first MaxCompanyOwners by name and how many more).
func (s *Service) CompanyOwners(ctx context.Context, companies []crm.Company) (map[int64]crm.CompanyOwners, error) {
	ids := make([]int64, len(companies))
	for i, c := range companies {
		ids[i] = c.ID
	}
	return s.Store.CompanyOwners(ctx, ids, MaxCompanyOwners)
}

// CompanyNames names companies by id, for the chips of the customer
// table's company filter; unknown ids are left out.
func (s *Service) CompanyNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	for _, id := range ids {
		c, err := s.Store.GetCompany(ctx, id)
		if err != nil {
			if crm.CodeOf(err) == crm.CodeNotFound {
				continue
			}
			return nil, err
		}
		out[id] = c.Name
	}
	return out, nil
}
