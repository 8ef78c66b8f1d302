package api

import (
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/importer"
)

// importRoutes registers the import endpoints of SPEC section 9.
func (a *apiServer) importRoutes(h huma.API) {
	huma.Register(h, huma.Operation{OperationID: "upload-import", Method: http.MethodPost, Path: "/api/v1/imports",
		Summary: "Upload a CSV file (multipart field `file`, up to 1 GiB); answers the columns and the automatic mapping",
		Tags:    []string{"Imports"}, DefaultStatus: http.StatusCreated, MaxBodyBytes: importer.MaxUpload + 1<<20, BodyReadTimeout: -1,
	}, a.uploadImport)
	// the body is read as a stream by uploadIn.Resolve; documented here only
	h.OpenAPI().Paths["/api/v1/imports"].Post.RequestBody = &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
		"multipart/form-data": {Schema: &huma.Schema{Type: "object", Required: []string{"file"}, Properties: map[string]*huma.Schema{
			"file": {Type: "string", Format: "binary", Description: "the CSV file"}}}}}}
	huma.Register(h, huma.Operation{OperationID: "list-imports", Method: http.MethodGet, Path: "/api/v1/imports",
		Summary: "Imports, newest first (members see their own)", Tags: []string{"Imports"}}, a.listImports)
	huma.Register(h, huma.Operation{OperationID: "get-import", Method: http.MethodGet, Path: "/api/v1/imports/{id}",
		Summary: "An import's status and counts", Tags: []string{"Imports"}}, a.getImport)
	huma.Register(h, huma.Operation{OperationID: "map-import", Method: http.MethodPut, Path: "/api/v1/imports/{id}/mapping",
		Summary: "Set the column mapping (null ignores a column) and the mode", Tags: []string{"Imports"}}, a.mapImport)
	huma.Register(h, huma.Operation{OperationID: "preview-import", Method: http.MethodGet, Path: "/api/v1/imports/{id}/preview",
		Summary: "The first rows as they will be stored, with errors and warnings, and counts for the whole file", Tags: []string{"Imports"}}, a.previewImport)
	huma.Register(h, huma.Operation{OperationID: "submit-import", Method: http.MethodPost, Path: "/api/v1/imports/{id}/submit",
		Summary: "Start the import in the background", Tags: []string{"Imports"}, DefaultStatus: http.StatusAccepted}, a.submitImport)
	huma.Register(h, huma.Operation{OperationID: "cancel-import", Method: http.MethodPost, Path: "/api/v1/imports/{id}/cancel",
		Summary: "Cancel an import (rows already imported stay, counted)", Tags: []string{"Imports"}}, a.cancelImport)
	huma.Register(h, huma.Operation{OperationID: "import-errors", Method: http.MethodGet, Path: "/api/v1/imports/{id}/errors.csv",
		Summary: "The error report: the failed rows with row number, error and the original columns", Tags: []string{"Imports"},
		Responses: map[string]*huma.Response{"200": {Description: "CSV", Content: map[string]*huma.MediaType{"text/csv": {}}}}}, a.importErrors)
}

