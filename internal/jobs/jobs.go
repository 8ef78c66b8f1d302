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
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/store"
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
}

// Queue enqueues and reports jobs.
type Queue interface {
	Insert(ctx context.Context, args river.JobArgs) (int64, error)
	Get(ctx context.Context, id int64) (*Job, error)
	// Progress stores a running job's progress so readers see it now.
	Progress(ctx context.Context, id int64, progress any) error
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

type queue[TTx any] struct{ c *river.Client[TTx] }

// New builds the queue for db with the given workers.
func New(db *store.DB, workers *river.Workers, log *slog.Logger) (Queue, error) {
	cfg := &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 2}},
		Workers:           workers,
		Logger:            log,
		FetchPollInterval: 250 * time.Millisecond,
		JobTimeout:        -1, // sends to big segments take as long as they take; cancel stops them
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

func (q *queue[TTx]) Start(ctx context.Context) error { return q.c.Start(ctx) }
func (q *queue[TTx]) Stop(ctx context.Context) error  { return q.c.Stop(ctx) }

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
	if n := len(row.Errors); n > 0 && j.Status != Done {
		j.Error = row.Errors[n-1].Error
	}
	var who struct {
		UserID int64 `json:"user_id"`
	}
	_ = json.Unmarshal(row.EncodedArgs, &who)
	j.UserID = who.UserID
	return j
}
