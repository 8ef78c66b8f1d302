package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/webhooks"
)

// WebhookSend sends one webhook delivery (webhooks.Service.Deliver).
type WebhookSend struct {
	DeliveryID int64 `json:"delivery_id"`
}

// Kind names the job in River's table.
func (WebhookSend) Kind() string { return "webhook_send" }

// InsertOpts: retried for 24 hours (Deliver stops at that age, well before
// MaxAttempts); one live job per delivery, so a "send again" while it is
// still being retried does not send it twice at once.
func (WebhookSend) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 200, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable, rivertype.JobStateRunning, rivertype.JobStateScheduled}}}
}

// WebhookWorker sends deliveries.
type WebhookWorker struct {
	river.WorkerDefaults[WebhookSend]
	Webhooks *webhooks.Service
}

// Timeout bounds one attempt (the HTTP client's own limit is shorter).
func (w *WebhookWorker) Timeout(*river.Job[WebhookSend]) time.Duration { return 30 * time.Second }

// NextRetry backs off exponentially (webhooks.Service.NextRetry).
func (w *WebhookWorker) NextRetry(job *river.Job[WebhookSend]) time.Time {
	return time.Now().Add(w.Webhooks.NextRetry(job.Attempt))
}

// Work makes one attempt.
func (w *WebhookWorker) Work(ctx context.Context, job *river.Job[WebhookSend]) error {
	return w.Webhooks.Deliver(ctx, job.Args.DeliveryID)
}

// WebhookEnqueuer returns the function that starts the send jobs of deliveries on q.
func WebhookEnqueuer(q Queue) func(ctx context.Context, ids []int64) error {
	return func(ctx context.Context, ids []int64) error {
		args := make([]river.InsertManyParams, len(ids))
		for i, id := range ids {
			args[i] = river.InsertManyParams{Args: WebhookSend{DeliveryID: id}}
		}
		switch q := q.(type) {
		case interface {
			insertMany(context.Context, []river.InsertManyParams) error
		}:
			return q.insertMany(ctx, args)
		default:
			for _, a := range args {
				if _, err := q.Insert(ctx, a.Args); err != nil {
					return err
				}
			}
			return nil
		}
	}
}

func (q *queue[TTx]) insertMany(ctx context.Context, args []river.InsertManyParams) error {
	_, err := q.c.InsertMany(ctx, args)
	return err
}

// emitImportFinished sends import.finished once an import has ended done.
func emitImportFinished(ctx context.Context, wh *webhooks.Service, st crm.Store, importID int64) error {
	if wh == nil {
		return nil
	}
	j, err := st.GetImport(ctx, importID)
	if err != nil || j.Status != crm.ImportDone {
		return err
	}
	data, _ := json.Marshal(map[string]any{"import_id": j.ID, "filename": j.Filename, "user_id": j.UserID, "status": j.Status,
		"total": j.Total, "processed": j.Processed, "created": j.Created, "updated": j.Updated, "skipped": j.Skipped, "failed": j.Failed})
	at := j.UpdatedAt
	if j.EndedAt != nil {
		at = *j.EndedAt
	}
	return wh.Emit(ctx, webhooks.Event{ID: fmt.Sprintf("evt_import_%d", j.ID), Type: webhooks.ImportFinished, At: at.UTC(), Data: data})
}

// emitBulkUndone sends bulk.undone once an undo job has ended.
func emitBulkUndone(ctx context.Context, wh *webhooks.Service, jobID int64, a BulkUndo, res *customers.BulkResult, at time.Time) error {
	if wh == nil || res == nil {
		return nil
	}
	data, _ := json.Marshal(map[string]any{"job_id": jobID, "bulk_job_id": a.ActionID, "user_id": a.UserID, "action": res.Action,
		"done": res.Done, "skipped": res.Skipped})
	return wh.Emit(ctx, webhooks.Event{ID: fmt.Sprintf("evt_undo_%d", jobID), Type: webhooks.BulkUndone, At: at.UTC(), Data: data})
}
