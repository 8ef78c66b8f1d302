package crm

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode"
)

// Possible duplicate companies (issue 13): two active companies are possibly
// the same when their domains match once normalised (CompanyDomainKey), or
// their names match once folded loosely (CompanyNameKey). The stores keep
// both keys in columns of companies, computed here in Go so that both
// engines mean the same thing.

// legalForms are the words of a company's legal form, dropped from the end
// of a name by CompanyNameKey (in their folded, dot-less spelling).
var legalForms = map[string]bool{
	"inc": true, "incorporated": true, "ltd": true, "limited": true, "llc": true, "llp": true, "lp": true,
	"plc": true, "gmbh": true, "mbh": true, "ag": true, "kg": true, "kgaa": true, "ohg": true, "ug": true, "ev": true,
	"sa": true, "sarl": true, "sas": true, "sasu": true, "sl": true, "sll": true, "srl": true, "spa": true, "sca": true,
	"bv": true, "nv": true, "vof": true, "co": true, "corp": true, "corporation": true, "company": true, "cie": true,
	"se": true, "oy": true, "oyj": true, "ab": true, "as": true, "asa": true, "aps": true, "pty": true, "pte": true,
	"kk": true, "kft": true, "sro": true,
}

// CompanyNameKey is the loose form of a company name that possible
// duplicates compare: folded like search (case, accents, ß/ss), dots
// dropped (S.A. is SA), split into words at anything else that is not a
// letter or digit, with "and" for "&", a leading "the" and trailing legal
// forms (Inc, Ltd, LLC, GmbH, AG, SA, SARL, BV, Co, Corp...) removed:
// "ACME, Inc." and "Acme Corp" are both "acme". A name made only of such
// words keeps them. "" for an empty name.
func CompanyNameKey(name string) string {
	f := strings.ReplaceAll(Fold(name), ".", "")
	f = strings.ReplaceAll(f, "&", " and ")
	words := strings.FieldsFunc(f, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	all := words
	if len(words) > 1 && words[0] == "the" {
		words = words[1:]
	}
	for len(words) > 0 && (legalForms[words[len(words)-1]] || words[len(words)-1] == "and") {
		words = words[:len(words)-1]
	}
	if len(words) == 0 {
		words = all
	}
	return strings.Join(words, " ")
}

// CompanyDomainKey is the normalised form of a company's domain: lower case,
// without a scheme, "www.", port, path or trailing dot; "" when empty.
func CompanyDomainKey(domain string) string {
	d := strings.ToLower(strings.TrimSpace(domain))
	if i := strings.Index(d, "://"); i >= 0 {
		d = d[i+3:]
	}
	if i := strings.IndexAny(d, "/?#"); i >= 0 {
		d = d[:i]
	}
	if i := strings.LastIndexByte(d, '@'); i >= 0 { // an e-mail address or user@host
		d = d[i+1:]
	}
	if i := strings.IndexByte(d, ':'); i >= 0 {
		d = d[:i]
	}
	d = strings.TrimSuffix(d, ".")
	d = strings.TrimPrefix(d, "www.")
	return d
}

// Reasons two companies are listed as possible duplicates.
const (
	SameDomain = "domain"
	SameName   = "name"
)

// CompanyGroupKey names a group of possible duplicate companies: its reason
// and the key its companies share. Groups are listed domain groups first,
// each kind by key.
type CompanyGroupKey struct {
	Reason string // SameDomain or SameName; "" is before every group
	Key    string
}

// Before reports whether k comes before o in the list of groups.
func (k CompanyGroupKey) Before(o CompanyGroupKey) bool {
	rank := func(r string) int {
		switch r {
		case SameDomain:
			return 1
		case SameName:
			return 2
		}
		return 0
	}
	if rank(k.Reason) != rank(o.Reason) {
		return rank(k.Reason) < rank(o.Reason)
	}
	return k.Key < o.Key
}

// CompanyGroup is a set of active companies that share a domain or a loose
// name: possibly one company entered several times.
type CompanyGroup struct {
	Reason    string          `json:"reason" enum:"domain,name" doc:"domain: the same normalised domain; name: the same name once case, accents, punctuation and legal forms are ignored"`
	Key       string          `json:"key" doc:"the shared domain or loose name"`
	Total     int             `json:"total" doc:"how many active companies share it"`
	Companies []CompanyMember `json:"companies" doc:"the companies, oldest first (at most 20)"`
}

// CompanyMember is one company of a group of possible duplicates.
type CompanyMember struct {
	ID              int64     `json:"id"`
	Name            string    `json:"name"`
	Domain          string    `json:"domain"`
	CustomersActive int       `json:"customers_active"`
	CreatedAt       time.Time `json:"created_at"`
}

// MaxGroupMembers bounds the companies a group lists.
const MaxGroupMembers = 20

// CompanyState is what a merge decides on about a company.
type CompanyState struct {
	Company
	ArchivedAt *time.Time `json:"archived_at"`
	MergedInto *int64     `json:"merged_into"`
}

// CompanyActivity is one entry of a company's log.
type CompanyActivity struct {
	ID        int64           `json:"id"`
	CompanyID int64           `json:"company_id"`
	Actor     *UserRef        `json:"actor"`
	Kind      string          `json:"kind"`
	Data      json.RawMessage `json:"data"`
	At        time.Time       `json:"at"`
}

// Company log kinds.
const (
	CompanyActMergedInto = "merged_into" // data: {"into", "into_name", "customers"}
	CompanyActMergedFrom = "merged_from" // data: {"from", "from_names", "customers", "filled"}
)

// MovedCustomer is a customer a company merge moved, and from where.
type MovedCustomer struct {
	CustomerID  int64
	FromCompany int64
}

// CompanyMergeStore holds the company merge and its duplicates list.
type CompanyMergeStore interface {
	// RefreshCompanyKeys computes the keys of the companies whose name or
	// domain changed since their keys were last computed (any write of
	// either clears them in the database itself).
	RefreshCompanyKeys(ctx context.Context) error
	// CompanyDuplicateGroups lists groups of at least two active companies
	// sharing a domain key or a name key, after the group given, at most
	// limit groups, each with up to MaxGroupMembers companies oldest first.
	// Keys must be fresh (RefreshCompanyKeys).
	CompanyDuplicateGroups(ctx context.Context, after CompanyGroupKey, limit int) ([]CompanyGroup, error)
	// CompanyGroupsOf returns the groups of possible duplicates an active
	// company belongs to (keys must be fresh).
	CompanyGroupsOf(ctx context.Context, id int64) ([]CompanyGroup, error)
	// GetCompanyState returns a company with its archive state.
	GetCompanyState(ctx context.Context, id int64) (*CompanyState, error)
	// LockCompanies locks the companies' rows in id order until the
	// transaction ends (engines whose writers run one at a time need not).
	LockCompanies(ctx context.Context, ids []int64) error
	// CountCompanyCustomers counts the customers of the companies: all of
	// them, the active ones, and those owned by someone other than owner
	// (0: by anyone).
	CountCompanyCustomers(ctx context.Context, ids []int64, owner int64) (all, active, others int, err error)
	// MergeCompanies moves every customer of the secondaries to the primary
	// (company and its sort key, search text), archives each secondary with
	// merged_into pointing at the primary (as do companies merged into them
	// before), fills the primary's domain when domain is not "" and the
	// primary has none, and answers the customers moved. A company no longer
	// active is a conflict. Call it inside a transaction.
	MergeCompanies(ctx context.Context, primaryID int64, secondaryIDs []int64, domain string, now time.Time) ([]MovedCustomer, error)
	// AddCompanyActivity appends entries to companies' logs.
	AddCompanyActivity(ctx context.Context, as []CompanyActivity) error
	// ListCompanyActivity returns a company's log, newest first.
	ListCompanyActivity(ctx context.Context, companyID int64, limit int) ([]CompanyActivity, error)
}
