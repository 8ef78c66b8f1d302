// Package webhooks sends signed events to the URLs admins register: each
// change of a customer (read from the change feed by one dispatcher at a
// time), import.finished and bulk.undone (emitted by the jobs that end
// them). A delivery is a row with its body fixed when made; a River job
// sends it and retries with exponential back-off for 24 hours. The event
// id stays the same on every retry and every "send again", so receivers
// drop what they have already handled.
package webhooks

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/acme/crm/internal/crm"
)

// Defaults.
const (
	// RetryFor is how long a delivery is retried, and how long an endpoint
	// may fail without a success before it is disabled.
	RetryFor = 24 * time.Hour
	// BatchMax is how many events one delivery carries at most.
	BatchMax = 100
	// timeout bounds one POST (connect, send, answer).
	timeout = 10 * time.Second
	// bodyMax is how much of an answer is read (and then dropped).
	bodyMax = 64 << 10
	// feedPage is how many changes the dispatcher reads per transaction.
	feedPage = 1000
)

// Service manages endpoints and sends deliveries.
type Service struct {
	Store crm.Store
	// Enqueue starts the send jobs of deliveries (set by internal/jobs).
	Enqueue func(ctx context.Context, deliveryIDs []int64) error
	Log     *slog.Logger
	Now     func() time.Time
	// AllowPrivate lets endpoints be on loopback and private addresses
	// (CRM_WEBHOOK_ALLOW_PRIVATE; tests and single-machine setups).
	AllowPrivate bool
	// RetryBase is the first back-off; each retry doubles it, up to an hour.
	RetryBase time.Duration
	// Keep is how long an ended delivery (delivered or failed) and its
	// attempts stay in the delivery log; Run prunes older ones hourly.
	Keep      time.Duration
	client    *http.Client
	lastPrune time.Time
}

// New returns a Service over st.
func New(st crm.Store, log *slog.Logger, allowPrivate bool) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{Store: st, Log: log, Now: time.Now, AllowPrivate: allowPrivate, RetryBase: 10 * time.Second, Keep: 30 * 24 * time.Hour}
	s.client = s.newClient()
	return s
}

func (s *Service) now() time.Time { return s.Now().UTC() }

// newClient builds the HTTP client of deliveries: bounded in time, no
// redirects (a 3xx is a failed attempt), and, unless private addresses
// are allowed, a dialer that refuses them after name resolution (so a name
// that resolves to an internal address is refused too).
func (s *Service) newClient() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, Control: func(_, address string, _ syscall.RawConn) error {
		if s.AllowPrivate {
			return nil
		}
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return err
		}
		if private(ap.Addr()) {
			return fmt.Errorf("%s is a private address (set CRM_WEBHOOK_ALLOW_PRIVATE to allow it)", ap.Addr())
		}
		return nil
	}}
	tr := &http.Transport{DialContext: d.DialContext, TLSHandshakeTimeout: 5 * time.Second, ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute, Proxy: nil}
	return &http.Client{Transport: tr, Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// private reports addresses a webhook must not reach by default.
func private(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsMulticast() ||
		a.IsUnspecified() || a.IsInterfaceLocalMulticast() || (a.Is4() && a.As4()[0] == 100 && a.As4()[1]&0xc0 == 64) // 100.64/10
}

// Endpoint is an endpoint as admins see it; the secret only when just made or changed.
type Endpoint struct {
	ID             int64      `json:"id"`
	URL            string     `json:"url"`
	Events         []string   `json:"events"`
	Enabled        bool       `json:"enabled"`
	DisabledReason string     `json:"disabled_reason,omitempty" doc:"why the system disabled it (failing for 24 hours)"`
	FailingSince   *time.Time `json:"failing_since" doc:"first failed attempt since the last success"`
	Secret         string     `json:"secret,omitempty" doc:"only in the answer that created or changed it"`
	CreatedAt      time.Time  `json:"created_at"`
}

func view(e *crm.WebhookEndpoint, withSecret bool) *Endpoint {
	v := &Endpoint{ID: e.ID, URL: e.URL, Events: e.Events, Enabled: e.Enabled, DisabledReason: e.DisabledReason,
		FailingSince: e.FailingSince, CreatedAt: e.CreatedAt}
	if withSecret {
		v.Secret = e.Secret
	}
	return v
}

// Input is what creates or changes an endpoint; nil fields stay as they are.
type Input struct {
	URL     *string
	Events  *[]string
	Secret  *string // "" makes a new one
	Enabled *bool
}

func admin(actor *crm.User) error {
	if !actor.IsAdmin() {
		return crm.Forbidden("Only admins manage webhooks.")
	}
	return nil
}

// CheckURL accepts absolute http(s) URLs with a host; without AllowPrivate,
// not a literal private address nor localhost.
func (s *Service) CheckURL(raw string) error {
	if len(raw) > 2000 {
		return crm.Invalid("url", "is longer than 2000 characters")
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return crm.Invalid("url", "must be an http:// or https:// address")
	}
	if s.AllowPrivate {
		return nil
	}
	host := u.Hostname()
	if a, err := netip.ParseAddr(host); (err == nil && private(a)) || strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return crm.Invalid("url", "points to a private or local address; webhooks go to public addresses")
	}
	return nil
}

