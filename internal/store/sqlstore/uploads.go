package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/acme/crm/internal/crm"
)

// PutUploadChunk stores one chunk of an upload (upload_chunks, migration 00022).
func (s *Store) PutUploadChunk(ctx context.Context, uploadID string, seq int, data []byte, now time.Time) error {
	_, err := s.wq().ExecContext(ctx,
		`INSERT INTO upload_chunks (upload_id, seq, data, created_at) VALUES ($1, $2, $3, $4)`,
		uploadID, seq, data, ts(now))
	return err
}

// UploadChunk returns one chunk of an upload, ErrNotFound past its end.
func (s *Store) UploadChunk(ctx context.Context, uploadID string, seq int) ([]byte, error) {
	var b []byte
	err := s.rq().QueryRowContext(ctx,
		`SELECT data FROM upload_chunks WHERE upload_id = $1 AND seq = $2`, uploadID, seq).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, crm.ErrNotFound
	}
	return b, err
}

// DeleteUpload deletes every chunk of an upload.
func (s *Store) DeleteUpload(ctx context.Context, uploadID string) error {
	_, err := s.wq().ExecContext(ctx, `DELETE FROM upload_chunks WHERE upload_id = $1`, uploadID)
	return err
}

// UploadsBefore lists the uploads whose newest chunk was stored before t.
func (s *Store) UploadsBefore(ctx context.Context, t time.Time) ([]string, error) {
	return queryList(ctx, s.rq(), func(r *sql.Rows) (string, error) {
		var id string
		return id, r.Scan(&id)
	}, `SELECT upload_id FROM upload_chunks GROUP BY upload_id HAVING MAX(created_at) < $1 ORDER BY upload_id`, ts(t))
}
