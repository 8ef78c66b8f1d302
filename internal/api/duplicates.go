package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
)

func (a *apiServer) duplicateRoutes(h huma.API) {
	huma.Register(h, huma.Operation{OperationID: "lookup-contact", Method: http.MethodGet, Path: "/api/v1/contacts/lookup",
		Summary: "The active customers already holding a contact value (normalised as a new customer's would be)", Tags: []string{"Contacts"}}, a.lookupContact)
	huma.Register(h, huma.Operation{OperationID: "list-duplicates", Method: http.MethodGet, Path: "/api/v1/duplicates",
		Summary: "Possible duplicates: pairs of active customers sharing an e-mail, phone or LinkedIn value, one per pair with every shared value", Tags: []string{"Customers"}}, a.listDuplicates)
	huma.Register(h, huma.Operation{OperationID: "not-duplicate", Method: http.MethodPost, Path: "/api/v1/duplicates/not-duplicate",
		Summary: "Remember that two customers are not duplicates: the pair stops showing", Tags: []string{"Customers"}, DefaultStatus: http.StatusNoContent}, a.notDuplicate)
}

type lookupIn struct {
	Channel crm.Channel `query:"channel" required:"true" enum:"email,phone,linkedin,whatsapp,telegram,website,other"`
	Value   string      `query:"value" required:"true" maxLength:"500"`
	Country string      `query:"country" maxLength:"100" doc:"helps read a phone number without a country code"`
}

type lookupOut struct {
	Body struct {
		Value     string            `json:"value" doc:"the value normalised; empty when it is not a valid value of the channel"`
		Customers []customers.Match `json:"customers"`
	}
}

func (a *apiServer) lookupContact(ctx context.Context, in *lookupIn) (*lookupOut, error) {
	v, ms, err := a.Customers.SameContact(ctx, in.Channel, in.Value, in.Country)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	out := &lookupOut{}
	out.Body.Value, out.Body.Customers = v, ms
	if out.Body.Customers == nil {
		out.Body.Customers = []customers.Match{}
	}
	return out, nil
}

type duplicatesIn struct {
	After string `query:"after" maxLength:"50" doc:"next_cursor of the previous page"`
	Limit int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
}

type duplicatesOut struct {
	Body struct {
		Items      []crm.DuplicatePair `json:"items"`
		NextCursor string              `json:"next_cursor"`
	}
}

func (a *apiServer) listDuplicates(ctx context.Context, in *duplicatesIn) (*duplicatesOut, error) {
	ps, next, err := a.Customers.DuplicatePairs(ctx, in.After, in.Limit)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	out := &duplicatesOut{}
	out.Body.Items, out.Body.NextCursor = ps, next
	if out.Body.Items == nil {
		out.Body.Items = []crm.DuplicatePair{}
	}
	return out, nil
}

type notDuplicateIn struct {
	Body struct {
		CustomerIDs []int64 `json:"customer_ids" minItems:"2" maxItems:"2" doc:"the two customers"`
	}
}

func (a *apiServer) notDuplicate(ctx context.Context, in *notDuplicateIn) (*struct{}, error) {
	ids := in.Body.CustomerIDs
	if err := a.Customers.MarkNotDuplicate(ctx, caller(ctx), ids[0], ids[1]); err != nil {
		return nil, a.fail(ctx, err)
	}
	return nil, nil
}
