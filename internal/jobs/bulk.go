package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"time"

	"github.com/riverqueue/river"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/webhooks"
)

// Bulk is a bulk action over every customer of a filter (or a large selection).
// The filter is the list's parameters, parsed again when the job runs. It is
// kept when empty ({}: every customer the list shows by default), which is
// not the same as none (null: the ids are the selection).
type Bulk struct {
	Action    string     `json:"action"`
	IDs       []int64    `json:"ids,omitempty"`
	Filter    url.Values `json:"filter"` // never omitempty: see above
	Tags      []string   `json:"tags,omitempty"`
	SegmentID int64      `json:"segment_id,omitempty"`
	UserID    int64      `json:"user_id"`
}

// Kind names the job in River's table.
func (Bulk) Kind() string { return "bulk" }

// InsertOpts: a chunk commits with the job's checkpoint, so an attempt that
// failed (or whose process died) is retried from where it stood.
func (Bulk) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 5} }

// BulkWorker runs bulk jobs through the customers service, so the rules are
// the same as for a small selection.
type BulkWorker struct {
	river.WorkerDefaults[Bulk]
	Store     crm.Store
	Customers *customers.Service
	Queue     func() Queue
	Options   Options
}

// Timeout is River's limit for one attempt (a slice of the job).
func (w *BulkWorker) Timeout(*river.Job[Bulk]) time.Duration { return w.Options.timeout() }

// Work runs the action from the job's checkpoint, for one slice: each chunk
// commits with its skips and the checkpoint (the last customer id done and
// the totals), so a crash or a cancel loses or repeats nothing.
func (w *BulkWorker) Work(ctx context.Context, job *river.Job[Bulk]) error {
	sctx, end := w.Options.attempt(ctx)
	return end(w.work(sctx, job))
}

func (w *BulkWorker) work(ctx context.Context, job *river.Job[Bulk]) error {
	a := job.Args
	user, err := w.Store.GetUser(ctx, a.UserID)
	if err != nil {
		return err
	}
	req := customers.BulkRequest{Action: a.Action, IDs: a.IDs, Tags: a.Tags, SegmentID: a.SegmentID}
	if a.Filter != nil {
		q, err := w.Customers.ParseQuery(ctx, user, a.Filter)
		if err != nil {
			return river.JobCancel(err) // the filter cannot mean anything any more: retrying will not help
		}
		req.Filter = &q.Filter
	}
	req.ActionID = job.ID
	cp, err := loadCheckpoint(ctx, w.Store, job.ID)
	if err != nil {
		return err
	}
	req.Resume, req.InChunk = cp.resume, cp.inChunk
	bg := context.WithoutCancel(ctx)
	res, err := w.Customers.Bulk(ctx, user, req, func(r customers.BulkResult, _ []customers.Skip) error {
		return w.Queue().Progress(bg, job.ID, r)
	})
	return finish(ctx, res, err)
}

// finish ends one attempt of a chunked job: its output, and a snooze when
// another run of the job moved on.
func finish(ctx context.Context, res *customers.BulkResult, err error) error {
	if errors.Is(err, crm.ErrConflict) {
		return river.JobSnooze(time.Second) // another run moved on: go on after it, from its checkpoint
	}
	if res != nil {
		res.Skips = nil // kept in the store: GET /api/v1/jobs/{id}/skipped.csv
		out := output{Progress: res}
		if err == nil {
			out.Result = res
		}
		if rerr := river.RecordOutput(ctx, out); rerr != nil && err == nil {
			err = rerr
		}
	}
	return err
}

// checkpoint is where a chunked job stands, and how each chunk moves it.
type checkpoint struct {
	resume  *customers.BulkResult
	inChunk func(tx crm.Store, r customers.BulkResult, skips []customers.Skip) error
}

// loadCheckpoint reads a job's checkpoint: the totals so far (nil before the
// first chunk) and the function that, inside each chunk's transaction,
// stores the chunk's skips and moves the checkpoint on, conditional on where
// this run found it, so a second run of the job cannot do a chunk again.
func loadCheckpoint(ctx context.Context, st crm.Store, jobID int64) (*checkpoint, error) {
	after, state, err := st.JobCheckpoint(ctx, jobID)
	if err != nil {
		return nil, err
	}
	cp := &checkpoint{}
	if state != nil {
		var r customers.BulkResult
		if err := json.Unmarshal(state, &r); err != nil {
			return nil, err
		}
		r.Last = after
		cp.resume = &r
	}
	bg := context.WithoutCancel(ctx) // a chunk begun commits whole
	cp.inChunk = func(tx crm.Store, r customers.BulkResult, skips []customers.Skip) error {
		rows := make([]crm.BulkSkip, len(skips))
		for i, k := range skips {
			rows[i] = crm.BulkSkip{CustomerID: k.ID, Name: k.Name, Reason: k.Reason}
		}
		if err := tx.AddBulkSkips(bg, jobID, rows); err != nil {
			return err
		}
		r.Skips = nil
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if err := tx.SaveJobCheckpoint(bg, jobID, after, r.Last, b, time.Now()); err != nil {
			return err
		}
		after = r.Last
		return nil
	}
	return cp, nil
}

