package crm

import "time"

// Owner filter kinds.
const (
	OwnerAny  = ""
	OwnerMe   = "me"
	OwnerNone = "none"
)

// Archived filter values.
const (
	ArchivedActive = "false"
	ArchivedOnly   = "true"
	ArchivedAll    = "all"
)

// CustomerFilter selects customers. It has one meaning everywhere: the table,
// the JSON API, CSV export and "select all matching" bulk actions.
type CustomerFilter struct {
	Q            string     // search over name, e-mail, company, phone
	Owner        string     // OwnerAny, OwnerMe, OwnerNone, or "user"
	OwnerID      int64      // the user for Owner "me" (resolved) or "user"
	Tags         []string   // tag names
	TagsAll      bool       // all of the tags instead of any
	SegmentID    int64      // 0 = any
	CompanyIDs   []int64    // any of these companies (none = any)
	Countries    []string   // ISO 3166-1 alpha-2, any of
	Languages    []string   // ISO 639-1, any of
	HasInbound   *bool      // nil = either
	ScoreProduct string     // product key; required with ScoreMin/ScoreMax
	ScoreMin     *int       // inclusive
	ScoreMax     *int       // inclusive
	CreatedFrom  *time.Time // inclusive, start of day UTC
	CreatedTo    *time.Time // exclusive bound: the day after the inclusive date
	Archived     string     // ArchivedActive (default), ArchivedOnly, ArchivedAll
	IDs          []int64    // restrict to these ids (a selection)
	// None matches nobody: a saved view whose segment, owner, company or
	// score product no longer exists is never widened by dropping it.
	None bool
}

// Sort keys of the customer list; "-" before a key sorts descending.
var SortKeys = []string{"name", "email", "company", "owner", "score", "created", "updated", "country", "language"}

// CustomerQuery is a filter plus order and a keyset page.
type CustomerQuery struct {
	Filter CustomerFilter
	Sort   string // a SortKeys entry, optionally prefixed with "-"; default "-created"
	Limit  int    // page size, 1..500; default 50
	Cursor string // opaque, from a previous page's NextCursor
	// Before pages backwards from Cursor (the "previous" button).
	Before bool
	// NoTotal skips counting (streaming an export needs no total).
	NoTotal bool
}

// CustomerPage is one page of customers.
type CustomerPage struct {
	Items      []Customer
	NextCursor string
	PrevCursor string
	Total      int  // matching customers
	TotalExact bool // false when Total is a lower bound ("10,000+")
	Offset     int  // position of the first item in the list (0-based), for "51-100 of N"
}
