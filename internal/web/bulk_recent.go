package web

import (
	"context"
	"fmt"
	"time"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
)

// recentBulk is one line of "Recent bulk actions" on the Customers page.
type recentBulk struct {
	ID        int64
	Label     string
	By        string // who, when it was someone else (an admin sees everyone's)
	At        time.Time
	Available bool
	Reason    string
}

var bulkVerbs = map[string]string{
	customers.BulkClaim: "Claimed", customers.BulkRelease: "Released", customers.BulkTag: "Tagged",
	customers.BulkSegmentAdd: "Added", customers.BulkSegmentRemove: "Removed", customers.BulkArchive: "Archived", customers.BulkRestore: "Restored",
}

// bulkLabel says what a bulk action did: "Tagged 120 customers with vip".
func bulkLabel(a crm.BulkAction) string {
	n := "customers"
	if a.Done == 1 {
		n = "customer"
	}
	s := fmt.Sprintf("%s %s %s", bulkVerbs[a.Action], thousands(a.Done), n)
	switch a.Action {
	case customers.BulkTag:
		s += " with " + a.Detail
	case customers.BulkSegmentAdd:
		s += " to the segment " + a.Detail
	case customers.BulkSegmentRemove:
		s += " from the segment " + a.Detail
	}
	return s
}

// recentBulkActions lists the last day's bulk actions the user may undo.
func (w *Web) recentBulkActions(ctx context.Context, me *crm.User, users []crm.User) ([]recentBulk, error) {
	list, err := w.Customers.RecentBulkActions(ctx, me, 10)
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	for _, u := range users {
		names[u.ID] = u.Name
	}
	out := make([]recentBulk, len(list))
	for i, a := range list {
		r := recentBulk{ID: a.ID, Label: bulkLabel(a.BulkAction), At: a.CreatedAt, Available: a.Undo.Available, Reason: a.Undo.Reason}
		if a.UserID != me.ID {
			r.By = names[a.UserID]
		}
		if a.Undo.Reason == "still running" && a.FinishedAt == nil {
			r.Reason = "not finished"
		}
		out[i] = r
	}
	return out, nil
}
