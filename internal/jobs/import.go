package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/importer"
	"github.com/acme/crm/internal/store"
	"github.com/acme/crm/internal/webhooks"
)

// Import runs one CSV import (importer.Service.Run) in the background.
type Import struct {
	ImportID int64 `json:"import_id"`
	UserID   int64 `json:"user_id"`
}

// Kind names the job in River's table.
func (Import) Kind() string { return "import" }

// InsertOpts: a failed attempt (database gone, shutdown) is retried; each
// attempt resumes from the position saved with the last batch.
func (Import) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 10} }

// ImportWorker runs imports, recording progress after every batch.
type ImportWorker struct {
	river.WorkerDefaults[Import]
	Importer *importer.Service
	Queue    func() Queue
	Options  Options
	Webhooks *webhooks.Service // import.finished; nil: none
}

// Timeout is River's limit for one attempt (a slice of the import).
func (w *ImportWorker) Timeout(*river.Job[Import]) time.Duration { return w.Options.timeout() }

// NewImportWorker builds the worker over db.
func NewImportWorker(db *store.DB, q func() Queue) *ImportWorker {
	return &ImportWorker{Importer: importer.New(db, "", nil), Queue: q}
}

// Work runs the import; progress goes to the imports row (the source of
// truth, written with each batch) and to the job's output.
// Each attempt works for one slice (Run stops after the transaction that
// ends it) and snoozes to go on.
func (w *ImportWorker) Work(ctx context.Context, job *river.Job[Import]) error {
	last := time.Time{}
	sctx, end := w.Options.attempt(ctx)
	bg := context.WithoutCancel(ctx)
	err := end(w.Importer.Run(sctx, job.Args.ImportID, func(j crm.ImportJob) {
		if time.Since(last) < time.Second && j.EndedAt == nil {
			return
		}
		last = time.Now()
		_ = w.Queue().Progress(bg, job.ID, map[string]any{"import_id": j.ID, "processed": j.Processed, "total": j.Total})
	}))
	if err != nil {
		return err
	}
	// Ended: the event (its id is the import's, so a retry makes no second one).
	return emitImportFinished(bg, w.Webhooks, w.Importer.Store, job.Args.ImportID)
}

// ImportEnqueuer returns the function that starts an import's job on q.
func ImportEnqueuer(q Queue) func(ctx context.Context, importID int64) error {
	return func(ctx context.Context, importID int64) error {
		_, err := q.Insert(ctx, Import{ImportID: importID})
		return err
	}
}
