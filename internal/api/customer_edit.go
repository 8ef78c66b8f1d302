package api

import (
	"context"
	"encoding/json"
	"time"

	"github.com/acme/crm/internal/accounts"
	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
)

// patchCustomerIn edits a customer: omitted fields stay; company_id null clears.
type patchCustomerIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		FullName  *string          `json:"full_name,omitempty" maxLength:"200"`
		FirstName *string          `json:"first_name,omitempty" maxLength:"200"`
		LastName  *string          `json:"last_name,omitempty" maxLength:"200"`
		CompanyID *json.RawMessage `json:"company_id,omitempty" doc:"a company id (a company merged into another stands for that one), or null to clear"`
		Language  *string          `json:"language,omitempty"`
		Country   *string          `json:"country,omitempty"`
		Timezone  *string          `json:"timezone,omitempty"`
		Custom    map[string]any   `json:"custom,omitempty" doc:"custom field key -> value (null clears)"`
	}
}

func (a *apiServer) patchCustomer(ctx context.Context, in *patchCustomerIn) (*customerOut, error) {
	b := in.Body
	p := customers.Patch{FullName: b.FullName, FirstName: b.FirstName, LastName: b.LastName, Language: b.Language,
		Country: b.Country, Timezone: b.Timezone, Custom: b.Custom}
	if b.CompanyID != nil {
		var id *int64
		if err := json.Unmarshal(*b.CompanyID, &id); err != nil {
			return nil, a.fail(ctx, crm.Invalid("company_id", "is not a company id or null"))
		}
		p.CompanyID = &id
	}
	c, err := a.Customers.Update(ctx, caller(ctx), in.ID, p)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &customerOut{Body: c}, nil
}

// ownerIn is an ownership action that takes no body (claim, unclaim,
// release, archive, restore): any body sent, {} or empty, is ignored.
type ownerIn struct {
	ID int64 `path:"id" minimum:"1"`
}

// reassignIn names the new owner as owner_id, the name creating a customer
// uses; user_id, the name it had first, is still accepted (undocumented).
type reassignIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Body *struct {
		OwnerID int64 `json:"owner_id,omitempty" doc:"the new owner: an active user's id"`
		UserID  int64 `json:"user_id,omitempty" hidden:"true"`
	} `required:"false"`
}

// ownerAction answers one of claim, unclaim, release, archive, restore.
func (a *apiServer) ownerAction(action string) func(ctx context.Context, in *ownerIn) (*customerOut, error) {
	return func(ctx context.Context, in *ownerIn) (*customerOut, error) {
		me := caller(ctx)
		var c *crm.Customer
		var err error
		switch action {
		case customers.ActionClaim:
			c, err = a.Customers.Claim(ctx, me, in.ID)
		case customers.ActionUnclaim:
			c, err = a.Customers.Unclaim(ctx, me, in.ID)
		case customers.ActionRelease:
			c, err = a.Customers.Release(ctx, me, in.ID)
		case customers.ActionArchive:
			c, err = a.Customers.Archive(ctx, me, in.ID)
		case customers.ActionRestore:
			c, err = a.Customers.Restore(ctx, me, in.ID)
		}
		if err != nil {
			return nil, a.fail(ctx, err)
		}
		return &customerOut{Body: c}, nil
	}
}

func (a *apiServer) reassign(ctx context.Context, in *reassignIn) (*customerOut, error) {
	me := caller(ctx)
	var to int64
	if in.Body != nil {
		to = in.Body.OwnerID
		if to == 0 {
			to = in.Body.UserID
		}
	}
	if to == 0 {
		if !me.IsAdmin() {
			return nil, a.fail(ctx, crm.Forbidden("Only an admin can reassign a customer."))
		}
		return nil, a.fail(ctx, crm.Invalid("owner_id", "Say who gets the customer."))
	}
	c, err := a.Customers.Reassign(ctx, me, in.ID, to)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &customerOut{Body: c}, nil
}

type tagIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		Names []string `json:"names" minItems:"1" maxItems:"20"`
	}
}

func (a *apiServer) addTags(ctx context.Context, in *tagIn) (*customerOut, error) {
	c, err := a.Customers.AddTags(ctx, caller(ctx), in.ID, in.Body.Names)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &customerOut{Body: c}, nil
}

type untagIn struct {
	ID  int64  `path:"id" minimum:"1"`
	Tag string `path:"tag" maxLength:"50"`
}

func (a *apiServer) removeTag(ctx context.Context, in *untagIn) (*customerOut, error) {
	c, err := a.Customers.RemoveTag(ctx, caller(ctx), in.ID, in.Tag)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &customerOut{Body: c}, nil
}

type contactOut struct{ Body *crm.Contact }

type addContactIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		Channel crm.Channel `json:"channel" enum:"email,phone,linkedin,whatsapp,telegram,website,other"`
		Value   string      `json:"value" maxLength:"500"`
		Primary bool        `json:"primary,omitempty"`
	}
}

