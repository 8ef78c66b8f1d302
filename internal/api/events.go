package api

import (
	"context"
	"net/http"
	"reflect"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/live"
)

// eventRoutes registers the live updates stream (issue 15).
func (a *apiServer) eventRoutes(h huma.API) {
	huma.Register(h, huma.Operation{OperationID: "events", Method: http.MethodGet, Path: "/api/v1/events",
		Summary: "Live updates: a Server-Sent Events stream of customer changes",
		Description: "One event per change of a customer the caller may see, as it commits, from this or any other " +
			"instance: `data: {\"customer_id\", \"kind\", \"by\": {\"id\", \"name\"} or null (the system), \"at\"}`, " +
			"its `id:` the change feed's cursor. A client that reconnects with `Last-Event-ID` (browsers do by " +
			"themselves) first gets every change it missed. Comments (`: ping`) keep an idle stream open every 25 s. " +
			"A page's stream ends after 10 minutes and an API token's when the token is revoked: reconnect with Last-Event-ID.",
		Tags: []string{"Customers"},
		Responses: map[string]*huma.Response{"200": {Description: "the stream", Content: map[string]*huma.MediaType{
			"text/event-stream": {Schema: h.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[live.CustomerEvent](), true, "CustomerEvent")},
		}}}}, a.events)
}

type eventsIn struct {
	LastEventID   string `header:"Last-Event-ID" maxLength:"200" doc:"resume after this event id (a change feed cursor): missed changes come first"`
	Authorization string `header:"Authorization" hidden:"true"`
	After         string `query:"after" maxLength:"200" doc:"start after this change feed cursor instead of now (Last-Event-ID wins when both are sent)"`
}

func (a *apiServer) events(ctx context.Context, in *eventsIn) (*huma.StreamResponse, error) {
	me := caller(ctx)
	after := in.LastEventID
	if after == "" {
		after = in.After
	}
	l := live.Listener{User: me, Session: true}
	if tok, ok := BearerToken(in.Authorization); ok {
		l.Session = false
		l.Recheck = func(ctx context.Context) error {
			u, err := a.Accounts.UserForToken(ctx, tok)
			if err == nil && u.ID != me.ID {
				err = crm.ErrUnauthorized
			}
			return err
		}
	}
	s, err := a.Live.Open(ctx, l, after)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &huma.StreamResponse{Body: func(hc huma.Context) {
		r, w := humago.Unwrap(hc)
		s.Serve(w, r)
	}}, nil
}
