package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/exporter"
)

// companyRoutes registers the Companies table's API (issue 13).
func (a *apiServer) companyRoutes(h huma.API) {
	huma.Register(h, huma.Operation{OperationID: "list-companies", Method: http.MethodGet, Path: "/api/v1/companies",
		Summary: "Companies (not archived) matching a filter, one keyset page, with the count", Tags: []string{"Catalog"}}, a.listCompanies)
	huma.Register(h, huma.Operation{OperationID: "export-companies", Method: http.MethodGet, Path: "/api/v1/companies/export.csv",
		Summary: "Every company of the filter, in its order, as CSV", Tags: []string{"Catalog"}}, a.exportCompanies)
	huma.Register(h, huma.Operation{OperationID: "create-company", Method: http.MethodPost, Path: "/api/v1/companies",
		Summary: "Add a company (name unique in any case; domain normalised and unique)", Tags: []string{"Catalog"},
		DefaultStatus: http.StatusCreated}, a.createCompany)
}

// companiesIn documents the list parameters; the raw query is parsed by
// customers.ParseCompanyQuery, the same parser the page and the export use.
type companiesIn struct {
	Q            string   `query:"q" doc:"part of the name or the domain, any case" maxLength:"200"`
	Name         string   `query:"name" doc:"exactly this name, any case (for pickers)" maxLength:"200"`
	Country      []string `query:"country,explode" doc:"ISO 3166-1 alpha-2 or an English name; repeatable"`
	HasCustomers string   `query:"has_customers" enum:"true,false" doc:"with (true) or without (false) active customers"`
	CreatedFrom  string   `query:"created_from" doc:"YYYY-MM-DD, inclusive, UTC"`
	CreatedTo    string   `query:"created_to" doc:"YYYY-MM-DD, inclusive, UTC"`
	Sort         string   `query:"sort" doc:"name (default), domain, country, customers_active or created; - prefix for descending"`
	Limit        string   `query:"limit" doc:"1-500, default 50"`
	Cursor       string   `query:"cursor" doc:"next_cursor of a previous page"`

	raw url.Values
}

// Resolve keeps the raw query for customers.ParseCompanyQuery.
func (in *companiesIn) Resolve(ctx huma.Context) []error {
	u := ctx.URL()
	in.raw = u.Query()
	return nil
}

// CompanyList is one page of companies.
type CompanyList struct {
	Items      []crm.Company `json:"items"`
	NextCursor string        `json:"next_cursor"`
	Total      int           `json:"total" doc:"matching companies"`
}

type companiesOut struct{ Body CompanyList }

func (a *apiServer) listCompanies(ctx context.Context, in *companiesIn) (*companiesOut, error) {
	q, err := customers.ParseCompanyQuery(in.raw)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	page, err := a.Customers.ListCompanies(ctx, q)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &companiesOut{Body: CompanyList{Items: page.Items, NextCursor: page.NextCursor, Total: page.Total}}, nil
}

func (a *apiServer) exportCompanies(ctx context.Context, in *companiesIn) (*huma.StreamResponse, error) {
	q, err := customers.ParseCompanyQuery(in.raw)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &huma.StreamResponse{Body: func(hc huma.Context) {
		hc.SetHeader("Content-Type", "text/csv; charset=utf-8")
		hc.SetHeader("Content-Disposition", fmt.Sprintf(`attachment; filename="companies-%s.csv"`, time.Now().UTC().Format("2006-01-02")))
		if _, err := exporter.WriteCompanies(ctx, a.Store, q, hc.BodyWriter()); err != nil {
			a.log.ErrorContext(ctx, "company export failed", "err", err)
			fmt.Fprintf(hc.BodyWriter(), "\nEXPORT FAILED: %v\n", err)
		}
	}}, nil
}

type companyIn struct {
	Body struct {
		Name    string `json:"name" maxLength:"200"`
		Domain  string `json:"domain,omitempty" maxLength:"2000" doc:"a domain or web address: normalised (lower case, no scheme, www. or path); unique among companies"`
		Country string `json:"country,omitempty" maxLength:"100" doc:"an ISO 3166-1 alpha-2 code or an English name"`
	}
}

type companyOut struct{ Body *crm.Company }

func (a *apiServer) createCompany(ctx context.Context, in *companyIn) (*companyOut, error) {
	c, err := a.Customers.CreateCompany(ctx, caller(ctx), customers.CompanyInput{Name: in.Body.Name, Domain: in.Body.Domain, Country: in.Body.Country})
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &companyOut{Body: c}, nil
}
