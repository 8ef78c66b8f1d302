package crm

import (
	"context"
	"time"
)

// Change is one entry of the change feed: an activity entry of a customer,
// in commit order. The feed is the activity log read across all customers:
// every change of a customer writes its activity entry in the transaction
// that makes the change, so a change and its feed entry commit together.
type Change struct {
	Cursor     string // opaque position; a reader continues after it
	CustomerID int64
	Kind       string // the activity kind (Act*)
	UserID     int64  // who made it; 0 = the system
	Data       string // the activity entry's JSON data
	At         time.Time
}

// ChangeStore reads the change feed.
type ChangeStore interface {
	// Changes returns up to limit changes after the cursor after ("" = from
	// the start), in commit order, and the cursor to continue from (next ==
	// after when nothing new has committed). A change is returned only once
	// every change before it in that order has committed, so a reader that
	// follows next never skips one, even when transactions commit out of
	// the order they started in.
	Changes(ctx context.Context, after string, limit int) (items []Change, next string, err error)
	// ChangesHead returns the cursor of "now": a new reader starts there
	// and gets every change committed from then on (and, on PostgreSQL,
	// possibly a few committed just before).
	ChangesHead(ctx context.Context) (string, error)
}