func checkEvents(events []string) error {
	if len(events) == 0 {
		return crm.Invalid("events", "pick at least one event")
	}
	for _, e := range events {
		if !KnownType(e) {
			return crm.Invalid("events", "%q is not an event type", e)
		}
	}
	return nil
}

func newSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return "whsec_" + hex.EncodeToString(b)
}

func checkSecret(sec string) error {
	if n := len(sec); n < 16 || n > 200 {
		return crm.Invalid("secret", "must be 16 to 200 characters (leave it empty for one made for you)")
	}
	return nil
}

// List returns every endpoint (admins).
func (s *Service) List(ctx context.Context, actor *crm.User) ([]*Endpoint, error) {
	if err := admin(actor); err != nil {
		return nil, err
	}
	es, err := s.Store.ListWebhookEndpoints(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Endpoint, len(es))
	for i := range es {
		out[i] = view(&es[i], false)
	}
	return out, nil
}

// Get returns one endpoint (admins).
func (s *Service) Get(ctx context.Context, actor *crm.User, id int64) (*Endpoint, error) {
	if err := admin(actor); err != nil {
		return nil, err
	}
	e, err := s.Store.GetWebhookEndpoint(ctx, id)
	if err != nil {
		return nil, err
	}
	return view(e, false), nil
}

// Create registers an endpoint (admins); the answer holds its secret.
func (s *Service) Create(ctx context.Context, actor *crm.User, in Input) (*Endpoint, error) {
	if err := admin(actor); err != nil {
		return nil, err
	}
	e := &crm.WebhookEndpoint{Enabled: true, CreatedBy: actor.ID, CreatedAt: s.now()}
	if in.URL == nil {
		return nil, crm.Invalid("url", "is required")
	}
	if in.Events == nil {
		return nil, crm.Invalid("events", "pick at least one event")
	}
	if err := s.apply(e, in); err != nil {
		return nil, err
	}
	if e.Secret == "" {
		e.Secret = newSecret()
	}
	if err := s.Store.CreateWebhookEndpoint(ctx, e); err != nil {
		return nil, err
	}
	host := ""
	if u, err := url.Parse(e.URL); err == nil {
		host = u.Host // not the path or query, which may hold a receiver's token
	}
	s.Log.Info("webhook endpoint added", "id", e.ID, "host", host, "by", actor.ID)
	return view(e, true), nil
}

func (s *Service) apply(e *crm.WebhookEndpoint, in Input) error {
	if in.URL != nil {
		u := strings.TrimSpace(*in.URL)
		if err := s.CheckURL(u); err != nil {
			return err
		}
		e.URL = u
	}
	if in.Events != nil {
		if err := checkEvents(*in.Events); err != nil {
			return err
		}
		e.Events = append([]string(nil), *in.Events...)
	}
	if in.Secret != nil {
		if *in.Secret == "" {
			e.Secret = newSecret()
		} else if err := checkSecret(*in.Secret); err != nil {
			return err
		} else {
			e.Secret = *in.Secret
		}
	}
	if in.Enabled != nil {
		e.Enabled = *in.Enabled
		if e.Enabled {
			e.DisabledReason, e.FailingSince = "", nil // enabled again: a fresh 24 hours
		}
	}
	return nil
}

// Update changes an endpoint (admins); the answer holds the secret when it changed.
func (s *Service) Update(ctx context.Context, actor *crm.User, id int64, in Input) (*Endpoint, error) {
	if err := admin(actor); err != nil {
		return nil, err
	}
	var e *crm.WebhookEndpoint
	err := s.Store.InTx(ctx, func(tx crm.Store) error {
		// the whole row is written back: locked first, so that neither the
		// automatic disable nor a delivery's result committing meanwhile
		// is overwritten with what was read before it
		if err := tx.LockWebhookEndpoint(ctx, id); err != nil {
			return err
		}
		var err error
		if e, err = tx.GetWebhookEndpoint(ctx, id); err != nil {
			return err
		}
		if err := s.apply(e, in); err != nil {
			return err
		}
		e.UpdatedAt = s.now()
		return tx.UpdateWebhookEndpoint(ctx, e)
	})
	if err != nil {
		return nil, err
	}
	return view(e, in.Secret != nil), nil
}

