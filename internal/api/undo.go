package api

import (
	"context"
	"errors"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/jobs"
)

// withUndo adds to a bulk action's job whether the caller can still undo it.
func (a *apiServer) withUndo(ctx context.Context, j *jobs.Job) error {
	if j.Kind != (jobs.Bulk{}).Kind() {
		return nil
	}
	ba, err := a.Store.GetBulkAction(ctx, j.ID)
	if errors.Is(err, crm.ErrNotFound) {
		return nil // not begun yet
	}
	if err != nil {
		return err
	}
	st := a.Customers.UndoStatusOf(ba, caller(ctx), j.Ended())
	j.Undo = &st
	return nil
}

type undoOut struct {
	Body struct {
		Job JobRef `json:"job"`
	}
}

// undoBulk starts the undo of a bulk action: the user who ran it or an
// admin, once, within 24 hours; the undo is a job of its own.
func (a *apiServer) undoBulk(ctx context.Context, in *idIn) (*undoOut, error) {
	me := caller(ctx)
	j, err := a.Jobs.Get(ctx, in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	if j.UserID != me.ID && !me.IsAdmin() {
		return nil, a.fail(ctx, crm.NotFound("job")) // someone else's job: as if it did not exist
	}
	if j.Kind != (jobs.Bulk{}).Kind() {
		return nil, a.fail(ctx, crm.Conflict("Only a bulk action can be undone."))
	}
	if _, err := a.Customers.ClaimUndo(ctx, me, in.ID, j.Ended()); err != nil {
		if errors.Is(err, crm.ErrNotFound) {
			err = crm.Conflict("This bulk action cannot be undone: it has not begun yet.")
		}
		return nil, a.fail(ctx, err)
	}
	id, err := a.Jobs.Insert(ctx, jobs.BulkUndo{ActionID: in.ID, UserID: me.ID})
	if err != nil {
		_ = a.Store.SetBulkUndoJob(context.WithoutCancel(ctx), in.ID, nil) // not started: it can be asked for again
		return nil, a.fail(ctx, err)
	}
	if err := a.Store.SetBulkUndoJob(context.WithoutCancel(ctx), in.ID, &id); err != nil {
		return nil, a.fail(ctx, err)
	}
	out := &undoOut{}
	out.Body.Job = JobRef{ID: id, Status: jobs.Queued}
	return out, nil
}
