package api

import (
	"context"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
)

type mergeIn struct {
	Body struct {
		PrimaryID    int64   `json:"primary_id" minimum:"1"`
		SecondaryIDs []int64 `json:"secondary_ids" maxItems:"20"`
		Confirm      bool    `json:"confirm,omitempty" doc:"must be true: a merge cannot be undone"`
	}
}

type planOut struct{ Body *customers.MergePlan }

func (a *apiServer) previewMerge(ctx context.Context, in *mergeIn) (*planOut, error) {
	p, err := a.Customers.PreviewMerge(ctx, caller(ctx), in.Body.PrimaryID, in.Body.SecondaryIDs)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &planOut{Body: p}, nil
}

type mergedOut struct {
	Body struct {
		Customer *crm.Customer        `json:"customer"`
		Merged   *customers.MergePlan `json:"merged"`
	}
}

func (a *apiServer) merge(ctx context.Context, in *mergeIn) (*mergedOut, error) {
	c, plan, err := a.Customers.Merge(ctx, caller(ctx), in.Body.PrimaryID, in.Body.SecondaryIDs, in.Body.Confirm)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	out := &mergedOut{}
	out.Body.Customer, out.Body.Merged = c, plan
	return out, nil
}
