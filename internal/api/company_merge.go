package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
)

// companyMergeRoutes: possible duplicate companies and the company merge (issue 13).
func (a *apiServer) companyMergeRoutes(h huma.API) {
	huma.Register(h, huma.Operation{OperationID: "company-duplicates", Method: http.MethodGet, Path: "/api/v1/companies/duplicates",
		Summary: "Possible duplicate companies: groups of active companies sharing a normalised domain or a loose name (case, accents, punctuation and legal forms such as Inc or GmbH ignored), one keyset page",
		Tags:    []string{"Catalog"}}, a.companyDuplicates)
	huma.Register(h, huma.Operation{OperationID: "company-log", Method: http.MethodGet, Path: "/api/v1/companies/{id}/log",
		Summary: "A company's log (merges), newest first", Tags: []string{"Catalog"}}, a.companyLog)
	huma.Register(h, huma.Operation{OperationID: "merge-companies", Method: http.MethodPost, Path: "/api/v1/companies/merge",
		Summary: "Merge companies into the one kept: with confirm false (or omitted) the preview, changing nothing; with confirm true the merge (irreversible): every customer moves to the kept company, the others are archived pointing at it. Admins; members when every customer that moves is theirs or unclaimed",
		Tags:    []string{"Catalog"}}, a.mergeCompanies)
}

type companyDuplicatesIn struct {
	After   string `query:"after" maxLength:"600" doc:"next_cursor of the previous page"`
	Limit   int    `query:"limit" minimum:"1" maximum:"200" default:"50"`
	Company int64  `query:"company" minimum:"0" doc:"only the groups this company belongs to (no paging)"`
}

type companyDuplicatesOut struct {
	Body struct {
		Items      []crm.CompanyGroup `json:"items"`
		NextCursor string             `json:"next_cursor"`
	}
}

func (a *apiServer) companyDuplicates(ctx context.Context, in *companyDuplicatesIn) (*companyDuplicatesOut, error) {
	var gs []crm.CompanyGroup
	var next string
	var err error
	if in.Company > 0 {
		if _, err = a.Customers.CompanyState(ctx, in.Company); err == nil {
			gs, err = a.Customers.CompanyDuplicatesOf(ctx, in.Company)
		}
	} else {
		gs, next, err = a.Customers.CompanyDuplicates(ctx, in.After, in.Limit)
	}
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	out := &companyDuplicatesOut{}
	out.Body.Items, out.Body.NextCursor = gs, next
	if out.Body.Items == nil {
		out.Body.Items = []crm.CompanyGroup{}
	}
	return out, nil
}

type companyLogIn struct {
	ID    int64 `path:"id"`
	Limit int   `query:"limit" minimum:"1" maximum:"500" default:"50"`
}

type companyLogOut struct {
	Body struct {
		Items []customers.CompanyEntry `json:"items"`
	}
}

func (a *apiServer) companyLog(ctx context.Context, in *companyLogIn) (*companyLogOut, error) {
	if _, err := a.Customers.CompanyState(ctx, in.ID); err != nil {
		return nil, a.fail(ctx, err)
	}
	list, err := a.Customers.CompanyLog(ctx, in.ID, in.Limit)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	out := &companyLogOut{}
	out.Body.Items = list
	if out.Body.Items == nil {
		out.Body.Items = []customers.CompanyEntry{}
	}
	return out, nil
}

type mergeCompaniesIn struct {
	Body struct {
		PrimaryID    int64   `json:"primary_id" minimum:"1" doc:"the company kept"`
		SecondaryIDs []int64 `json:"secondary_ids" minItems:"1" maxItems:"19" doc:"the companies merged into it"`
		Confirm      bool    `json:"confirm,omitempty" doc:"false: the preview; true: merge (cannot be undone)"`
	}
}

type mergeCompaniesOut struct {
	Body struct {
		Merged  bool                        `json:"merged" doc:"false for a preview"`
		Plan    *customers.CompanyMergePlan `json:"plan"`
		Company *crm.CompanyState           `json:"company" doc:"the kept company after the merge; null for a preview"`
	}
}

func (a *apiServer) mergeCompanies(ctx context.Context, in *mergeCompaniesIn) (*mergeCompaniesOut, error) {
	out := &mergeCompaniesOut{}
	if !in.Body.Confirm {
		p, err := a.Customers.PreviewCompanyMerge(ctx, caller(ctx), in.Body.PrimaryID, in.Body.SecondaryIDs)
		if err != nil {
			return nil, a.fail(ctx, err)
		}
		out.Body.Plan = p
		return out, nil
	}
	c, p, err := a.Customers.MergeCompanies(ctx, caller(ctx), in.Body.PrimaryID, in.Body.SecondaryIDs, true)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	out.Body.Merged, out.Body.Plan, out.Body.Company = true, p, c
	return out, nil
}