// ImportOut is an import as the API shows it.
type ImportOut struct {
	ID        int64      `json:"id"`
	Status    string     `json:"status" enum:"uploaded,queued,running,done,failed,canceled"`
	Filename  string     `json:"filename"`
	Size      int64      `json:"size"`
	Mode      string     `json:"mode" enum:"create,upsert,update"`
	Total     int64      `json:"total"`
	Processed int64      `json:"processed"`
	Created   int64      `json:"created"`
	Updated   int64      `json:"updated"`
	Skipped   int64      `json:"skipped"`
	Failed    int64      `json:"failed"`
	Error     string     `json:"error,omitempty"`
	UserID    int64      `json:"user_id"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
	EndedAt   *time.Time `json:"ended_at"`
	// Columns and Mapping: while the import is being set up (status uploaded)
	Columns []string           `json:"columns,omitempty"`
	Mapping map[string]*string `json:"mapping,omitempty"`
	// Targets and Samples: for the mapping step, while being set up
	Targets []importer.Target   `json:"targets,omitempty" doc:"what a column can be imported into, with human names"`
	Samples map[string][]string `json:"samples,omitempty" doc:"the first two values of each column"`
}

func importOut(j *crm.ImportJob) ImportOut {
	return ImportOut{ID: j.ID, Status: j.Status, Filename: j.Filename, Size: j.Size, Mode: j.Mode, Total: j.Total,
		Processed: j.Processed, Created: j.Created, Updated: j.Updated, Skipped: j.Skipped, Failed: j.Failed, Error: j.Error,
		UserID: j.UserID, CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt, EndedAt: j.EndedAt}
}

// mappingOut turns "" (ignored) into null, as the contract has it.
func mappingOut(m map[string]string) map[string]*string {
	out := make(map[string]*string, len(m))
	for k, v := range m {
		if v != "" {
			vv := v
			out[k] = &vv
		} else {
			out[k] = nil
		}
	}
	return out
}

type uploadIn struct {
	body        io.Reader
	contentType string
}

// Resolve keeps the request body as a stream: the file is copied to disk as
// it arrives, never held in memory.
func (u *uploadIn) Resolve(ctx huma.Context) []error {
	u.body, u.contentType = ctx.BodyReader(), ctx.Header("Content-Type")
	return nil
}

type uploadOut struct {
	Body struct {
		ID        int64              `json:"id"`
		Filename  string             `json:"filename"`
		Columns   []string           `json:"columns"`
		Mapping   map[string]*string `json:"mapping"`
		Mode      string             `json:"mode"`
		Encoding  string             `json:"encoding"`
		Delimiter string             `json:"delimiter"`
		// what a column can be imported into, with human names
		Targets []importer.Target `json:"targets"`
		// the first two values of each column
		Samples map[string][]string `json:"samples"`
	}
}

func (a *apiServer) uploadImport(ctx context.Context, in *uploadIn) (*uploadOut, error) {
	mt, params, err := mime.ParseMediaType(in.contentType)
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, a.fail(ctx, crm.Invalid("file", "Send the file as multipart/form-data in the field \"file\"."))
	}
	mr := multipart.NewReader(in.body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, a.fail(ctx, crm.Invalid("file", "The request has no field \"file\"."))
		}
		if err != nil {
			return nil, a.fail(ctx, crm.Invalid("file", "The upload was cut off or malformed: %v", err))
		}
		if part.FormName() != "file" {
			continue
		}
		j, format, err := a.Imports.Upload(ctx, caller(ctx), part.FileName(), part)
		if err != nil {
			return nil, a.fail(ctx, err)
		}
		out := &uploadOut{}
		out.Body.ID, out.Body.Filename, out.Body.Columns = j.ID, j.Filename, format.Columns
		out.Body.Mapping, out.Body.Mode = mappingOut(j.Mapping), j.Mode
		out.Body.Encoding, out.Body.Delimiter = format.Encoding, string(format.Delimiter)
		if out.Body.Targets, out.Body.Samples, err = a.Imports.Setup(ctx, j); err != nil {
			return nil, a.fail(ctx, err)
		}
		return out, nil
	}
}

type importOne struct{ Body ImportOut }

type importIDIn struct {
	ID int64 `path:"id"`
}

func (a *apiServer) getImport(ctx context.Context, in *importIDIn) (*importOne, error) {
	j, err := a.Imports.Get(ctx, caller(ctx), in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	out := &importOne{Body: importOut(j)}
	if j.Status == crm.ImportUploaded {
		if out.Body.Columns, err = a.Imports.Columns(j); err != nil {
			return nil, a.fail(ctx, err)
		}
		out.Body.Mapping = mappingOut(j.Mapping)
		if out.Body.Targets, out.Body.Samples, err = a.Imports.Setup(ctx, j); err != nil {
			return nil, a.fail(ctx, err)
		}
	}
	return out, nil
}

type importList struct {
	Body struct {
		Items []ImportOut `json:"items"`
	}
}

func (a *apiServer) listImports(ctx context.Context, _ *struct{}) (*importList, error) {
	js, err := a.Imports.List(ctx, caller(ctx))
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	out := &importList{}
	out.Body.Items = make([]ImportOut, len(js))
	for i := range js {
		out.Body.Items[i] = importOut(&js[i])
	}
	return out, nil
}

type mapIn struct {
	ID   int64 `path:"id"`
	Body struct {
		Mapping map[string]*string `json:"mapping" doc:"column header -> target (first_name, email, score:<product>, custom:<field>...) or null to ignore"`
		Mode    string             `json:"mode,omitempty" enum:"create,upsert,update"`
	}
}

type mapOut struct {
	Body struct {
		ImportOut
		Columns []string           `json:"columns"`
		Mapping map[string]*string `json:"mapping"`
	}
}

func (a *apiServer) mapImport(ctx context.Context, in *mapIn) (*mapOut, error) {
	m := map[string]string{}
	for k, v := range in.Body.Mapping {
		if v != nil {
			m[k] = *v
		} else {
			m[k] = ""
		}
	}
	j, err := a.Imports.SetMapping(ctx, caller(ctx), in.ID, m, in.Body.Mode)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	cols, err := a.Imports.Columns(j)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	out := &mapOut{}
	out.Body.ImportOut, out.Body.Columns, out.Body.Mapping = importOut(j), cols, mappingOut(j.Mapping)
	return out, nil
}

type previewOut struct {
	Body struct {
		Rows   []importer.PreviewRow `json:"rows"`
		Counts importer.Counts       `json:"counts"`
	}
}

func (a *apiServer) previewImport(ctx context.Context, in *importIDIn) (*previewOut, error) {
	rows, counts, err := a.Imports.Preview(ctx, caller(ctx), in.ID, 20)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	out := &previewOut{}
	out.Body.Rows, out.Body.Counts = rows, *counts
	return out, nil
}

func (a *apiServer) submitImport(ctx context.Context, in *importIDIn) (*importOne, error) {
	j, err := a.Imports.Submit(ctx, caller(ctx), in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &importOne{Body: importOut(j)}, nil
}

func (a *apiServer) cancelImport(ctx context.Context, in *importIDIn) (*importOne, error) {
	j, err := a.Imports.Cancel(ctx, caller(ctx), in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &importOne{Body: importOut(j)}, nil
}

func (a *apiServer) importErrors(ctx context.Context, in *importIDIn) (*huma.StreamResponse, error) {
	j, err := a.Imports.Get(ctx, caller(ctx), in.ID)
	if err != nil {
		return nil, a.fail(ctx, err)
	}
	return &huma.StreamResponse{Body: func(hc huma.Context) {
		hc.SetHeader("Content-Type", "text/csv; charset=utf-8")
		hc.SetHeader("Content-Disposition", fmt.Sprintf(`attachment; filename="import-%d-errors.csv"`, j.ID))
		if err := a.Imports.ErrorReport(hc.Context(), caller(ctx), j.ID, hc.BodyWriter()); err != nil {
			a.log.ErrorContext(ctx, "error report failed", "import", j.ID, "err", err)
		}
	}}, nil
}