// RevealSecret returns an endpoint's secret (admins).
func (s *Service) RevealSecret(ctx context.Context, actor *crm.User, id int64) (string, error) {
	if err := admin(actor); err != nil {
		return "", err
	}
	e, err := s.Store.GetWebhookEndpoint(ctx, id)
	if err != nil {
		return "", err
	}
	return e.Secret, nil
}

// Delete removes an endpoint and its delivery log (admins).
func (s *Service) Delete(ctx context.Context, actor *crm.User, id int64) error {
	if err := admin(actor); err != nil {
		return err
	}
	return s.Store.DeleteWebhookEndpoint(ctx, id)
}

// Delivery is a delivery as the log shows it.
type Delivery struct {
	ID        int64      `json:"id"`
	EventID   string     `json:"event_id"`
	Type      string     `json:"type"`
	Events    int        `json:"events" doc:"how many events it carries (a batch: more than one)"`
	Status    string     `json:"status" enum:"pending,delivered,failed"`
	Attempts  int        `json:"attempts"`
	LastCode  int        `json:"last_code" doc:"HTTP status of the last attempt; 0 = no answer"`
	LastError string     `json:"last_error,omitempty"`
	LastMs    int        `json:"last_ms" doc:"response time of the last attempt, in milliseconds"`
	LastAt    *time.Time `json:"last_at"`
	CreatedAt time.Time  `json:"created_at"`
}

func deliveryView(d crm.WebhookDelivery) Delivery {
	return Delivery{ID: d.ID, EventID: d.EventID, Type: d.Type, Events: d.Events, Status: d.Status, Attempts: d.Attempts,
		LastCode: d.LastCode, LastError: d.LastError, LastMs: d.LastMillis, LastAt: d.LastAt, CreatedAt: d.CreatedAt}
}

// Deliveries pages an endpoint's delivery log, newest first (admins).
func (s *Service) Deliveries(ctx context.Context, actor *crm.User, endpointID, before int64, limit int) ([]Delivery, error) {
	if err := admin(actor); err != nil {
		return nil, err
	}
	if _, err := s.Store.GetWebhookEndpoint(ctx, endpointID); err != nil {
		return nil, err
	}
	ds, err := s.Store.ListWebhookDeliveries(ctx, endpointID, before, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Delivery, len(ds))
	for i, d := range ds {
		out[i] = deliveryView(d)
	}
	return out, nil
}

// Resend sends a delivery again, with the same event id (admins).
func (s *Service) Resend(ctx context.Context, actor *crm.User, endpointID, deliveryID int64) error {
	if err := admin(actor); err != nil {
		return err
	}
	d, err := s.Store.GetWebhookDelivery(ctx, deliveryID)
	if err != nil {
		return err
	}
	if d.EndpointID != endpointID {
		return crm.NotFound("webhook delivery")
	}
	if err := s.Store.RequeueWebhookDelivery(ctx, deliveryID); err != nil {
		return err
	}
	return s.Flush(ctx)
}

