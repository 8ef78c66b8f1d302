package sqlstore

import (
	"context"

	"github.com/acme/crm/internal/crm"
)

// GetAvatar returns the cached Gravatar answer for a hash.
func (s *Store) GetAvatar(ctx context.Context, hash string) (*crm.Avatar, error) {
	a := crm.Avatar{Hash: hash}
	var b []byte
	err := s.rq().QueryRowContext(ctx,
		`SELECT fetched_at, content_type, bytes FROM avatar_cache WHERE hash = $1`, hash).Scan(&a.FetchedAt, &a.ContentType, &b)
	if err != nil {
		return nil, notFound(err, "avatar")
	}
	a.FetchedAt = a.FetchedAt.UTC()
	if b != nil {
		a.Bytes = b
	}
	return &a, nil
}

// PutAvatar stores or replaces the cached answer for a hash.
func (s *Store) PutAvatar(ctx context.Context, a crm.Avatar) error {
	var b any // NULL: no picture (an empty []byte would be a picture of no bytes)
	if a.Bytes != nil {
		b = a.Bytes
	}
	_, err := s.wq().ExecContext(ctx,
		`INSERT INTO avatar_cache (hash, fetched_at, content_type, bytes) VALUES ($1, $2, $3, $4)
		 ON CONFLICT (hash) DO UPDATE SET fetched_at = excluded.fetched_at, content_type = excluded.content_type, bytes = excluded.bytes`,
		a.Hash, ts(a.FetchedAt), a.ContentType, b)
	return err
}