func (a *apiServer) addContact(ctx context.Context, in *addContactIn) (*contactOut, error) {
	k, err := a.Customers.AddContact(ctx, caller(ctx), in.ID, customers.ContactInput{Channel: in.Body.Channel, Value: in.Body.Value}, in.Body.Primary)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &contactOut{Body: k}, nil
}

type patchContactIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		Value   *string `json:"value,omitempty" maxLength:"500"`
		Primary bool    `json:"primary,omitempty" doc:"true makes it the primary of its channel"`
	}
}

func (a *apiServer) patchContact(ctx context.Context, in *patchContactIn) (*contactOut, error) {
	k, err := a.Customers.EditContact(ctx, caller(ctx), in.ID, in.Body.Value, in.Body.Primary)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &contactOut{Body: k}, nil
}

func (a *apiServer) removeContact(ctx context.Context, in *idIn) (*struct{}, error) {
	if err := a.Customers.RemoveContact(ctx, caller(ctx), in.ID); err != nil {
		return nil, a.fail(ctx, err)
	}
	return &struct{}{}, nil
}

type suppressIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		Reason crm.Reason `json:"reason" doc:"unsubscribe, bounce, complaint, manual or do_not_contact"`
		Note   string     `json:"note,omitempty" maxLength:"2000"`
	}
}

func (a *apiServer) suppress(ctx context.Context, in *suppressIn) (*contactOut, error) {
	k, err := a.Customers.Suppress(ctx, caller(ctx), in.ID, in.Body.Reason, in.Body.Note)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &contactOut{Body: k}, nil
}

type unsuppressIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		Note string `json:"note" maxLength:"2000" doc:"required: why this contact may be contacted again"`
	}
}

func (a *apiServer) unsuppress(ctx context.Context, in *unsuppressIn) (*contactOut, error) {
	k, err := a.Customers.Unsuppress(ctx, caller(ctx), in.ID, in.Body.Note)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &contactOut{Body: k}, nil
}

func (a *apiServer) suppressionHistory(ctx context.Context, in *idIn) (*items[crm.SuppressionEvent], error) {
	if _, err := a.Store.GetContact(ctx, in.ID); err != nil {
		return nil, a.fail(ctx, err)
	}
	h, err := a.Customers.SuppressionHistory(ctx, in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return list(h), nil
}

type activityIn struct {
	ID     int64 `path:"id" minimum:"1"`
	Before int64 `query:"before" doc:"an entry id: entries older than it"`
	Limit  int   `query:"limit" minimum:"1" maximum:"500" default:"50"`
}

type activityOut struct {
	Body struct {
		Items      []customers.Entry `json:"items"`
		NextBefore int64             `json:"next_before,omitempty" doc:"pass as before for the next (older) page"`
	}
}

func (a *apiServer) activity(ctx context.Context, in *activityIn) (*activityOut, error) {
	list, err := a.Customers.Activity(ctx, in.ID, in.Before, in.Limit)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	out := &activityOut{}
	out.Body.Items = list
	if len(list) == in.Limit {
		out.Body.NextBefore = list[len(list)-1].ID
	}
	return out, nil
}

func (a *apiServer) messages(ctx context.Context, in *idIn) (*items[crm.Message], error) {
	if _, err := a.Store.GetCustomer(ctx, in.ID); err != nil {
		return nil, a.fail(ctx, err)
	}
	ms, err := a.Store.ListMessages(ctx, in.ID, 200)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return list(ms), nil
}

type recordsOut struct{ Body *customers.Records }

func (a *apiServer) records(ctx context.Context, in *idIn) (*recordsOut, error) {
	if _, err := a.Store.GetCustomer(ctx, in.ID); err != nil {
		return nil, a.fail(ctx, err)
	}
	r, err := a.Customers.ListRecords(ctx, in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &recordsOut{Body: r}, nil
}

type dealBody struct {
	Title    *string `json:"title,omitempty" maxLength:"200"`
	Amount   *int64  `json:"amount,omitempty" doc:"in minor units (cents)"`
	Currency *string `json:"currency,omitempty" maxLength:"3"`
	Stage    *string `json:"stage,omitempty" enum:"lead,qualified,proposal,negotiation,won,lost"`
}

type dealIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Body dealBody
}

type dealOut struct{ Body *crm.Deal }

func (b dealBody) input() customers.DealInput {
	return customers.DealInput{Title: b.Title, Amount: b.Amount, Currency: b.Currency, Stage: b.Stage}
}

func (a *apiServer) addDeal(ctx context.Context, in *dealIn) (*dealOut, error) {
	d, err := a.Customers.AddDeal(ctx, caller(ctx), in.ID, in.Body.input())
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &dealOut{Body: d}, nil
}

func (a *apiServer) editDeal(ctx context.Context, in *dealIn) (*dealOut, error) {
	d, err := a.Customers.EditDeal(ctx, caller(ctx), in.ID, in.Body.input())
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &dealOut{Body: d}, nil
}

type noteIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		Body string `json:"body" maxLength:"20000"`
	}
}

type noteOut struct{ Body *crm.Note }

