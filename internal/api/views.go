package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
)

// viewRoutes are the saved views of the customer table (SPEC section 10).
func (a *apiServer) viewRoutes(h huma.API) {
	tags := []string{"Views"}
	huma.Register(h, huma.Operation{OperationID: "list-views", Method: http.MethodGet, Path: "/api/v1/views",
		Summary: "Your saved views and the shared ones, by name (counts=true adds each one's live count)", Tags: tags}, a.listViews)
	huma.Register(h, huma.Operation{OperationID: "create-view", Method: http.MethodPost, Path: "/api/v1/views",
		Summary: "Save a view of the customer table: a name, the list's query string (paging left out), columns, score product", Tags: tags,
		DefaultStatus: http.StatusCreated}, a.createView)
	huma.Register(h, huma.Operation{OperationID: "get-view", Method: http.MethodGet, Path: "/api/v1/views/{id}",
		Summary: "One view you may see (another's personal view is not found)", Tags: tags}, a.getView)
	huma.Register(h, huma.Operation{OperationID: "update-view", Method: http.MethodPatch, Path: "/api/v1/views/{id}",
		Summary: "Rename, share or replace a view's state (its author, or an admin for a shared view: else 403); pinned and default are the caller's own", Tags: tags}, a.patchView)
	huma.Register(h, huma.Operation{OperationID: "delete-view", Method: http.MethodDelete, Path: "/api/v1/views/{id}",
		Summary: "Delete a view (its author, or an admin for a shared view)", Tags: tags, DefaultStatus: http.StatusNoContent}, a.deleteView)
}