// Emit makes deliveries of an event that is not a customer change
// (import.finished, bulk.undone) for the endpoints that want it, and
// starts them. ev.ID must be stable: emitting it again makes nothing new.
func (s *Service) Emit(ctx context.Context, ev Event) error {
	es, err := s.Store.ListWebhookEndpoints(ctx)
	if err != nil {
		return err
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	var ds []*crm.WebhookDelivery
	for _, e := range es {
		if e.Enabled && wants(&e, ev.Type) {
			ds = append(ds, &crm.WebhookDelivery{EndpointID: e.ID, EventID: ev.ID, Type: ev.Type, Events: 1, Body: string(body), CreatedAt: s.now()})
		}
	}
	if len(ds) == 0 {
		return nil
	}
	if err := s.Store.AddWebhookDeliveries(ctx, ds); err != nil {
		return err
	}
	return s.Flush(ctx)
}

func wants(e *crm.WebhookEndpoint, typ string) bool {
	for _, t := range e.Events {
		if t == typ {
			return true
		}
	}
	return false
}

// Dispatch reads the change feed after the dispatcher's position, one page
// in one transaction that holds the position (one dispatcher at a time,
// whatever the number of processes), makes the deliveries of the events
// each enabled endpoint wants (several events of a page to one endpoint go
// in batches of up to BatchMax) and moves the position. It reports how
// many changes it read.
func (s *Service) Dispatch(ctx context.Context) (int, error) {
	// A look without a transaction first: most of the time nothing is new,
	// and a write transaction every second would queue behind SQLite's one
	// writer and, on PostgreSQL, hold the feed's watermark back while it runs.
	if cur, err := s.Store.WebhookFeed(ctx); err != nil {
		return 0, err
	} else if cur != "" {
		if cs, _, err := s.Store.Changes(ctx, cur, 1); err != nil || len(cs) == 0 {
			return 0, err
		}
	}
	n := 0
	err := s.Store.InTx(ctx, func(tx crm.Store) error {
		cur, err := tx.LockWebhookFeed(ctx, func() (string, error) { return tx.ChangesHead(ctx) })
		if err != nil {
			return err
		}
		changes, next, err := tx.Changes(ctx, cur, feedPage)
		if err != nil || len(changes) == 0 {
			return err
		}
		n = len(changes)
		es, err := tx.ListWebhookEndpoints(ctx)
		if err != nil {
			return err
		}
		var events []Event
		for _, c := range changes {
			if ev, ok := eventOf(c); ok {
				events = append(events, ev)
			}
		}
		now := s.now()
		var ds []*crm.WebhookDelivery
		for i := range es {
			e := &es[i]
			if !e.Enabled {
				continue
			}
			var mine []Event
			for _, ev := range events {
				if wants(e, ev.Type) {
					mine = append(mine, ev)
				}
			}
			for start := 0; start < len(mine); start += BatchMax {
				d, err := delivery(e.ID, mine[start:min(start+BatchMax, len(mine))], now)
				if err != nil {
					return err
				}
				ds = append(ds, d)
			}
		}
		if err := tx.AddWebhookDeliveries(ctx, ds); err != nil {
			return err
		}
		return tx.SetWebhookFeed(ctx, next)
	})
	return n, err
}

// delivery makes the delivery of one event, or of a batch of several:
// {"id": "batch_<first event id>", "type": "batch", "at", "data": {"events": [...]}}.
func delivery(endpointID int64, evs []Event, now time.Time) (*crm.WebhookDelivery, error) {
	ev := evs[0]
	if len(evs) > 1 {
		data, err := json.Marshal(map[string]any{"events": evs})
		if err != nil {
			return nil, err
		}
		ev = Event{ID: "batch_" + evs[0].ID, Type: Batch, At: now, Data: data}
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	return &crm.WebhookDelivery{EndpointID: endpointID, EventID: ev.ID, Type: ev.Type, Events: len(evs), Body: string(body), CreatedAt: now}, nil
}

// Flush starts the send jobs of deliveries that have none yet. Made in
// the same transaction as the deliveries would be better, but River's
// PostgreSQL driver has a pool of its own; a delivery whose job was not
// started (a crash in between) is found by the next flush, and River's
// unique jobs keep a delivery from being sent by two jobs at once.
func (s *Service) Flush(ctx context.Context) error {
	if s.Enqueue == nil {
		return nil
	}
	for {
		ids, err := s.Store.UnqueuedWebhookDeliveries(ctx, 500)
		if err != nil || len(ids) == 0 {
			return err
		}
		if err := s.Enqueue(ctx, ids); err != nil {
			return err
		}
		if err := s.Store.MarkWebhookDeliveriesQueued(ctx, ids); err != nil {
			return err
		}
	}
}

// Run dispatches every interval until ctx ends (each process runs it; the
// feed position's lock lets one work at a time).
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for {
			n, err := s.Dispatch(ctx)
			if err != nil {
				if ctx.Err() == nil {
					s.Log.Error("webhook dispatch", "err", err)
				}
				break
			}
			if n < feedPage {
				break
			}
		}
		if err := s.Flush(ctx); err != nil && ctx.Err() == nil {
			s.Log.Error("webhook enqueue", "err", err)
		}
		if now := s.now(); now.Sub(s.lastPrune) >= time.Hour {
			s.lastPrune = now
			if _, err := s.Prune(ctx); err != nil && ctx.Err() == nil {
				s.Log.Error("webhook delivery log prune", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Prune deletes the ended deliveries (delivered or failed) older than Keep,
// with their attempts, in batches; pending ones stay whatever their age.
// Without it every event ever sent stayed in the database, body included.
func (s *Service) Prune(ctx context.Context) (int, error) {
	before, total := s.now().Add(-s.Keep), 0
	for {
		n, err := s.Store.PruneWebhookDeliveries(ctx, before, 1000)
		total += n
		if err != nil || n < 1000 {
			return total, err
		}
	}
}

// NextRetry is when attempt number attempt (1 = the first) is followed by
// the next: RetryBase doubled each time, at most an hour apart.
func (s *Service) NextRetry(attempt int) time.Duration {
	d := s.RetryBase
	for i := 1; i < attempt && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// ErrRetry is what Deliver returns when the attempt failed and another will follow.
var ErrRetry = errors.New("webhook delivery failed; it will be retried")

// Deliver makes one attempt of a delivery and records it. It returns
// ErrRetry (wrapped) when the attempt failed and the delivery is younger
// than RetryFor; nil when it is done one way or the other: delivered,
// given up (24 hours), or its endpoint gone or disabled. An endpoint
// failing for RetryFor without a success is disabled, which admins see in
// Settings.
func (s *Service) Deliver(ctx context.Context, deliveryID int64) error {
	d, err := s.Store.GetWebhookDelivery(ctx, deliveryID)
	if errors.Is(err, crm.ErrNotFound) {
		return nil // its endpoint was deleted
	}
	if err != nil {
		return err
	}
	if d.Status != crm.WebhookPending {
		return nil
	}
	e, err := s.Store.GetWebhookEndpoint(ctx, d.EndpointID)
	if errors.Is(err, crm.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !e.Enabled {
		return s.Store.RecordWebhookAttempt(ctx, crm.WebhookAttempt{DeliveryID: d.ID, At: s.now(), Error: "endpoint disabled", Status: crm.WebhookFailed})
	}
	code, ms, sendErr := s.post(ctx, e, []byte(d.Body))
	now := s.now()
	ok := sendErr == nil && code >= 200 && code < 300
	a := crm.WebhookAttempt{DeliveryID: d.ID, At: now, Code: code, Millis: ms, Status: crm.WebhookDelivered}
	if !ok {
		a.Status = crm.WebhookPending
		if sendErr != nil {
			a.Error = sendErr.Error()
		} else {
			a.Error = fmt.Sprintf("answered %d", code)
		}
		if now.Sub(d.CreatedAt) >= RetryFor {
			a.Status = crm.WebhookFailed
		}
	}
	if ctx.Err() != nil && !ok {
		return ctx.Err() // shutting down: not an attempt of the endpoint's
	}
	if err := s.Store.RecordWebhookAttempt(ctx, a); err != nil {
		return err
	}
	failing, err := s.Store.WebhookEndpointResult(ctx, e.ID, ok, now)
	if err != nil {
		return err
	}
	if !ok && failing != nil && now.Sub(*failing) >= RetryFor {
		if err := s.disable(ctx, e.ID, *failing, now); err != nil {
			return err
		}
		return nil
	}
	if ok || a.Status == crm.WebhookFailed {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrRetry, a.Error)
}

func (s *Service) disable(ctx context.Context, id int64, since, now time.Time) error {
	return s.Store.InTx(ctx, func(tx crm.Store) error {
		// locked as Update does: an admin's new URL or secret committed
		// meanwhile is not written back over
		if err := tx.LockWebhookEndpoint(ctx, id); err != nil {
			return err
		}
		e, err := tx.GetWebhookEndpoint(ctx, id)
		if err != nil || !e.Enabled {
			return err
		}
		e.Enabled = false
		e.DisabledReason = fmt.Sprintf("Disabled automatically: every delivery failed since %s.", since.Format("2006-01-02 15:04 MST"))
		e.UpdatedAt = now
		s.Log.Warn("webhook endpoint disabled after failing for 24 hours", "id", id)
		return tx.UpdateWebhookEndpoint(ctx, e)
	})
}

// post sends a body signed now; the answer's body is read up to bodyMax and dropped.
func (s *Service) post(ctx context.Context, e *crm.WebhookEndpoint, body []byte) (code, ms int, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "CRM-Webhooks/1")
	req.Header.Set(SignatureHeader, Sign(e.Secret, s.now(), body))
	start := time.Now()
	res, err := s.client.Do(req)
	ms = int(time.Since(start).Milliseconds())
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL again
		}
		return 0, ms, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, bodyMax))
	res.Body.Close()
	return res.StatusCode, int(time.Since(start).Milliseconds()), nil
}