func (a *apiServer) addNote(ctx context.Context, in *noteIn) (*noteOut, error) {
	n, err := a.Customers.AddNote(ctx, caller(ctx), in.ID, in.Body.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &noteOut{Body: n}, nil
}

func (a *apiServer) editNote(ctx context.Context, in *noteIn) (*noteOut, error) {
	n, err := a.Customers.EditNote(ctx, caller(ctx), in.ID, in.Body.Body)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &noteOut{Body: n}, nil
}

type taskIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		Title *string          `json:"title,omitempty" maxLength:"200"`
		Due   *json.RawMessage `json:"due,omitempty" doc:"YYYY-MM-DD, or null to clear"`
		Done  *bool            `json:"done,omitempty"`
	}
}

type taskOut struct{ Body *crm.Task }

func (a *apiServer) taskInput(ctx context.Context, in *taskIn) (customers.TaskInput, error) {
	ti := customers.TaskInput{Title: in.Body.Title, Done: in.Body.Done}
	if in.Body.Due != nil {
		var s *string
		if err := json.Unmarshal(*in.Body.Due, &s); err != nil {
			return ti, crm.Invalid("due", "is not a date (YYYY-MM-DD) or null")
		}
		var due *time.Time
		if s != nil && *s != "" {
			t, err := time.Parse(time.DateOnly, *s)
			if err != nil {
				return ti, crm.Invalid("due", "%q is not a date (YYYY-MM-DD)", *s)
			}
			due = &t
		}
		ti.Due = &due
	}
	return ti, nil
}

func (a *apiServer) addTask(ctx context.Context, in *taskIn) (*taskOut, error) {
	ti, err := a.taskInput(ctx, in)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	t, err := a.Customers.AddTask(ctx, caller(ctx), in.ID, ti)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &taskOut{Body: t}, nil
}

func (a *apiServer) editTask(ctx context.Context, in *taskIn) (*taskOut, error) {
	ti, err := a.taskInput(ctx, in)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	t, err := a.Customers.EditTask(ctx, caller(ctx), in.ID, ti)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &taskOut{Body: t}, nil
}

type companyGetOut struct{ Body *crm.Company }

func (a *apiServer) getCompany(ctx context.Context, in *idIn) (*companyGetOut, error) {
	c, err := a.Customers.Company(ctx, in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &companyGetOut{Body: c}, nil
}

type patchCompanyIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		Name    *string `json:"name,omitempty" maxLength:"200"`
		Domain  *string `json:"domain,omitempty" maxLength:"2000" doc:"a domain or web address: normalised (lower case, no scheme, www. or path); unique among companies"`
		Country *string `json:"country,omitempty" maxLength:"100" doc:"an ISO 3166-1 alpha-2 code or an English name; empty to clear"`
	}
}

func (a *apiServer) patchCompany(ctx context.Context, in *patchCompanyIn) (*companyGetOut, error) {
	c, err := a.Customers.UpdateCompany(ctx, caller(ctx), in.ID, in.Body.Name, in.Body.Domain, in.Body.Country)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &companyGetOut{Body: c}, nil
}

type patchUserIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		Name   *string   `json:"name,omitempty" maxLength:"200"`
		Role   *crm.Role `json:"role,omitempty" enum:"admin,member"`
		Active *bool     `json:"active,omitempty"`
	}
}

func (a *apiServer) patchUser(ctx context.Context, in *patchUserIn) (*userOut, error) {
	u, err := a.Accounts.UpdateUser(ctx, caller(ctx), in.ID, accounts.UserChange{Name: in.Body.Name, Role: in.Body.Role, Active: in.Body.Active})
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &userOut{Body: userJSON(u)}, nil
}

type productIn struct {
	Body struct {
		Key  string `json:"key" maxLength:"40"`
		Name string `json:"name" maxLength:"100"`
	}
}

type productOut struct{ Body *crm.Product }

func (a *apiServer) createProduct(ctx context.Context, in *productIn) (*productOut, error) {
	p, err := a.Customers.CreateProduct(ctx, caller(ctx), in.Body.Key, in.Body.Name)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &productOut{Body: p}, nil
}

type patchProductIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		Name string `json:"name" maxLength:"100"`
	}
}

func (a *apiServer) patchProduct(ctx context.Context, in *patchProductIn) (*productOut, error) {
	p, err := a.Customers.RenameProduct(ctx, caller(ctx), in.ID, in.Body.Name)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &productOut{Body: p}, nil
}

type patchFieldIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Body struct {
		Label   *string   `json:"label,omitempty" maxLength:"100"`
		Options *[]string `json:"options,omitempty" maxItems:"200"`
		Retired *bool     `json:"retired,omitempty" doc:"true retires the field (values are kept)"`
	}
}

func (a *apiServer) patchCustomField(ctx context.Context, in *patchFieldIn) (*customFieldOut, error) {
	f, err := a.Customers.UpdateCustomField(ctx, caller(ctx), in.ID, customers.CustomFieldChange{Label: in.Body.Label, Options: in.Body.Options, Retired: in.Body.Retired})
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &customFieldOut{Body: f}, nil
}
