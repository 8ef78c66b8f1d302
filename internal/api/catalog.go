package api

import (
	"context"

	"github.com/acme/crm/internal/crm"
)

type items[T any] struct {
	Body struct {
		Items []T `json:"items"`
	}
}

func list[T any](vals []T) *items[T] {
	out := &items[T]{}
	out.Body.Items = vals
	if out.Body.Items == nil {
		out.Body.Items = []T{}
	}
	return out
}

func (a *apiServer) listProducts(ctx context.Context, _ *struct{}) (*items[crm.Product], error) {
	ps, err := a.Customers.Products(ctx)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return list(ps), nil
}

type tagsIn struct {
	Q     string `query:"q" doc:"the start of the name, any case" maxLength:"200"`
	After string `query:"after" doc:"the name of the last tag of the previous page" maxLength:"200"`
	Limit int    `query:"limit" minimum:"1" maximum:"1000" default:"1000"`
}

func (a *apiServer) listTags(ctx context.Context, in *tagsIn) (*items[crm.Tag], error) {
	ts, err := a.Customers.SearchTags(ctx, in.Q, in.After, in.Limit)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return list(ts), nil
}

type nameIn struct {
	Body struct {
		Name string `json:"name" maxLength:"200"`
	}
}

type tagOut struct{ Body *crm.Tag }

func (a *apiServer) createTag(ctx context.Context, in *nameIn) (*tagOut, error) {
	t, err := a.Customers.CreateTag(ctx, caller(ctx), in.Body.Name)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &tagOut{Body: t}, nil
}

func (a *apiServer) listSegments(ctx context.Context, _ *struct{}) (*items[crm.Segment], error) {
	ss, err := a.Customers.Segments(ctx)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return list(ss), nil
}

type segmentOut struct{ Body *crm.Segment }

func (a *apiServer) createSegment(ctx context.Context, in *nameIn) (*segmentOut, error) {
	sg, err := a.Customers.CreateSegment(ctx, caller(ctx), in.Body.Name)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &segmentOut{Body: sg}, nil
}

func (a *apiServer) listCustomFields(ctx context.Context, _ *struct{}) (*items[crm.CustomField], error) {
	fs, err := a.Customers.CustomFields(ctx)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return list(fs), nil
}

type customFieldIn struct {
	Body struct {
		Key     string        `json:"key" maxLength:"40"`
		Label   string        `json:"label" maxLength:"100"`
		Type    crm.FieldType `json:"type" enum:"text,number,date,boolean,select,multiselect,url"`
		Options []string      `json:"options,omitempty" maxItems:"200"`
	}
}

type customFieldOut struct{ Body *crm.CustomField }

func (a *apiServer) createCustomField(ctx context.Context, in *customFieldIn) (*customFieldOut, error) {
	f, err := a.Customers.CreateCustomField(ctx, caller(ctx), crm.CustomField{Key: in.Body.Key, Label: in.Body.Label, Type: in.Body.Type, Options: in.Body.Options})
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &customFieldOut{Body: f}, nil
}

func (a *apiServer) listCountries(ctx context.Context, _ *struct{}) (*items[crm.CodeName], error) {
	return list(crm.Countries()), nil
}

func (a *apiServer) listLanguages(ctx context.Context, _ *struct{}) (*items[crm.CodeName], error) {
	return list(crm.Languages()), nil
}
