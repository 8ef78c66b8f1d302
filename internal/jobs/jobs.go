// Package jobs runs background work on River, on the same database as the
// data (riversqlite or riverpgxv5), so jobs are durable, retried, and shared
// by every process on one PostgreSQL database. It hides River's transaction
// type behind one small interface for both engines.
package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/webhooks"
)

// Job statuses of the contract.
const (
	Queued   = "queued"
	Running  = "running"
	Done     = "done"
	Failed   = "failed"
	Canceled = "canceled"
)

// Job is a background job as the API shows it.
type Job struct {
	ID       int64           `json:"id"`
	Kind     string          `json:"kind"`
	Status   string          `json:"status" enum:"queued,running,done,failed,canceled"`
	Progress json.RawMessage `json:"progress"`
	Result   json.RawMessage `json:"result"`
	Error    string          `json:"error,omitempty"`
	UserID   int64           `json:"-"`
	ImportID int64           `json:"-"` // an import job's import
	// Undo says, for a bulk action's job, until when and whether it can be
	// undone (set by the API, which knows who asks).
	Undo *customers.UndoStatus `json:"undo,omitempty"`
}

// Ended reports whether the job has finished one way or another.
func (j *Job) Ended() bool { return j.Status == Done || j.Status == Failed || j.Status == Canceled }

// RescueAfterDefault is how long a job may go without starting a new attempt
// before River's rescuer takes its process for dead and runs it again.
const RescueAfterDefault = 2 * time.Minute

// Options tune the queue.
type Options struct {
	// RescueAfter bounds how long a job interrupted by a crash (kill -9, a
	// lost machine) or by a shutdown that outlasted its grace period waits
	// before it resumes (plus up to 30 s, the rescuer's interval). Each
	// attempt of a job works for a quarter of it, saves where it stands and
	// snoozes (a new attempt at once, not counted against MaxAttempts), so a
	// live job is never taken for dead; River's per-kind timeout is half of
	// it. Zero means RescueAfterDefault.
	RescueAfter time.Duration
	// Webhooks sends the webhook deliveries and the events jobs end with
	// (import.finished, bulk.undone); nil: one over the same database that
	// refuses private addresses.
	Webhooks *webhooks.Service
}

// slice is how long one attempt works before it snoozes to go on.
func (o Options) slice() time.Duration { return o.rescueAfter() / 4 }

// timeout is River's per-kind job timeout: the context of an attempt that
// overran its slice (one very slow chunk) is cancelled here.
func (o Options) timeout() time.Duration { return o.rescueAfter() / 2 }

func (o Options) rescueAfter() time.Duration {
	if o.RescueAfter <= 0 {
		return RescueAfterDefault
	}
	return o.RescueAfter
}

// attempt bounds one attempt of a job to its slice: work under the returned
// context, then call end with the error the work returned to get what Work
// returns: a snooze when only the slice ran out (the job goes on at once,
// from its checkpoint), the error itself otherwise (River cancels the job
// when it was cancelled, makes it available again on a shutdown, retries it
// after an error).
func (o Options) attempt(ctx context.Context) (context.Context, func(error) error) {
	sctx, cancel := context.WithTimeout(ctx, o.slice())
	return sctx, func(err error) error {
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() == nil && sctx.Err() != nil {
			return river.JobSnooze(0)
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) && !errors.Is(context.Cause(ctx), river.ErrJobCancelledRemotely) {
			return river.JobSnooze(0) // River's timeout: one chunk overran; go on from the checkpoint
		}
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err) // so that River sees a shutdown as one
		}
		return err
	}
}

// Queue enqueues and reports jobs.
type Queue interface {
	Insert(ctx context.Context, args river.JobArgs) (int64, error)
	// InsertHeld inserts a job that no worker takes before Release (or an
	// hour: a process that died in between left it to finish): the caller
	// runs its first part itself (RunBulkInline).
	InsertHeld(ctx context.Context, args river.JobArgs) (int64, error)
	// Release makes a held job available now.
	Release(ctx context.Context, id int64) error
	Get(ctx context.Context, id int64) (*Job, error)
	// Cancel stops a job: at once when it waits, at its next chunk when it
	// runs (its work so far stays, counted), and, when its process died, as
	// soon as River's rescuer finds it. A conflict when it has ended.
	Cancel(ctx context.Context, id int64) (*Job, error)
	// Progress stores a running job's progress so readers see it now.
	Progress(ctx context.Context, id int64, progress any) error
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

type queue[TTx any] struct{ c *river.Client[TTx] }

// New builds the queue for db with the given workers.
func New(db *store.DB, workers *river.Workers, log *slog.Logger, o Options) (Queue, error) {
	cfg := &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}},
		Workers:           workers,
		Logger:            log,
		FetchPollInterval: 250 * time.Millisecond,
		// Every worker works in slices (Options), so an attempt is short
		// and a job whose attempt is older than RescueAfter lost its
		// process: the rescuer makes it retryable and it resumes from its
		// checkpoint.
		JobTimeout:           o.timeout(),
		RescueStuckJobsAfter: o.rescueAfter(),
	}
	if db.Pool != nil {
		c, err := river.NewClient(riverpgxv5.New(db.Pool), cfg)
		if err != nil {
			return nil, err
		}
		return &queue[pgx.Tx]{c: c}, nil
	}
	c, err := river.NewClient(riversqlite.New(db.SQL), cfg)
	if err != nil {
		return nil, err
	}
	return &queue[*sql.Tx]{c: c}, nil
}

