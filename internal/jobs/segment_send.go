package jobs

import (
	"context"
	"log/slog"

	"github.com/riverqueue/river"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/outreach"
	"github.com/acme/crm/internal/store"
)

// SegmentSend is an automated e-mail to every customer of a segment.
type SegmentSend struct {
	SegmentID int64  `json:"segment_id"`
	Subject   string `json:"subject"`
	Body      string `json:"body"`
	UserID    int64  `json:"user_id"`
}

// Kind names the job in River's table.
func (SegmentSend) Kind() string { return "segment_send" }

// InsertOpts: a send is not retried automatically (a retry would send twice).
func (SegmentSend) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 1} }

// SegmentSendWorker runs segment sends through the outreach gate.
type SegmentSendWorker struct {
	river.WorkerDefaults[SegmentSend]
	Store    crm.Store
	Outreach *outreach.Service
	Queue    func() Queue // set once the queue exists (it needs its workers first)
}

// Work sends, recording progress after every page of customers.
func (w *SegmentSendWorker) Work(ctx context.Context, job *river.Job[SegmentSend]) error {
	a := job.Args
	user, err := w.Store.GetUser(ctx, a.UserID)
	if err != nil {
		return err
	}
	res, err := w.Outreach.SendToSegment(ctx, user, a.SegmentID, a.Subject, a.Body, func(p outreach.SegmentResult) error {
		return w.Queue().Progress(ctx, job.ID, p)
	})
	if res != nil {
		if rerr := river.RecordOutput(ctx, output{Progress: res, Result: res}); rerr != nil && err == nil {
			err = rerr
		}
	}
	return err
}

// Open builds the queue for db with every worker of the product.
func Open(db *store.DB, out *outreach.Service, cs *customers.Service, log *slog.Logger) (Queue, error) {
	workers := river.NewWorkers()
	var q Queue
	river.AddWorker(workers, &SegmentSendWorker{Store: db, Outreach: out, Queue: func() Queue { return q }})
	river.AddWorker(workers, &BulkWorker{Store: db, Customers: cs, Queue: func() Queue { return q }})
	river.AddWorker(workers, NewImportWorker(db, func() Queue { return q }))
	q, err := New(db, workers, log)
	return q, err
}
