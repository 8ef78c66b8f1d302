package api

import (
	"context"
	"fmt"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/acme/crm/internal/exporter"
)

// exportCSV streams the customers of the list's filter (or a selection: id=...).
func (a *apiServer) exportCSV(ctx context.Context, in *listIn) (*huma.StreamResponse, error) {
	q, err := a.Customers.ParseQuery(ctx, caller(ctx), in.raw)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	q.Cursor = ""
	return &huma.StreamResponse{Body: func(hc huma.Context) {
		hc.SetHeader("Content-Type", "text/csv; charset=utf-8")
		hc.SetHeader("Content-Disposition", fmt.Sprintf(`attachment; filename="customers-%s.csv"`, time.Now().UTC().Format("2006-01-02")))
		if _, err := exporter.Write(ctx, a.Store, q, hc.BodyWriter(), nil); err != nil {
			// the header is gone: say so at the end of the file rather than end it silently short
			a.log.ErrorContext(ctx, "export failed", "err", err)
			fmt.Fprintf(hc.BodyWriter(), "\nEXPORT FAILED: %v\n", err)
		}
	}}, nil
}
