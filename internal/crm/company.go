package crm

import (
	"net/url"
	"strings"
	"time"
)

// CompanyFilter selects companies for the Companies table, its API and its
// CSV export; only companies that are not archived are listed.
type CompanyFilter struct {
	Q            string     // part of the name or the domain, any case
	Name         string     // exactly this name, any case ("" = any)
	Countries    []string   // ISO 3166-1 alpha-2, any of ("" for none set is not a code)
	HasCustomers *bool      // nil = either; true = at least one active customer
	CreatedFrom  *time.Time // inclusive
	CreatedTo    *time.Time // exclusive: the day after the inclusive date
}

// CompanySortKeys are the sortable columns of the Companies table; "-"
// before a key sorts descending.
var CompanySortKeys = []string{"name", "domain", "country", "customers_active", "created"}

// CompanyQuery is a company filter plus order and a keyset page.
type CompanyQuery struct {
	Filter  CompanyFilter
	Sort    string // a CompanySortKeys entry, optionally prefixed with "-"; default "name"
	Limit   int    // 1..500; default 50
	Cursor  string // opaque, from a previous page's NextCursor
	NoTotal bool   // skip the count (an export)
}

// CompanyPage is one page of companies.
type CompanyPage struct {
	Items      []Company
	NextCursor string
	Total      int
}

// CompanyOwners are the distinct owners of a company's active customers:
// the first few by name, and how many more there are.
type CompanyOwners struct {
	First []UserRef
	More  int
}

// NormalizeDomain turns what a user types for a company's web address into
// its domain: lower case, without scheme, user, port, path, query, "www."
// and a trailing dot. It does not judge the result (the service does).
func NormalizeDomain(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return ""
	}
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	} else if strings.HasPrefix(s, "//") {
		s = s[2:]
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndex(s, "@"); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.LastIndex(s, ":"); i >= 0 && !strings.Contains(s[i:], "]") {
		s = s[:i]
	}
	if u, err := url.PathUnescape(s); err == nil {
		s = u
	}
	s = strings.TrimSuffix(s, ".")
	s = strings.TrimPrefix(s, "www.")
	return s
}