// ViewJSON is a saved view as the API shows it.
type ViewJSON struct {
	ID           int64     `json:"id"`
	Name         string    `json:"name"`
	Shared       bool      `json:"shared"`
	Pinned       bool      `json:"pinned" doc:"pinned to the caller's sidebar"`
	Default      bool      `json:"default" doc:"the view /crm/customers opens for the caller"`
	Owner        ViewOwner `json:"owner"`
	Query        string    `json:"query" doc:"the customer list's query string (GET /api/v1/customers takes it)"`
	Columns      []string  `json:"columns"`
	ScoreProduct string    `json:"score_product" doc:"the product the Score column shows; empty: the first"`
	URL          string    `json:"url" doc:"the page that opens the view"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	Count        *int      `json:"count,omitempty" doc:"with counts=true: customers matching now (at most 10,000, see count_exact)"`
	CountExact   *bool     `json:"count_exact,omitempty"`
}

// ViewOwner is who made a view.
type ViewOwner struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

func viewJSON(v *crm.SavedView) ViewJSON {
	cols := v.Columns
	if cols == nil {
		cols = []string{}
	}
	return ViewJSON{ID: v.ID, Name: v.Name, Shared: v.Shared, Pinned: v.Pinned, Default: v.Default,
		Owner: ViewOwner{ID: v.Owner.ID, Name: v.Owner.Name}, Query: v.Query, Columns: cols, ScoreProduct: v.ScoreProduct,
		URL: "/crm/views/" + strconv.FormatInt(v.ID, 10), CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt}
}

type listViewsIn struct {
	Pinned bool `query:"pinned" doc:"only the views pinned to your sidebar"`
	Counts bool `query:"counts" doc:"add each view's live count"`
}

type listViewsOut struct {
	Body struct {
		Items []ViewJSON `json:"items"`
	}
}

func (a *apiServer) listViews(ctx context.Context, in *listViewsIn) (*listViewsOut, error) {
	me := caller(ctx)
	views, err := a.Customers.Views(ctx, me)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	var keep []crm.SavedView
	for _, v := range views {
		if !in.Pinned || v.Pinned {
			keep = append(keep, v)
		}
	}
	var counts map[int64]customers.ViewCount
	if in.Counts {
		if len(keep) > 50 {
			return nil, a.fail(ctx, crm.Invalid("counts", "Counts are given for at most 50 views at once; ask with pinned=true."))
		}
		if counts, err = a.Customers.CountViews(ctx, me, keep); err != nil {
			return nil, a.fail(ctx, err)
		}
	}
	out := &listViewsOut{}
	out.Body.Items = make([]ViewJSON, len(keep))
	for i := range keep {
		out.Body.Items[i] = viewJSON(&keep[i])
		if c, ok := counts[keep[i].ID]; ok {
			out.Body.Items[i].Count, out.Body.Items[i].CountExact = &c.Total, &c.Exact
		}
	}
	return out, nil
}

type viewOut struct{ Body ViewJSON }

type viewIDIn struct {
	ID int64 `path:"id"`
}

func (a *apiServer) getView(ctx context.Context, in *viewIDIn) (*viewOut, error) {
	v, err := a.Customers.View(ctx, caller(ctx), in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &viewOut{Body: viewJSON(v)}, nil
}

type viewBody struct {
	Name         *string   `json:"name,omitempty" maxLength:"200"`
	Shared       *bool     `json:"shared,omitempty"`
	Query        *string   `json:"query,omitempty" maxLength:"8000" doc:"the list's query string, e.g. country=DE&tag=vip&sort=-created; cursor, before and limit are left out"`
	Columns      *[]string `json:"columns,omitempty" maxItems:"100" doc:"column keys in order: avatar, name, email, company, owner, score, created, phone, tags, segments, country, language, timezone, score:<product>, has_inbound, updated, custom:<field>"`
	ScoreProduct *string   `json:"score_product,omitempty" maxLength:"100"`
	Pinned       *bool     `json:"pinned,omitempty" doc:"pin to (or unpin from) your own sidebar"`
	Default      *bool     `json:"default,omitempty" doc:"make it (or stop it being) the view /crm/customers opens for you"`
}

type createViewIn struct{ Body viewBody }

func (a *apiServer) createView(ctx context.Context, in *createViewIn) (*viewOut, error) {
	me, b := caller(ctx), in.Body
	v, err := a.Customers.CreateView(ctx, me, customers.ViewInput{Name: b.Name, Shared: b.Shared, Query: b.Query, Columns: b.Columns, ScoreProduct: b.ScoreProduct})
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	if v, err = a.marks(ctx, me, v.ID, b); err != nil {
		return nil, a.fail(ctx, err)
	}
	return &viewOut{Body: viewJSON(v)}, nil
}

// marks applies the caller's own pin and default of a view, then reads it.
func (a *apiServer) marks(ctx context.Context, me *crm.User, id int64, b viewBody) (*crm.SavedView, error) {
	if b.Pinned != nil {
		if err := a.Customers.PinView(ctx, me, id, *b.Pinned); err != nil {
			return nil, err
		}
	}
	if b.Default != nil {
		if *b.Default {
			if err := a.Customers.SetDefaultView(ctx, me, id); err != nil {
				return nil, err
			}
		} else if d, err := a.Customers.DefaultView(ctx, me); err != nil {
			return nil, err
		} else if d != nil && d.ID == id {
			if err := a.Customers.SetDefaultView(ctx, me, 0); err != nil {
				return nil, err
			}
		}
	}
	return a.Customers.View(ctx, me, id)
}

type patchViewIn struct {
	ID   int64 `path:"id"`
	Body viewBody
}

func (a *apiServer) patchView(ctx context.Context, in *patchViewIn) (*viewOut, error) {
	me, b := caller(ctx), in.Body
	if b.Name != nil || b.Shared != nil || b.Query != nil || b.Columns != nil || b.ScoreProduct != nil {
		if _, err := a.Customers.UpdateView(ctx, me, in.ID, customers.ViewInput{Name: b.Name, Shared: b.Shared, Query: b.Query, Columns: b.Columns, ScoreProduct: b.ScoreProduct}); err != nil {
			return nil, a.fail(ctx, err)
		}
	}
	v, err := a.marks(ctx, me, in.ID, b)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &viewOut{Body: viewJSON(v)}, nil
}

func (a *apiServer) deleteView(ctx context.Context, in *viewIDIn) (*struct{}, error) {
	if err := a.Customers.DeleteView(ctx, caller(ctx), in.ID); err != nil {
		return nil, a.fail(ctx, err)
	}
	return nil, nil
}
