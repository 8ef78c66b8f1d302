package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/acme/crm/internal/crm"
)

// Background jobs that resume after a crash: a bulk job's checkpoint and a
// segment send's deliveries (migration 00009).

func (s *Store) JobCheckpoint(ctx context.Context, jobID int64) (int64, []byte, error) {
	var after int64
	var state string
	err := s.rq().QueryRowContext(ctx, `SELECT after_id, state FROM job_checkpoints WHERE job_id = $1`, jobID).Scan(&after, &state)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, err
	}
	return after, []byte(state), nil
}

func (s *Store) SaveJobCheckpoint(ctx context.Context, jobID, prevAfter, afterID int64, state []byte, now time.Time) error {
	res, err := s.wq().ExecContext(ctx,
		`INSERT INTO job_checkpoints (job_id, after_id, state, updated_at) VALUES ($1, $3, $4, $5)
		 ON CONFLICT (job_id) DO UPDATE SET after_id = excluded.after_id, state = excluded.state, updated_at = excluded.updated_at
		 WHERE job_checkpoints.after_id = $2`, jobID, prevAfter, afterID, string(state), ts(now))
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return crm.Conflict("job %d was moved on by another run", jobID)
	}
	return nil
}

func (s *Store) SegmentDeliveries(ctx context.Context, jobID int64, customerIDs []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(customerIDs))
	if len(customerIDs) == 0 {
		return out, nil
	}
	rows, err := s.rq().QueryContext(ctx, `SELECT customer_id, status FROM segment_deliveries WHERE job_id = $1 AND customer_id IN `+inList(customerIDs), jobID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var st string
		if err := rows.Scan(&id, &st); err != nil {
			return nil, err
		}
		out[id] = st
	}
	return out, rows.Err()
}

func (s *Store) ClaimDelivery(ctx context.Context, jobID, customerID int64, contactID *int64, status string, now time.Time) (bool, error) {
	res, err := s.wq().ExecContext(ctx,
		`INSERT INTO segment_deliveries (job_id, customer_id, contact_id, status, at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
		jobID, customerID, nullInt(contactID), status, ts(now))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

func (s *Store) SetDeliveryStatus(ctx context.Context, jobID, customerID int64, status string) error {
	return s.exec1(ctx, "delivery", `UPDATE segment_deliveries SET status = $3 WHERE job_id = $1 AND customer_id = $2`, jobID, customerID, status)
}

func (s *Store) DeliveryCounts(ctx context.Context, jobID int64) (map[string]int, error) {
	rows, err := s.rq().QueryContext(ctx, `SELECT status, count(*) FROM segment_deliveries WHERE job_id = $1 GROUP BY status`, jobID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}
