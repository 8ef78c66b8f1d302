package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/acme/crm/internal/webhooks"
)

// changesDoc describes the change feed and its sync loop in the OpenAPI document.
const changesDoc = "The change feed for incremental sync: the customers changed after a cursor, in commit order, " +
	"one item per change (a customer changed twice appears twice). No change is ever skipped, even when " +
	"transactions commit out of order: a change appears only once every change before it has committed.\n\n" +
	"Sync loop: start with `after` empty (everything from the beginning) or with `after=now` (the cursor of " +
	"this moment: only what changes from now on); fetch the customers named in `items` (GET " +
	"/api/v1/customers/{id}) and store them; keep `next_cursor` durably only after that; ask again with " +
	"`after=<next_cursor>`. When `items` is empty, `next_cursor` equals `after`: wait a little (a second or " +
	"more) and ask again. After an outage, start from the last cursor kept: nothing is missed. Cursors are " +
	"opaque. Kinds are the activity kinds (created, updated, owner_changed, tag_added, tag_removed, " +
	"segment_added, segment_removed, contact_added, contact_updated, contact_removed, suppressed, " +
	"unsuppressed, message, note_added, deal_added, task_added, merged_into, merged_from, archived, " +
	"restored, imported, bulk_undone).\n\nOn PostgreSQL a transaction still running anywhere on the " +
	"database server holds the feed at its start until it ends."

type changesIn struct {
	After string `query:"after" maxLength:"100" doc:"the next_cursor of the previous answer; empty: from the start; now: from this moment"`
	Limit int    `query:"limit" minimum:"1" maximum:"1000" default:"100"`
}

// ChangeItem is one change of the feed.
type ChangeItem struct {
	CustomerID int64     `json:"customer_id"`
	Kind       string    `json:"kind" doc:"the activity kind of the change"`
	At         time.Time `json:"at"`
}

type changesOut struct {
	Body struct {
		Items      []ChangeItem `json:"items"`
		NextCursor string       `json:"next_cursor" doc:"pass as after to continue; equals after when nothing new has committed"`
	}
}

func (a *apiServer) changes(ctx context.Context, in *changesIn) (*changesOut, error) {
	after := in.After
	if after == "now" {
		head, err := a.Customers.ChangesHead(ctx, caller(ctx))
		if err != nil {
			return nil, a.fail(ctx, err)
		}
		after = head
	}
	cs, next, err := a.Customers.Changes(ctx, caller(ctx), after, in.Limit)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	out := &changesOut{}
	out.Body.Items = make([]ChangeItem, len(cs))
	for i, c := range cs {
		out.Body.Items[i] = ChangeItem{CustomerID: c.CustomerID, Kind: c.Kind, At: c.At}
	}
	out.Body.NextCursor = next
	return out, nil
}

// webhooksDoc describes deliveries and their verification in the OpenAPI document.
const webhooksDoc = "Outbound webhooks (admins only). Each delivery is a `POST` of JSON `{\"id\", \"type\", \"at\", \"data\"}` " +
	"with the header `CRM-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\" with the endpoint's secret>`. " +
	"To verify: take t and v1 from the header, compute the HMAC-SHA256 of the string t, a dot and the raw body with " +
	"the secret, compare it with v1 in constant time, and reject the delivery when |now - t| is more than 5 minutes " +
	"(a replay). Answer 2xx within 10 seconds; anything else (or no answer) is retried with exponential back-off " +
	"(10 s doubling, at most an hour apart) for 24 hours, with the same event id, so drop ids already handled. " +
	"An endpoint that fails for 24 hours without a success is disabled and shown so in Settings. Several events " +
	"ready at once for one endpoint (a bulk action: one event per customer) come in deliveries of up to 100: " +
	"`{\"id\": \"batch_<first event id>\", \"type\": \"batch\", \"at\", \"data\": {\"events\": [event, ...]}}`, each event " +
	"shaped as a single delivery. Customer and contact events have `data: {\"customer_id\", \"user_id\" (null = the " +
	"system), \"change\": <the activity entry's data>}`; import.finished has the import's counts; bulk.undone the undo job's."

type endpointsOut struct {
	Body struct {
		Items []*webhooks.Endpoint `json:"items"`
	}
}

type endpointOut struct{ Body *webhooks.Endpoint }

type endpointBody struct {
	URL     *string   `json:"url,omitempty" maxLength:"2000" doc:"http:// or https://"`
	Events  *[]string `json:"events,omitempty" maxItems:"50" doc:"event types: customer.created, customer.updated, customer.claimed, customer.unclaimed, customer.released, customer.reassigned, customer.tagged, customer.untagged, customer.archived, customer.restored, customer.merged, contact.suppressed, contact.unsuppressed, import.finished, bulk.undone"`
	Secret  *string   `json:"secret,omitempty" maxLength:"200" doc:"signs deliveries; empty or left out on create: one is made (returned once)"`
	Enabled *bool     `json:"enabled,omitempty"`
}

