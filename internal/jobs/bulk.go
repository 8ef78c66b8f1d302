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
	after, state, err := w.Store.JobCheckpoint(ctx, job.ID)
	if err != nil {
		return err
	}
	if state != nil {
		var r customers.BulkResult
		if err := json.Unmarshal(state, &r); err != nil {
			return err
		}
		r.Last = after
		req.Resume = &r
	}
	bg := context.WithoutCancel(ctx) // a chunk begun commits whole
	req.InChunk = func(tx crm.Store, r customers.BulkResult, skips []customers.Skip) error {
		rows := make([]crm.BulkSkip, len(skips))
		for i, k := range skips {
			rows[i] = crm.BulkSkip{CustomerID: k.ID, Name: k.Name, Reason: k.Reason}
		}
		if err := tx.AddBulkSkips(bg, job.ID, rows); err != nil {
			return err
		}
		r.Skips = nil
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		// conditional on the checkpoint this run started from: a second
		// run of the job (a rescue of a live one) cannot do a chunk again
		if err := tx.SaveJobCheckpoint(bg, job.ID, after, r.Last, b, time.Now()); err != nil {
			return err
		}
		after = r.Last
		return nil
	}
	res, err := w.Customers.Bulk(ctx, user, req, func(r customers.BulkResult, _ []customers.Skip) error {
		return w.Queue().Progress(bg, job.ID, r)
	})
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