// RunBulkInline runs a small bulk action at once, in the request, as the
// job id names it (a job inserted held, InsertHeld): with the job's
// checkpoint, so that it is recorded and can be undone like any bulk job.
// Then the job is released, and its worker, finding nothing left, ends it
// with the totals. On an error the held job is canceled (a small selection
// is one chunk: nothing of it was kept).
func RunBulkInline(ctx context.Context, q Queue, st crm.Store, cs *customers.Service, user *crm.User, jobID int64, req customers.BulkRequest) (*customers.BulkResult, error) {
	cp, err := loadCheckpoint(ctx, st, jobID)
	if err == nil {
		req.ActionID, req.Resume, req.InChunk = jobID, cp.resume, cp.inChunk
		var res *customers.BulkResult
		res, err = cs.Bulk(ctx, user, req, nil)
		if err == nil {
			if rerr := q.Release(context.WithoutCancel(ctx), jobID); rerr != nil {
				return nil, rerr
			}
			return res, nil
		}
	}
	_, _ = q.Cancel(context.WithoutCancel(ctx), jobID)
	return nil, err
}

// BulkUndo undoes one bulk action (its job's id), as the user who asked.
type BulkUndo struct {
	ActionID int64 `json:"action_id"`
	UserID   int64 `json:"user_id"`
}

// Kind names the job in River's table.
func (BulkUndo) Kind() string { return "bulk_undo" }

// InsertOpts: like a bulk job, it resumes from its checkpoint.
func (BulkUndo) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 5} }

// UndoWorker runs the undo of bulk actions through the customers service.
type UndoWorker struct {
	river.WorkerDefaults[BulkUndo]
	Store     crm.Store
	Customers *customers.Service
	Queue     func() Queue
	Options   Options
	Webhooks  *webhooks.Service // bulk.undone; nil: none
}

// Timeout is River's limit for one attempt (a slice of the job).
func (w *UndoWorker) Timeout(*river.Job[BulkUndo]) time.Duration { return w.Options.timeout() }

// Work undoes from the job's checkpoint, chunk by chunk, as a bulk job does.
func (w *UndoWorker) Work(ctx context.Context, job *river.Job[BulkUndo]) error {
	sctx, end := w.Options.attempt(ctx)
	return end(w.work(sctx, job))
}

func (w *UndoWorker) work(ctx context.Context, job *river.Job[BulkUndo]) error {
	user, err := w.Store.GetUser(ctx, job.Args.UserID)
	if err != nil {
		return err
	}
	cp, err := loadCheckpoint(ctx, w.Store, job.ID)
	if err != nil {
		return err
	}
	bg := context.WithoutCancel(ctx)
	res, err := w.Customers.Undo(ctx, user, customers.UndoRequest{ActionID: job.Args.ActionID, Resume: cp.resume, InChunk: cp.inChunk},
		func(r customers.BulkResult, _ []customers.Skip) error { return w.Queue().Progress(bg, job.ID, r) })
	if err := finish(ctx, res, err); err != nil {
		return err
	}
	return emitBulkUndone(bg, w.Webhooks, job.ID, job.Args, res, time.Now())
}

// WithCheckpoint brings a chunked job's counts up to its checkpoint. A chunk
// commits with its checkpoint, and the progress River shows is written just
// after: a process killed between the two, then the job cancelled before it
// ran again, would otherwise report fewer customers than it changed.
func WithCheckpoint(ctx context.Context, st crm.Store, j *Job) error {
	if j.Kind != (Bulk{}).Kind() && j.Kind != (BulkUndo{}).Kind() {
		return nil
	}
	_, state, err := st.JobCheckpoint(ctx, j.ID)
	if err != nil || state == nil {
		return err
	}
	var saved, shown struct {
		Processed int `json:"processed"`
	}
	if json.Unmarshal(state, &saved) != nil {
		return nil
	}
	_ = json.Unmarshal(j.Progress, &shown)
	if saved.Processed > shown.Processed {
		j.Progress = state
		if j.Ended() {
			j.Result = state
		}
	}
	return nil
}
