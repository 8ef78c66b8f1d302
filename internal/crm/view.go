package crm

import (
	"context"
	"time"
)

// SavedView is a named state of the customer table (issue 13): the list's
// query string (filters, search, sort; never the page position), the visible
// columns in order and the product the Score column shows. A personal view is
// seen by its owner only; a shared one by everybody, changed by its owner or
// an admin.
type SavedView struct {
	ID           int64
	Owner        UserRef
	Name         string
	Shared       bool
	Query        string   // canonical list query string (customers.ViewQuery)
	Columns      []string // column keys, in order
	ScoreProduct string   // the product the Score column shows; "" = the first
	CreatedAt    time.Time
	UpdatedAt    time.Time

	// For the user who read the view:
	Pinned  bool
	Default bool
}

// ViewStore keeps saved views, and each user's pins and default view.
type ViewStore interface {
	// CreateView sets ID and the times; Conflict when the owner has a view of
	// that name, or (shared) another shared view has it, case-insensitively.
	CreateView(ctx context.Context, v *SavedView) error
	// GetView returns a view that userID may see (theirs, or shared), with
	// userID's pin and default; NotFound otherwise.
	GetView(ctx context.Context, id, userID int64) (*SavedView, error)
	// ListViews lists the views userID may see, by name, with their pins.
	ListViews(ctx context.Context, userID int64) ([]SavedView, error)
	// UpdateView writes name, shared, query, columns and score product of a
	// view that userID may still see (checked in the same statement);
	// NotFound when it is gone or no longer visible, Conflict on a name clash.
	UpdateView(ctx context.Context, v *SavedView, userID int64, now time.Time) error
	// DeleteView removes a view userID may still see, with every pin and
	// default naming it.
	DeleteView(ctx context.Context, id, userID int64) error
	// SetViewPin pins or unpins a view for userID (a visible one only).
	SetViewPin(ctx context.Context, userID, viewID int64, pinned bool, now time.Time) error
	// SetDefaultView makes a visible view userID's default; 0 clears it.
	SetDefaultView(ctx context.Context, userID, viewID int64) error
	// DefaultView returns userID's default view when it is still visible;
	// NotFound when there is none.
	DefaultView(ctx context.Context, userID int64) (*SavedView, error)
	// SegmentExists reports whether a segment exists, without counting its
	// members as GetSegment does.
	SegmentExists(ctx context.Context, id int64) (bool, error)
	// TagsNamed returns the name keys (NameKey) of those names that are a
	// tag: one indexed read, to show a view's deleted tags as missing.
	TagsNamed(ctx context.Context, names []string) ([]string, error)
	// CountCustomers counts the customers of a filter exactly as the list
	// does (the same SQL), up to the list's cap: exact is false beyond it.
	CountCustomers(ctx context.Context, f CustomerFilter) (n int, exact bool, err error)
}
