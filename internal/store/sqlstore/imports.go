package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/acme/crm/internal/crm"
)

const importCols = `id, user_id, filename, path, size, status, mode, mapping, total, processed, created, updated, skipped, failed,
	byte_offset, error, created_at, updated_at, ended_at`

func scanImport(r interface{ Scan(...any) error }) (crm.ImportJob, error) {
	var j crm.ImportJob
	var mapping string
	var ended sql.NullTime
	if err := r.Scan(&j.ID, &j.UserID, &j.Filename, &j.Path, &j.Size, &j.Status, &j.Mode, &mapping, &j.Total, &j.Processed,
		&j.Created, &j.Updated, &j.Skipped, &j.Failed, &j.Offset, &j.Error, &j.CreatedAt, &j.UpdatedAt, &ended); err != nil {
		return j, err
	}
	j.CreatedAt, j.UpdatedAt, j.EndedAt = j.CreatedAt.UTC(), j.UpdatedAt.UTC(), timePtr(ended)
	return j, json.Unmarshal([]byte(mapping), &j.Mapping)
}

func (s *Store) CreateImport(ctx context.Context, j *crm.ImportJob) error {
	m, err := json.Marshal(j.Mapping)
	if err != nil {
		return err
	}
	j.CreatedAt = ts(j.CreatedAt)
	j.UpdatedAt = j.CreatedAt
	return s.wq().QueryRowContext(ctx,
		`INSERT INTO imports (user_id, filename, path, size, status, mode, mapping, created_at, updated_at)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id`,
		j.UserID, j.Filename, j.Path, j.Size, j.Status, j.Mode, string(m), j.CreatedAt).Scan(&j.ID)
}

func (s *Store) GetImport(ctx context.Context, id int64) (*crm.ImportJob, error) {
	j, err := scanImport(s.rq().QueryRowContext(ctx, `SELECT `+importCols+` FROM imports WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "import")
	}
	return &j, nil
}

func (s *Store) UpdateImport(ctx context.Context, j *crm.ImportJob) error {
	m, err := json.Marshal(j.Mapping)
	if err != nil {
		return err
	}
	j.UpdatedAt = ts(j.UpdatedAt)
	return s.exec1(ctx, "import",
		`UPDATE imports SET status = $2, mode = $3, mapping = $4, total = $5, processed = $6, created = $7, updated = $8,
		        skipped = $9, failed = $10, byte_offset = $11, error = $12, updated_at = $13, ended_at = $14 WHERE id = $1`,
		j.ID, j.Status, j.Mode, string(m), j.Total, j.Processed, j.Created, j.Updated, j.Skipped, j.Failed, j.Offset, j.Error,
		j.UpdatedAt, tsp(j.EndedAt))
}

func (s *Store) ListImports(ctx context.Context, limit int) ([]crm.ImportJob, error) {
	if limit <= 0 {
		limit = 100
	}
	return queryList(ctx, s.rq(), func(r *sql.Rows) (crm.ImportJob, error) { return scanImport(r) },
		`SELECT `+importCols+` FROM imports ORDER BY id DESC LIMIT $1`, limit)
}
