package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/acme/crm/internal/crm"
)

const endpointCols = `id, url, events, secret, enabled, disabled_reason, failing_since, COALESCE(created_by, 0), created_at, updated_at`

func scanEndpoint(row interface{ Scan(...any) error }) (*crm.WebhookEndpoint, error) {
	var e crm.WebhookEndpoint
	var events string
	var failing sql.NullTime
	if err := row.Scan(&e.ID, &e.URL, &events, &e.Secret, &e.Enabled, &e.DisabledReason, &failing, &e.CreatedBy, &e.CreatedAt, &e.UpdatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(events), &e.Events); err != nil {
		return nil, fmt.Errorf("webhook endpoint %d events: %w", e.ID, err)
	}
	e.FailingSince = timePtr(failing)
	e.CreatedAt, e.UpdatedAt = e.CreatedAt.UTC(), e.UpdatedAt.UTC()
	return &e, nil
}

func eventsJSON(events []string) string {
	if events == nil {
		events = []string{}
	}
	b, _ := json.Marshal(events)
	return string(b)
}

func (s *Store) CreateWebhookEndpoint(ctx context.Context, e *crm.WebhookEndpoint) error {
	e.CreatedAt = ts(e.CreatedAt)
	e.UpdatedAt = e.CreatedAt
	var by any
	if e.CreatedBy != 0 {
		by = e.CreatedBy
	}
	return s.wq().QueryRowContext(ctx, `INSERT INTO webhook_endpoints (url, events, secret, enabled, disabled_reason, created_by, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id`,
		e.URL, eventsJSON(e.Events), e.Secret, e.Enabled, e.DisabledReason, by, e.CreatedAt).Scan(&e.ID)
}

func (s *Store) GetWebhookEndpoint(ctx context.Context, id int64) (*crm.WebhookEndpoint, error) {
	e, err := scanEndpoint(s.rq().QueryRowContext(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints WHERE id = $1`, id))
	return e, notFound(err, "webhook endpoint")
}

func (s *Store) ListWebhookEndpoints(ctx context.Context) ([]crm.WebhookEndpoint, error) {
	return queryList(ctx, s.rq(), func(r *sql.Rows) (crm.WebhookEndpoint, error) {
		e, err := scanEndpoint(r)
		if err != nil {
			return crm.WebhookEndpoint{}, err
		}
		return *e, nil
	}, `SELECT `+endpointCols+` FROM webhook_endpoints ORDER BY id`)
}

func (s *Store) LockWebhookEndpoint(ctx context.Context, id int64) error {
	return s.lockRows(ctx, "LockWebhookEndpoint", `SELECT id FROM webhook_endpoints WHERE id = $1`, id)
}

func (s *Store) UpdateWebhookEndpoint(ctx context.Context, e *crm.WebhookEndpoint) error {
	e.UpdatedAt = ts(e.UpdatedAt)
	return s.exec1(ctx, "webhook endpoint", `UPDATE webhook_endpoints SET url = $2, events = $3, secret = $4, enabled = $5,
		disabled_reason = $6, failing_since = $7, updated_at = $8 WHERE id = $1`,
		e.ID, e.URL, eventsJSON(e.Events), e.Secret, e.Enabled, e.DisabledReason, tsp(e.FailingSince), e.UpdatedAt)
}

func (s *Store) DeleteWebhookEndpoint(ctx context.Context, id int64) error {
	return s.inTx(ctx, func(tx *Store) error {
		// SQLite enforces no foreign keys unless asked: remove what hangs off it here.
		if _, err := tx.wq().ExecContext(ctx, `DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE endpoint_id = $1)`, id); err != nil {
			return err
		}
		if _, err := tx.wq().ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE endpoint_id = $1`, id); err != nil {
			return err
		}
		return tx.exec1(ctx, "webhook endpoint", `DELETE FROM webhook_endpoints WHERE id = $1`, id)
	})
}

func (s *Store) WebhookEndpointResult(ctx context.Context, id int64, ok bool, now time.Time) (*time.Time, error) {
	var failing sql.NullTime
	var err error
	if ok {
		err = s.wq().QueryRowContext(ctx, `UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 RETURNING failing_since`, id).Scan(&failing)
	} else {
		err = s.wq().QueryRowContext(ctx, `UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $2) WHERE id = $1 RETURNING failing_since`, id, ts(now)).Scan(&failing)
	}
	return timePtr(failing), notFound(err, "webhook endpoint")
}

