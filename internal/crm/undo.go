package crm

import (
	"context"
	"time"
)

// ActBulkUndone is the activity entry of an undone bulk action; data:
// {"action": "archive", "job_id": N}.
const ActBulkUndone = "bulk_undone"

// BulkAction is one bulk action, kept so that it can be undone for a while:
// its id is its job's.
type BulkAction struct {
	ID              int64
	UserID          int64
	Action          string
	Detail          string // the tags or the segment's name, for the list
	Done            int    // customers changed so far
	CreatedAt       time.Time
	FinishedAt      *time.Time // when it went through to the end
	UndoRequestedAt *time.Time // the unique marker: set once
	UndoJobID       *int64
}

// BulkChange is the before- and after-state of one field of one customer
// that a bulk action changed. Fields: "owner" (user ids), "archived"
// (RFC 3339 times), "tag:<id>" (new: the tag id), "segment:<id>"
// (old or new: "member").
type BulkChange struct {
	CustomerID int64
	Field      string
	Old, New   *string
}

// BulkUndoStore records bulk actions and what they changed, for their undo.
type BulkUndoStore interface {
	// CreateBulkAction records a bulk action; nothing when it exists already.
	CreateBulkAction(ctx context.Context, a *BulkAction) error
	GetBulkAction(ctx context.Context, id int64) (*BulkAction, error)
	// ListBulkActions lists the bulk actions begun since, newest first, of
	// one user or, with userID 0, of everyone.
	ListBulkActions(ctx context.Context, userID int64, since time.Time, limit int) ([]BulkAction, error)
	// UpdateBulkAction stores how many customers it changed so far and, when
	// finishedAt is set, that it went through.
	UpdateBulkAction(ctx context.Context, id int64, done int, finishedAt *time.Time) error
	// AddBulkChanges records, in the transaction of the change, that the
	// action changed field of each of ids from old to new.
	AddBulkChanges(ctx context.Context, actionID int64, ids []int64, field string, old, new *string) error
	// BulkChanges returns the changes of the next limit customers after
	// afterCustomer, in customer order.
	BulkChanges(ctx context.Context, actionID, afterCustomer int64, limit int) ([]BulkChange, error)
	// ClaimBulkUndo sets the action's undo marker; a conflict when it is
	// set already (an undo was asked for before).
	ClaimBulkUndo(ctx context.Context, actionID int64, now time.Time) error
	// SetBulkUndoJob names the undo's job; nil clears the marker again (the
	// job could not be started).
	SetBulkUndoJob(ctx context.Context, actionID int64, jobID *int64) error
	// BulkUnarchive restores those of ids archived at exactly archivedAt and
	// not merged, and returns the ids it changed.
	BulkUnarchive(ctx context.Context, ids []int64, archivedAt time.Time, now time.Time) ([]int64, error)
	// BulkRemoveTag takes the tag off those of ids that have it and returns them.
	BulkRemoveTag(ctx context.Context, ids []int64, tagID int64, now time.Time) ([]int64, error)
}
