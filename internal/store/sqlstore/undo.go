package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"time"

	"github.com/acme/crm/internal/crm"
)

// Bulk actions and what they changed, for their undo (migration 00014).

const bulkActionCols = `id, user_id, action, detail, done, created_at, finished_at, undo_requested_at, undo_job_id`

func scanBulkAction(r interface{ Scan(...any) error }) (*crm.BulkAction, error) {
	var a crm.BulkAction
	var fin, undo sql.NullTime
	var job sql.NullInt64
	if err := r.Scan(&a.ID, &a.UserID, &a.Action, &a.Detail, &a.Done, &a.CreatedAt, &fin, &undo, &job); err != nil {
		return nil, err
	}
	a.CreatedAt = a.CreatedAt.UTC()
	a.FinishedAt, a.UndoRequestedAt, a.UndoJobID = timePtr(fin), timePtr(undo), int64Ptr(job)
	return &a, nil
}

func (s *Store) CreateBulkAction(ctx context.Context, a *crm.BulkAction) error {
	_, err := s.wq().ExecContext(ctx, `INSERT INTO bulk_actions (id, user_id, action, detail, created_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO NOTHING`, a.ID, a.UserID, a.Action, a.Detail, ts(a.CreatedAt))
	return err
}

func (s *Store) GetBulkAction(ctx context.Context, id int64) (*crm.BulkAction, error) {
	a, err := scanBulkAction(s.rq().QueryRowContext(ctx, `SELECT `+bulkActionCols+` FROM bulk_actions WHERE id = $1`, id))
	return a, notFound(err, "bulk action")
}

func (s *Store) ListBulkActions(ctx context.Context, userID int64, since time.Time, limit int) ([]crm.BulkAction, error) {
	q := `SELECT ` + bulkActionCols + ` FROM bulk_actions WHERE created_at >= $1`
	args := []any{ts(since), limit}
	if userID != 0 {
		q += ` AND user_id = $3`
		args = append(args, userID)
	}
	return queryList(ctx, s.rq(), func(r *sql.Rows) (crm.BulkAction, error) {
		a, err := scanBulkAction(r)
		if err != nil {
			return crm.BulkAction{}, err
		}
		return *a, nil
	}, q+` ORDER BY created_at DESC, id DESC LIMIT $2`, args...)
}

func (s *Store) UpdateBulkAction(ctx context.Context, id int64, done int, finishedAt *time.Time) error {
	_, err := s.wq().ExecContext(ctx, `UPDATE bulk_actions SET done = $2, finished_at = COALESCE(finished_at, $3) WHERE id = $1`, id, done, tsp(finishedAt))
	return err
}

func nullStr(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

// AddBulkChanges writes one row per customer, set-based like AddActivityFor.
func (s *Store) AddBulkChanges(ctx context.Context, actionID int64, ids []int64, field string, old, new *string) error {
	return inChunks(ids, func(part []int64) error {
		_, err := s.wq().ExecContext(ctx, `INSERT INTO bulk_changes (action_id, customer_id, field, old_value, new_value)
			SELECT $1, c.id, $2, $3, $4 FROM customers c WHERE c.id IN `+inList(part)+` ORDER BY c.id`, s.once(actionID, field, nullStr(old), nullStr(new))...)
		return err
	})
}

func (s *Store) BulkChanges(ctx context.Context, actionID, afterCustomer int64, limit int) ([]crm.BulkChange, error) {
	// the next limit customers, whole (a customer may have several fields)
	var upto int64
	err := s.rq().QueryRowContext(ctx, `SELECT COALESCE(MAX(customer_id), 0) FROM (SELECT customer_id FROM bulk_changes
		WHERE action_id = $1 AND customer_id > $2 GROUP BY customer_id ORDER BY customer_id LIMIT $3) n`, actionID, afterCustomer, limit).Scan(&upto)
	if err != nil || upto == 0 {
		return nil, err
	}
	return queryList(ctx, s.rq(), func(r *sql.Rows) (crm.BulkChange, error) {
		var c crm.BulkChange
		var old, new sql.NullString
		if err := r.Scan(&c.CustomerID, &c.Field, &old, &new); err != nil {
			return c, err
		}
		if old.Valid {
			c.Old = &old.String
		}
		if new.Valid {
			c.New = &new.String
		}
		return c, nil
	}, `SELECT customer_id, field, old_value, new_value FROM bulk_changes
		WHERE action_id = $1 AND customer_id > $2 AND customer_id <= $3 ORDER BY customer_id, field`, actionID, afterCustomer, upto)
}

func (s *Store) ClaimBulkUndo(ctx context.Context, actionID int64, now time.Time) error {
	res, err := s.wq().ExecContext(ctx, `UPDATE bulk_actions SET undo_requested_at = $2 WHERE id = $1 AND undo_requested_at IS NULL`, actionID, ts(now))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		if _, err := s.GetBulkAction(ctx, actionID); err != nil {
			return err
		}
		return crm.Conflict("This bulk action has already been undone.")
	}
	return nil
}

func (s *Store) SetBulkUndoJob(ctx context.Context, actionID int64, jobID *int64) error {
	if jobID == nil {
		return s.exec1(ctx, "bulk action", `UPDATE bulk_actions SET undo_requested_at = NULL, undo_job_id = NULL WHERE id = $1`, actionID)
	}
	return s.exec1(ctx, "bulk action", `UPDATE bulk_actions SET undo_job_id = $2 WHERE id = $1`, actionID, *jobID)
}

func (s *Store) BulkUnarchive(ctx context.Context, ids []int64, archivedAt time.Time, now time.Time) ([]int64, error) {
	return s.updateReturning(ctx, ids, `UPDATE customers SET archived_at = NULL, updated_at = $2
		WHERE merged_into IS NULL AND archived_at = $1 AND id IN `, ts(archivedAt), ts(now))
}

func (s *Store) BulkRemoveTag(ctx context.Context, ids []int64, tagID int64, now time.Time) ([]int64, error) {
	var removed []int64
	err := inChunks(ids, func(part []int64) error {
		gone, err := queryList(ctx, s.wq(), func(r *sql.Rows) (int64, error) {
			var id int64
			return id, r.Scan(&id)
		}, `DELETE FROM customer_tags WHERE tag_id = $1 AND customer_id IN `+inList(part)+` RETURNING customer_id`, s.once(tagID)...)
		if err != nil || len(gone) == 0 {
			return err
		}
		if _, err := s.wq().ExecContext(ctx, `UPDATE customers SET updated_at = $1 WHERE id IN `+inList(gone), s.once(ts(now))...); err != nil {
			return err
		}
		removed = append(removed, gone...)
		return nil
	})
	slices.Sort(removed)
	return removed, err
}
