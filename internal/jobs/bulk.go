package jobs

import (
	"context"
	"net/url"

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

// InsertOpts: bulk actions are safe to repeat (each chunk checks the state
// again), so a failed job is retried a few times.
func (Bulk) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 3} }

// BulkWorker runs bulk jobs through the customers service, so the rules are
// the same as for a small selection.
type BulkWorker struct {
	river.WorkerDefaults[Bulk]
	Store     crm.Store
	Customers *customers.Service
	Queue     func() Queue
}

// Work runs the action and records progress and skips after every chunk.
func (w *BulkWorker) Work(ctx context.Context, job *river.Job[Bulk]) error {
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
	res, err := w.Customers.Bulk(ctx, user, req, func(r customers.BulkResult, skips []customers.Skip) error {
		rows := make([]crm.BulkSkip, len(skips))
		for i, k := range skips {
			rows[i] = crm.BulkSkip{CustomerID: k.ID, Name: k.Name, Reason: k.Reason}
		}
		if err := w.Store.AddBulkSkips(ctx, job.ID, rows); err != nil {
			return err
		}
		return w.Queue().Progress(ctx, job.ID, r)
	})
	if res != nil {
		res.Skips = nil // kept in the store: GET /api/v1/jobs/{id}/skipped.csv
		if rerr := river.RecordOutput(ctx, output{Progress: res, Result: res}); rerr != nil && err == nil {
			err = rerr
		}
	}
	return err
}