func (q *queue[TTx]) Insert(ctx context.Context, args river.JobArgs) (int64, error) {
	res, err := q.c.Insert(ctx, args, nil)
	if err != nil {
		return 0, err
	}
	return res.Job.ID, nil
}

func (q *queue[TTx]) InsertHeld(ctx context.Context, args river.JobArgs) (int64, error) {
	res, err := q.c.Insert(ctx, args, &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)})
	if err != nil {
		return 0, err
	}
	return res.Job.ID, nil
}

func (q *queue[TTx]) Release(ctx context.Context, id int64) error {
	_, err := q.c.JobRetry(ctx, id)
	return err
}

func (q *queue[TTx]) Progress(ctx context.Context, id int64, progress any) error {
	_, err := q.c.JobUpdate(ctx, id, &river.JobUpdateParams{Output: output{Progress: progress}})
	return err
}

func (q *queue[TTx]) Get(ctx context.Context, id int64) (*Job, error) {
	row, err := q.c.JobGet(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return nil, crm.NotFound("job")
	}
	if err != nil {
		return nil, err
	}
	return jobOf(row), nil
}

func (q *queue[TTx]) Cancel(ctx context.Context, id int64) (*Job, error) {
	j, err := q.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if j.Ended() {
		return nil, crm.Conflict("The job has already ended (%s).", j.Status)
	}
	row, err := q.c.JobCancel(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return nil, crm.NotFound("job")
	}
	if err != nil {
		return nil, err
	}
	if row.State == rivertype.JobStateCompleted || row.State == rivertype.JobStateDiscarded {
		return nil, crm.Conflict("The job has already ended (%s).", jobOf(row).Status)
	}
	return jobOf(row), nil
}

func (q *queue[TTx]) Start(ctx context.Context) error {
	events, unsubscribe := q.c.Subscribe(jobEvents...) // metrics; River closes it at Stop
	go observe(events)
	if err := q.c.Start(ctx); err != nil {
		unsubscribe()
		return err
	}
	return nil
}

// Stop cancels the running jobs' contexts: each stops after the chunk (or
// message, or import transaction) it is in, which commits with its
// checkpoint, and River makes it available again, so it goes on from there
// at the next start (of any process on the database).
func (q *queue[TTx]) Stop(ctx context.Context) error { return q.c.StopAndCancel(ctx) }

// output is what a job records: its progress while running, its result at the end.
type output struct {
	Progress any `json:"progress,omitempty"`
	Result   any `json:"result,omitempty"`
}

// owned is implemented by job args that remember who started them.
type owned interface{ Owner() int64 }

func jobOf(row *rivertype.JobRow) *Job {
	j := &Job{ID: row.ID, Kind: row.Kind, Progress: json.RawMessage("null"), Result: json.RawMessage("null")}
	switch row.State {
	case rivertype.JobStateAvailable, rivertype.JobStateScheduled, rivertype.JobStatePending, rivertype.JobStateRetryable:
		j.Status = Queued
		if row.AttemptedAt != nil {
			j.Status = Running // between two slices, or resuming after a crash
		}
	case rivertype.JobStateRunning:
		j.Status = Running
	case rivertype.JobStateCompleted:
		j.Status = Done
	case rivertype.JobStateCancelled:
		j.Status = Canceled
	default:
		j.Status = Failed
	}
	var out struct {
		Progress json.RawMessage `json:"progress"`
		Result   json.RawMessage `json:"result"`
	}
	if b := row.Output(); len(b) > 0 && json.Unmarshal(b, &out) == nil {
		if len(out.Progress) > 0 {
			j.Progress = out.Progress
		}
		if len(out.Result) > 0 {
			j.Result = out.Result
		}
	}
	if n := len(row.Errors); n > 0 && (j.Status == Failed || j.Status == Canceled) {
		j.Error = row.Errors[n-1].Error
	}
	var who struct {
		UserID   int64 `json:"user_id"`
		ImportID int64 `json:"import_id"`
	}
	_ = json.Unmarshal(row.EncodedArgs, &who)
	j.UserID, j.ImportID = who.UserID, who.ImportID
	return j
}
