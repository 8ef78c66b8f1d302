package crm

import (
	"context"
	"time"
)

// WebhookEndpoint is a URL an admin registered to receive events.
type WebhookEndpoint struct {
	ID             int64
	URL            string
	Events         []string // event types it wants
	Secret         string   // signs each delivery (never logged)
	Enabled        bool
	DisabledReason string     // why it was disabled, "" when an admin did it or it is enabled
	FailingSince   *time.Time // first failed attempt since its last success
	CreatedBy      int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// WebhookDelivery is one POST to an endpoint: one event, or a batch of them.
type WebhookDelivery struct {
	ID         int64
	EndpointID int64
	EventID    string // stable across retries and sends again
	Type       string // the event type, or "batch"
	Events     int    // how many events it carries
	Body       string // the JSON body sent, fixed when the delivery is made
	Status     string // WebhookPending, WebhookDelivered, WebhookFailed
	Attempts   int
	LastCode   int // HTTP status of the last attempt, 0 = no answer
	LastError  string
	LastMillis int
	LastAt     *time.Time
	CreatedAt  time.Time
}

// Delivery statuses.
const (
	WebhookPending   = "pending"   // not sent yet, or being retried
	WebhookDelivered = "delivered" // a 2xx answer came
	WebhookFailed    = "failed"    // retries ran out (24 hours) or the endpoint is gone
)

// WebhookAttempt is the outcome of one POST of a delivery.
type WebhookAttempt struct {
	DeliveryID int64
	At         time.Time
	Code       int // 0 = no answer
	Millis     int
	Error      string
	Status     string // the delivery's status after it
}

// WebhookStore keeps webhook endpoints, their deliveries and the position
// of the dispatcher in the change feed.
type WebhookStore interface {
	CreateWebhookEndpoint(ctx context.Context, e *WebhookEndpoint) error
	GetWebhookEndpoint(ctx context.Context, id int64) (*WebhookEndpoint, error)
	// LockWebhookEndpoint locks an endpoint's row until the transaction ends
	// (engines whose writers run one at a time need not), before a read
	// whose whole row is written back: an admin's edit, the automatic disable.
	LockWebhookEndpoint(ctx context.Context, id int64) error
	ListWebhookEndpoints(ctx context.Context) ([]WebhookEndpoint, error)
	// UpdateWebhookEndpoint writes URL, events, secret, enabled, reason and failing_since.
	UpdateWebhookEndpoint(ctx context.Context, e *WebhookEndpoint) error
	DeleteWebhookEndpoint(ctx context.Context, id int64) error
	// WebhookEndpointResult records an attempt's outcome on its endpoint:
	// a success clears failing_since, a failure sets it when unset; it
	// returns failing_since as it now is.
	WebhookEndpointResult(ctx context.Context, id int64, ok bool, now time.Time) (*time.Time, error)

	// AddWebhookDeliveries inserts deliveries, leaving out those whose
	// (endpoint, event id) exists already, and sets the IDs of those inserted.
	AddWebhookDeliveries(ctx context.Context, ds []*WebhookDelivery) error
	GetWebhookDelivery(ctx context.Context, id int64) (*WebhookDelivery, error)
	// ListWebhookDeliveries pages an endpoint's deliveries newest first.
	ListWebhookDeliveries(ctx context.Context, endpointID, beforeID int64, limit int) ([]WebhookDelivery, error)
	// UnqueuedWebhookDeliveries lists deliveries whose send job has not been
	// enqueued; MarkWebhookDeliveriesQueued records that it has.
	UnqueuedWebhookDeliveries(ctx context.Context, limit int) ([]int64, error)
	MarkWebhookDeliveriesQueued(ctx context.Context, ids []int64) error
	// RequeueWebhookDelivery makes a delivery pending and unqueued again (send again).
	RequeueWebhookDelivery(ctx context.Context, id int64) error
	// RecordWebhookAttempt logs an attempt and sets the delivery's status and last outcome.
	RecordWebhookAttempt(ctx context.Context, a WebhookAttempt) error
	// PruneWebhookDeliveries deletes up to limit ended deliveries (delivered
	// or failed, never pending) made before before, with their attempts, and
	// says how many went.
	PruneWebhookDeliveries(ctx context.Context, before time.Time, limit int) (int, error)

	// LockWebhookFeed, in a transaction, takes the dispatcher's position in
	// the change feed and holds it until the transaction ends (one
	// dispatcher at a time across processes); start is the position made
	// when there is none yet.
	LockWebhookFeed(ctx context.Context, start func() (string, error)) (string, error)
	SetWebhookFeed(ctx context.Context, cursor string) error
	// WebhookFeed reads the dispatcher's position without locking it ("" when none yet).
	WebhookFeed(ctx context.Context) (string, error)
}
