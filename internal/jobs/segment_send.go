package jobs

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/outreach"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/webhooks"
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

// InsertOpts: each customer is recorded under the job before its message
// leaves and never written to again, so an attempt that failed (or whose
// process died) is retried safely: it writes only to those not yet recorded.
func (SegmentSend) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 5} }

// SegmentSendWorker runs segment sends through the outreach gate.
type SegmentSendWorker struct {
	river.WorkerDefaults[SegmentSend]
	Store    crm.Store
	Outreach *outreach.Service
	Queue    func() Queue // set once the queue exists (it needs its workers first)
	Options  Options
}

// Timeout is River's limit for one attempt (a slice of the send).
func (w *SegmentSendWorker) Timeout(*river.Job[SegmentSend]) time.Duration {
	return w.Options.timeout()
}

// Work sends for one slice, recording progress after every page of customers.
func (w *SegmentSendWorker) Work(ctx context.Context, job *river.Job[SegmentSend]) error {
	sctx, end := w.Options.attempt(ctx)
	return end(w.work(sctx, job))
}

func (w *SegmentSendWorker) work(ctx context.Context, job *river.Job[SegmentSend]) error {
	a := job.Args
	user, err := w.Store.GetUser(ctx, a.UserID)
	if err != nil {
		return err
	}
	bg := context.WithoutCancel(ctx)
	res, err := w.Outreach.SendToSegment(ctx, user, job.ID, a.SegmentID, a.Subject, a.Body, func(p outreach.SegmentResult) error {
		return w.Queue().Progress(bg, job.ID, p)
	})
	if res != nil {
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

// Open builds the queue for db with every worker of the product, with the
// default options.
func Open(db *store.DB, out *outreach.Service, cs *customers.Service, log *slog.Logger) (Queue, error) {
	return OpenWith(db, out, cs, log, Options{})
}

// OpenWith builds the queue for db with every worker of the product.
func OpenWith(db *store.DB, out *outreach.Service, cs *customers.Service, log *slog.Logger, o Options) (Queue, error) {
	workers := river.NewWorkers()
	var q Queue
	river.AddWorker(workers, &SegmentSendWorker{Store: db, Outreach: out, Queue: func() Queue { return q }, Options: o})
	river.AddWorker(workers, &BulkWorker{Store: db, Customers: cs, Queue: func() Queue { return q }, Options: o})
	wh := o.Webhooks
	if wh == nil {
		wh = webhooks.New(db, log, false)
	}
	river.AddWorker(workers, &UndoWorker{Store: db, Customers: cs, Queue: func() Queue { return q }, Options: o, Webhooks: wh})
	imp := NewImportWorker(db, func() Queue { return q })
	imp.Options = o
	imp.Webhooks = wh
	river.AddWorker(workers, imp)
	river.AddWorker(workers, &WebhookWorker{Webhooks: wh})
	q, err := New(db, workers, log, o)
	if err == nil {
		wh.Enqueue = WebhookEnqueuer(q)
	}
	return q, err
}
