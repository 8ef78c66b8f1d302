package api

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/url"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/jobs"
)

// InlineBulkMax is the largest selection answered at once; beyond it, and for
// every "all matching" filter, the action runs as a background job.
const InlineBulkMax = 500

type bulkIn struct {
	Body struct {
		Action    string         `json:"action" enum:"claim,release,tag,segment_add,segment_remove,archive,restore"`
		IDs       []int64        `json:"ids,omitempty" maxItems:"100000" doc:"a selection"`
		Filter    map[string]any `json:"filter,omitempty" doc:"every customer matching the list's parameters, repeatable ones as arrays: {\"country\": [\"DE\"], \"tag\": [\"vip\"]}"`
		Tags      []string       `json:"tags,omitempty" maxItems:"20"`
		SegmentID int64          `json:"segment_id,omitempty"`
	}
}

type bulkOut struct {
	Status int
	Body   any
}

// filterValues turns the JSON filter into the list's query parameters.
func filterValues(f map[string]any) (url.Values, error) {
	v := url.Values{}
	for k, raw := range f {
		var vals []any
		switch x := raw.(type) {
		case []any:
			vals = x
		default:
			vals = []any{x}
		}
		for _, e := range vals {
			switch y := e.(type) {
			case string:
				v.Add(k, y)
			case float64:
				v.Add(k, strconv.FormatFloat(y, 'f', -1, 64))
			case bool:
				v.Add(k, strconv.FormatBool(y))
			case nil:
			default:
				return nil, crm.Invalid("filter."+k, "must be a string, number, boolean or a list of them")
			}
		}
	}
	return v, nil
}

func (a *apiServer) bulk(ctx context.Context, in *bulkIn) (*bulkOut, error) {
	me := caller(ctx)
	b := in.Body
	req := customers.BulkRequest{Action: b.Action, IDs: b.IDs, Tags: b.Tags, SegmentID: b.SegmentID}
	var filter url.Values
	if b.Filter != nil {
		var err error
		if filter, err = filterValues(b.Filter); err != nil {
			return nil, a.fail(ctx, err)
		}
		q, err := a.Customers.ParseQuery(ctx, me, filter)
		if err != nil {
			return nil, a.fail(ctx, err)
		}
		req.Filter = &q.Filter
	}
	if err := a.Customers.CheckBulk(ctx, me, &req); err != nil {
		return nil, a.fail(ctx, err)
	}
	args := jobs.Bulk{Action: req.Action, IDs: req.IDs, Filter: filter, Tags: req.Tags, SegmentID: req.SegmentID, UserID: me.ID}
	if req.Filter == nil && len(req.IDs) <= InlineBulkMax {
		// answered at once, but as a job all the same: recorded, so that it
		// can be undone by its id like any other bulk action
		id, err := a.Jobs.InsertHeld(ctx, args)
		if err != nil {
			return nil, a.fail(ctx, err)
		}
		res, err := jobs.RunBulkInline(ctx, a.Jobs, a.Store, a.Customers, me, id, req)
		if err != nil {
			return nil, a.fail(ctx, err)
		}
		out := inlineBulk{BulkResult: res, Job: JobRef{ID: id, Status: jobs.Done}}
		if ba, err := a.Store.GetBulkAction(ctx, id); err == nil {
			st := a.Customers.UndoStatusOf(ba, me, true)
			out.Undo = &st
		}
		return &bulkOut{Status: 200, Body: out}, nil
	}
	id, err := a.Jobs.Insert(ctx, args)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	out := &jobStarted{}
	out.Body.Job = JobRef{ID: id, Status: jobs.Queued}
	return &bulkOut{Status: 202, Body: out.Body}, nil
}

// inlineBulk is the answer of a bulk action done at once: what it did, its
// job's id (to undo it) and until when it can be undone.
type inlineBulk struct {
	*customers.BulkResult
	Job  JobRef                `json:"job"`
	Undo *customers.UndoStatus `json:"undo,omitempty"`
}

type skippedIn struct {
	ID int64 `path:"id" minimum:"1"`
}

// skippedCSV streams why a bulk job left each customer alone.
func (a *apiServer) skippedCSV(ctx context.Context, in *skippedIn) (*huma.StreamResponse, error) {
	j, err := a.Jobs.Get(ctx, in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	if me := caller(ctx); j.UserID != me.ID && !me.IsAdmin() {
		return nil, a.fail(ctx, crm.NotFound("job"))
	}
	return &huma.StreamResponse{Body: func(hc huma.Context) {
		hc.SetHeader("Content-Type", "text/csv; charset=utf-8")
		hc.SetHeader("Content-Disposition", fmt.Sprintf(`attachment; filename="job-%d-skipped.csv"`, in.ID))
		w := csv.NewWriter(hc.BodyWriter())
		_ = w.Write([]string{"customer_id", "name", "reason"})
		var after int64
		for {
			rows, err := a.Store.ListBulkSkips(ctx, in.ID, after, 5000)
			if err != nil {
				a.log.ErrorContext(ctx, "skipped.csv", "err", err)
				break
			}
			for _, r := range rows {
				_ = w.Write([]string{strconv.FormatInt(r.CustomerID, 10), crm.SafeCell(r.Name), r.Reason})
			}
			if len(rows) < 5000 {
				break
			}
			after = rows[len(rows)-1].CustomerID
		}
		w.Flush()
	}}, nil
}