func (s *Store) AddWebhookDeliveries(ctx context.Context, ds []*crm.WebhookDelivery) error {
	for _, d := range ds {
		d.CreatedAt = ts(d.CreatedAt)
		if d.Status == "" {
			d.Status = crm.WebhookPending
		}
		err := s.wq().QueryRowContext(ctx, `INSERT INTO webhook_deliveries (endpoint_id, event_id, type, events, body, status, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (endpoint_id, event_id) DO NOTHING RETURNING id`,
			d.EndpointID, d.EventID, d.Type, d.Events, d.Body, d.Status, d.CreatedAt).Scan(&d.ID)
		if errors.Is(err, sql.ErrNoRows) {
			d.ID = 0 // made before
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

const deliveryCols = `id, endpoint_id, event_id, type, events, body, status, attempts, last_code, last_error, last_ms, last_at, created_at`

func scanDelivery(row interface{ Scan(...any) error }) (crm.WebhookDelivery, error) {
	var d crm.WebhookDelivery
	var last sql.NullTime
	err := row.Scan(&d.ID, &d.EndpointID, &d.EventID, &d.Type, &d.Events, &d.Body, &d.Status, &d.Attempts, &d.LastCode, &d.LastError, &d.LastMillis, &last, &d.CreatedAt)
	d.LastAt, d.CreatedAt = timePtr(last), d.CreatedAt.UTC()
	return d, err
}

func (s *Store) GetWebhookDelivery(ctx context.Context, id int64) (*crm.WebhookDelivery, error) {
	d, err := scanDelivery(s.rq().QueryRowContext(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "webhook delivery")
	}
	return &d, nil
}

func (s *Store) ListWebhookDeliveries(ctx context.Context, endpointID, beforeID int64, limit int) ([]crm.WebhookDelivery, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	if beforeID <= 0 {
		beforeID = 1 << 62
	}
	return queryList(ctx, s.rq(), func(r *sql.Rows) (crm.WebhookDelivery, error) { return scanDelivery(r) },
		`SELECT `+deliveryCols+` FROM webhook_deliveries WHERE endpoint_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`, endpointID, beforeID, limit)
}

func (s *Store) UnqueuedWebhookDeliveries(ctx context.Context, limit int) ([]int64, error) {
	return queryList(ctx, s.rq(), func(r *sql.Rows) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	}, `SELECT id FROM webhook_deliveries WHERE NOT queued ORDER BY id LIMIT $1`, limit)
}

func (s *Store) MarkWebhookDeliveriesQueued(ctx context.Context, ids []int64) error {
	return inChunks(ids, func(part []int64) error {
		_, err := s.wq().ExecContext(ctx, `UPDATE webhook_deliveries SET queued = true WHERE id IN `+inList(part), s.once()...)
		return err
	})
}

func (s *Store) RequeueWebhookDelivery(ctx context.Context, id int64) error {
	return s.exec1(ctx, "webhook delivery", `UPDATE webhook_deliveries SET status = $2, queued = false WHERE id = $1`, id, crm.WebhookPending)
}

func (s *Store) RecordWebhookAttempt(ctx context.Context, a crm.WebhookAttempt) error {
	return s.inTx(ctx, func(tx *Store) error {
		at := ts(a.At)
		if _, err := tx.wq().ExecContext(ctx, `INSERT INTO webhook_attempts (delivery_id, at, code, ms, error) VALUES ($1, $2, $3, $4, $5)`,
			a.DeliveryID, at, a.Code, a.Millis, a.Error); err != nil {
			return err
		}
		return tx.exec1(ctx, "webhook delivery", `UPDATE webhook_deliveries SET status = $2, attempts = attempts + 1, last_code = $3,
			last_error = $4, last_ms = $5, last_at = $6 WHERE id = $1`, a.DeliveryID, a.Status, a.Code, a.Error, a.Millis, at)
	})
}

const webhookFeedName = "dispatcher"

func (s *Store) LockWebhookFeed(ctx context.Context, start func() (string, error)) (string, error) {
	if s.tx == nil {
		return "", errors.New("LockWebhookFeed needs a transaction")
	}
	var cur string
	err := s.wq().QueryRowContext(ctx, `UPDATE webhook_feed SET cursor = cursor WHERE name = $1 RETURNING cursor`, webhookFeedName).Scan(&cur)
	if !errors.Is(err, sql.ErrNoRows) {
		return cur, err
	}
	first, err := start()
	if err != nil {
		return "", err
	}
	if _, err := s.wq().ExecContext(ctx, `INSERT INTO webhook_feed (name, cursor) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, webhookFeedName, first); err != nil {
		return "", err
	}
	// Another process may have made it first: take (and lock) what is there.
	err = s.wq().QueryRowContext(ctx, `UPDATE webhook_feed SET cursor = cursor WHERE name = $1 RETURNING cursor`, webhookFeedName).Scan(&cur)
	return cur, err
}

func (s *Store) SetWebhookFeed(ctx context.Context, cursor string) error {
	return s.exec1(ctx, "webhook feed", `UPDATE webhook_feed SET cursor = $2 WHERE name = $1`, webhookFeedName, cursor)
}

func (s *Store) WebhookFeed(ctx context.Context) (string, error) {
	var cur string
	err := s.rq().QueryRowContext(ctx, `SELECT cursor FROM webhook_feed WHERE name = $1`, webhookFeedName).Scan(&cur)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return cur, err
}

func (s *Store) PruneWebhookDeliveries(ctx context.Context, before time.Time, limit int) (int, error) {
	// the status is checked again on the rows deleted: a delivery sent
	// again (pending) between the choice and the delete stays
	res, err := s.wq().ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE id IN (
		SELECT id FROM webhook_deliveries WHERE created_at < $1 AND status <> $2 ORDER BY id LIMIT $3) AND status <> $2`,
		ts(before), crm.WebhookPending, limit)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