type endpointIn struct {
	Body endpointBody
}

type endpointPatchIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Body endpointBody
}

func (b endpointBody) input() webhooks.Input {
	return webhooks.Input{URL: b.URL, Events: b.Events, Secret: b.Secret, Enabled: b.Enabled}
}

type deliveriesIn struct {
	ID     int64 `path:"id" minimum:"1"`
	Before int64 `query:"before" doc:"a delivery id: older ones"`
	Limit  int   `query:"limit" minimum:"1" maximum:"200" default:"50"`
}

type deliveriesOut struct {
	Body struct {
		Items []webhooks.Delivery `json:"items"`
	}
}

type resendIn struct {
	ID         int64 `path:"id" minimum:"1"`
	DeliveryID int64 `path:"delivery" minimum:"1"`
}

// webhookRoutes registers the change feed and the webhook endpoints.
func (a *apiServer) webhookRoutes(h huma.API) {
	huma.Register(h, huma.Operation{OperationID: "list-changes", Method: http.MethodGet, Path: "/api/v1/changes",
		Summary: "Customers changed after a cursor, in commit order (incremental sync)", Description: changesDoc, Tags: []string{"Changes"}}, a.changes)

	tag := []string{"Webhooks"}
	huma.Register(h, huma.Operation{OperationID: "list-webhook-endpoints", Method: http.MethodGet, Path: "/api/v1/webhook-endpoints",
		Summary: "Webhook endpoints (admin only)", Description: webhooksDoc, Tags: tag}, func(ctx context.Context, _ *struct{}) (*endpointsOut, error) {
		es, err := a.Webhooks.List(ctx, caller(ctx))
		if err != nil {
			return nil, a.fail(ctx, err)
		}
		out := &endpointsOut{}
		out.Body.Items = es
		return out, nil
	})
	huma.Register(h, huma.Operation{OperationID: "create-webhook-endpoint", Method: http.MethodPost, Path: "/api/v1/webhook-endpoints",
		Summary: "Register a webhook endpoint (admin only); the answer holds its secret", Description: webhooksDoc, Tags: tag, DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *endpointIn) (*endpointOut, error) {
			e, err := a.Webhooks.Create(ctx, caller(ctx), in.Body.input())
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			return &endpointOut{Body: e}, nil
		})
	huma.Register(h, huma.Operation{OperationID: "update-webhook-endpoint", Method: http.MethodPatch, Path: "/api/v1/webhook-endpoints/{id}",
		Summary: "Change a webhook endpoint: URL, events, secret (empty: a new one, returned once), enabled (admin only)", Tags: tag},
		func(ctx context.Context, in *endpointPatchIn) (*endpointOut, error) {
			e, err := a.Webhooks.Update(ctx, caller(ctx), in.ID, in.Body.input())
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			return &endpointOut{Body: e}, nil
		})
	huma.Register(h, huma.Operation{OperationID: "delete-webhook-endpoint", Method: http.MethodDelete, Path: "/api/v1/webhook-endpoints/{id}",
		Summary: "Remove a webhook endpoint and its delivery log (admin only)", Tags: tag, DefaultStatus: http.StatusNoContent},
		func(ctx context.Context, in *idIn) (*struct{}, error) {
			if err := a.Webhooks.Delete(ctx, caller(ctx), in.ID); err != nil {
				return nil, a.fail(ctx, err)
			}
			return nil, nil
		})
	huma.Register(h, huma.Operation{OperationID: "list-webhook-deliveries", Method: http.MethodGet, Path: "/api/v1/webhook-endpoints/{id}/deliveries",
		Summary: "An endpoint's delivery log, newest first (admin only)", Tags: tag},
		func(ctx context.Context, in *deliveriesIn) (*deliveriesOut, error) {
			ds, err := a.Webhooks.Deliveries(ctx, caller(ctx), in.ID, in.Before, in.Limit)
			if err != nil {
				return nil, a.fail(ctx, err)
			}
			out := &deliveriesOut{}
			out.Body.Items = ds
			return out, nil
		})
	huma.Register(h, huma.Operation{OperationID: "resend-webhook-delivery", Method: http.MethodPost, Path: "/api/v1/webhook-endpoints/{id}/deliveries/{delivery}/resend",
		Summary: "Send a delivery again, with the same event id (admin only)", Tags: tag, DefaultStatus: http.StatusAccepted},
		func(ctx context.Context, in *resendIn) (*struct{}, error) {
			if err := a.Webhooks.Resend(ctx, caller(ctx), in.ID, in.DeliveryID); err != nil {
				return nil, a.fail(ctx, err)
			}
			return nil, nil
		})
}
