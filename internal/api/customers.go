package api

import (
	"context"
	"net/url"

	"github.com/danielgtaylor/huma/v2"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
)

// listIn documents the list parameters; the raw query is parsed by
// customers.ParseQuery, the same parser the page, export and bulk use.
type listIn struct {
	Q            string   `query:"q" doc:"search over name, e-mail, company and phone"`
	Owner        string   `query:"owner" doc:"me, none or a user id"`
	Tag          []string `query:"tag,explode" doc:"a tag name; repeatable"`
	TagMode      string   `query:"tag_mode" enum:"any,all" doc:"any (default) or all of the tags"`
	Segment      string   `query:"segment" doc:"a segment id"`
	Company      []string `query:"company,explode" doc:"a company id; repeatable (any of them)"`
	Country      []string `query:"country,explode" doc:"ISO 3166-1 alpha-2; repeatable"`
	Language     []string `query:"language,explode" doc:"ISO 639-1; repeatable"`
	HasInbound   string   `query:"has_inbound" enum:"true,false"`
	ScoreProduct string   `query:"score_product" doc:"a product key; needed with score_min/score_max"`
	ScoreMin     string   `query:"score_min" doc:"0-100, inclusive"`
	ScoreMax     string   `query:"score_max" doc:"0-100, inclusive"`
	CreatedFrom  string   `query:"created_from" doc:"YYYY-MM-DD, inclusive, UTC"`
	CreatedTo    string   `query:"created_to" doc:"YYYY-MM-DD, inclusive, UTC"`
	Archived     string   `query:"archived" enum:"false,true,all" doc:"false (default): active only"`
	Sort         string   `query:"sort" doc:"name, email, created, updated, country or language; - prefix for descending; default -created"`
	Limit        string   `query:"limit" doc:"1-500, default 50"`
	Cursor       string   `query:"cursor" doc:"next_cursor (or prev_cursor with before=true) of a previous page"`
	Before       string   `query:"before" doc:"true to page backwards from cursor"`

	raw url.Values
}

// Resolve keeps the raw query for customers.ParseQuery.
func (in *listIn) Resolve(ctx huma.Context) []error {
	u := ctx.URL()
	in.raw = u.Query()
	return nil
}

// CustomerList is one page of customers.
type CustomerList struct {
	Items      []crm.Customer `json:"items"`
	NextCursor string         `json:"next_cursor"`
	PrevCursor string         `json:"prev_cursor"`
	Total      int            `json:"total" doc:"matching customers; a lower bound when total_exact is false"`
	TotalExact bool           `json:"total_exact"`
}

type listOut struct{ Body CustomerList }

func (a *apiServer) listCustomers(ctx context.Context, in *listIn) (*listOut, error) {
	q, err := a.Customers.ParseQuery(ctx, caller(ctx), in.raw)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	page, err := a.Customers.List(ctx, q)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	for i := range page.Items {
		page.Items[i].Contacts = nil
	}
	return &listOut{Body: CustomerList{Items: page.Items, NextCursor: page.NextCursor, PrevCursor: page.PrevCursor,
		Total: page.Total, TotalExact: page.TotalExact}}, nil
}

type createCustomerIn struct {
	Body struct {
		FullName        string                  `json:"full_name" maxLength:"200"`
		FirstName       string                  `json:"first_name,omitempty" maxLength:"200"`
		LastName        string                  `json:"last_name,omitempty" maxLength:"200"`
		Contact         *customers.ContactInput `json:"contact,omitempty"`
		CompanyID       *int64                  `json:"company_id,omitempty" doc:"a company merged into another stands for that one"`
		CompanyName     string                  `json:"company_name,omitempty" maxLength:"200" doc:"found case-insensitively (a company merged into another finds that one), created when missing"`
		OwnerID         *int64                  `json:"owner_id,omitempty" doc:"omitted or null: unclaimed"`
		Tags            []string                `json:"tags,omitempty" maxItems:"20"`
		Language        string                  `json:"language,omitempty"`
		Country         string                  `json:"country,omitempty"`
		Timezone        string                  `json:"timezone,omitempty"`
		Custom          map[string]any          `json:"custom,omitempty"`
		CheckDuplicates bool                    `json:"check_duplicates,omitempty" doc:"true: refuse with 409 (error.matches naming them) when active customers already hold the contact value; omitted: the customer is added anyway (values may be shared)"`
	}
}

type customerOut struct{ Body *crm.Customer }

func (a *apiServer) createCustomer(ctx context.Context, in *createCustomerIn) (*customerOut, error) {
	b := in.Body
	c, err := a.Customers.Create(ctx, caller(ctx), customers.NewCustomer{FullName: b.FullName, FirstName: b.FirstName, LastName: b.LastName,
		Contact: b.Contact, CompanyID: b.CompanyID, CompanyName: b.CompanyName, OwnerID: b.OwnerID, Tags: b.Tags,
		Language: b.Language, Country: b.Country, Timezone: b.Timezone, Custom: b.Custom, Source: "api", CheckDuplicates: b.CheckDuplicates})
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &customerOut{Body: c}, nil
}

type idIn struct {
	ID int64 `path:"id" minimum:"1"`
}

func (a *apiServer) getCustomer(ctx context.Context, in *idIn) (*customerOut, error) {
	c, err := a.Store.GetCustomer(ctx, in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &customerOut{Body: c}, nil
}
