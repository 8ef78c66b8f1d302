// Package api serves the JSON API under /api/v1 with huma, so the OpenAPI
// document at /api/openapi.json is generated from the same Go types the
// handlers use and cannot drift from them. Handlers are thin: parse, call one
// service method, answer; domain errors become HTTP statuses in one place.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/acme/crm/internal/accounts"
	"github.com/acme/crm/internal/crm"
	"github.com/acme/crm/internal/customers"
	"github.com/acme/crm/internal/importer"
	"github.com/acme/crm/internal/jobs"
	"github.com/acme/crm/internal/live"
	"github.com/acme/crm/internal/obs"
	"github.com/acme/crm/internal/outreach"
	"github.com/acme/crm/internal/webhooks"
)

// Deps is what the API needs.
type Deps struct {
	Accounts     *accounts.Service
	Customers    *customers.Service
	Outreach     *outreach.Service
	Jobs         jobs.Queue
	Imports      *importer.Service
	WebhookToken string
	Store        crm.Store
	Webhooks     *webhooks.Service
	Log          *slog.Logger
	// SessionCSRF reports whether a cookie-authenticated request carries the
	// session's CSRF token (pages call the API with fetch).
	SessionCSRF func(r *http.Request) bool
	// Live serves GET /api/v1/events (live updates).
	Live *live.Hub
}

// ErrorBody is every error answer: {"error": {"code", "message", "field"?}}.
type ErrorBody struct {
	status int
	Err    ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of an error answer.
type ErrorDetail struct {
	Code    string            `json:"code" example:"invalid"`
	Message string            `json:"message" example:"country: \"XX\" is not a country code"`
	Field   string            `json:"field,omitempty" doc:"the input field the error concerns"`
	Fields  []FieldError      `json:"fields,omitempty" doc:"every invalid field, when several are"`
	Matches []customers.Match `json:"matches,omitempty" doc:"a create with check_duplicates: the active customers already holding the contact value"`
}

// FieldError is one invalid field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *ErrorBody) Error() string  { return e.Err.Message }
func (e *ErrorBody) GetStatus() int { return e.status }

func init() {
	// huma's own errors (validation, unknown body fields, ...) take our shape too.
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		code := "internal"
		switch {
		case status == http.StatusUnprocessableEntity || status == http.StatusBadRequest:
			status, code = http.StatusBadRequest, string(crm.CodeInvalid)
		case status == http.StatusNotFound:
			code = string(crm.CodeNotFound)
		case status == http.StatusUnauthorized:
			code = string(crm.CodeUnauthorized)
		case status == http.StatusForbidden:
			code = string(crm.CodeForbidden)
		case status == http.StatusConflict:
			code = string(crm.CodeConflict)
		case status < 500:
			code = "bad_request"
		}
		var details []string
		field := ""
		for _, e := range errs {
			if e == nil {
				continue
			}
			if d, ok := e.(huma.ErrorDetailer); ok {
				det := d.ErrorDetail()
				loc := det.Location
				for _, p := range []string{"query.", "path.", "body.", "header."} {
					loc = strings.TrimPrefix(loc, p)
				}
				if field == "" {
					field = loc
				}
				if loc != "" {
					details = append(details, loc+": "+det.Message)
					continue
				}
			}
			details = append(details, e.Error())
		}
		if len(details) > 0 {
			msg = strings.TrimSuffix(msg, ".") + ": " + strings.Join(details, "; ")
		}
		return &ErrorBody{status: status, Err: ErrorDetail{Code: code, Message: msg, Field: field}}
	}
}

// statusOf is the one mapping from domain error codes to HTTP statuses.
var statusOf = map[crm.Code]int{
	crm.CodeInvalid:      http.StatusBadRequest,
	crm.CodeNotFound:     http.StatusNotFound,
	crm.CodeForbidden:    http.StatusForbidden,
	crm.CodeConflict:     http.StatusConflict,
	crm.CodeUnauthorized: http.StatusUnauthorized,
	crm.CodeRateLimited:  http.StatusTooManyRequests,
}

// fail turns a service error into an API error answer.
func (a *apiServer) fail(ctx context.Context, err error) error {
	code := crm.CodeOf(err)
	status, ok := statusOf[code]
	if !ok {
		a.log.ErrorContext(ctx, "api request failed", "err", err)
		return &ErrorBody{status: http.StatusInternalServerError, Err: ErrorDetail{Code: "internal", Message: "Something went wrong on our side."}}
	}
	body := &ErrorBody{status: status, Err: ErrorDetail{Code: string(code), Message: err.Error()}}
	var de *crm.Error
	var fe crm.FieldErrors
	var dup *customers.DuplicateError
	if errors.As(err, &dup) {
		body.Err.Matches = dup.Matches
	}
	switch {
	case errors.As(err, &fe) && len(fe) > 0:
		body.Err.Field = fe[0].Field
		msgs := make([]string, len(fe))
		for i, e := range fe {
			msgs[i] = e.Error()
			body.Err.Fields = append(body.Err.Fields, FieldError{Field: e.Field, Message: e.Message})
		}
		body.Err.Message = strings.Join(msgs, "; ")
	case errors.As(err, &de):
		body.Err.Field = de.Field
		if de.Field != "" {
			body.Err.Fields = []FieldError{{Field: de.Field, Message: de.Message}}
		}
	}
	return body
}

type apiServer struct {
	Deps
	log *slog.Logger
}

// Handler returns the /api/ handler: the OpenAPI document (public) and
// /api/v1 (bearer token, or a signed-in page session with its CSRF token).
func Handler(d Deps) http.Handler {
	mux := http.NewServeMux()
	cfg := huma.DefaultConfig("Customers API", "1.0.0")
	cfg.OpenAPIPath = "/api/openapi"
	cfg.DocsPath = ""
	cfg.SchemasPath = ""
	cfg.CreateHooks = nil // no "$schema" links in bodies: answers are exactly the documented JSON
	cfg.Info.Description = "The Customers module of the CRM. Authenticate with `Authorization: Bearer <token>` " +
		"(create a token on the Settings page or with `crm token create`). Errors are `{\"error\": {\"code\", \"message\"}}`."
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer":  {Type: "http", Scheme: "bearer", Description: "a personal API token"},
		"webhook": {Type: "http", Scheme: "bearer", Description: "CRM_WEBHOOK_TOKEN"},
	}
	cfg.Security = []map[string][]string{{"bearer": {}}}
	h := humago.New(mux, cfg)
	a := &apiServer{Deps: d, log: d.Log}
	a.routes(h)
	return a.authenticate(obs.RecordPattern(mux)) // the route pattern for metrics
}

// authenticate puts the caller in the request context or answers 401.
func (a *apiServer) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/openapi") || strings.HasPrefix(r.URL.Path, "/api/v1/webhooks/") {
			// the document is public; webhooks check their own token
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		if h := r.Header.Get("Authorization"); h != "" {
			tok, ok := BearerToken(h)
			if !ok {
				writeError(w, http.StatusUnauthorized, crm.CodeUnauthorized, "Use Authorization: Bearer <token>.")
				return
			}
			u, err := a.Accounts.UserForToken(ctx, tok)
			if err != nil {
				if crm.CodeOf(err) == crm.CodeUnauthorized {
					writeError(w, http.StatusUnauthorized, crm.CodeUnauthorized, err.Error())
					return
				}
				a.log.ErrorContext(ctx, "token check failed", "err", err)
				writeError(w, http.StatusInternalServerError, "internal", "Something went wrong on our side.")
				return
			}
			next.ServeHTTP(w, r.WithContext(crm.ContextWithUser(ctx, u)))
			return
		}
		if u := crm.UserFromContext(ctx); u != nil { // a page session
			if r.Method != http.MethodGet && r.Method != http.MethodHead && !a.SessionCSRF(r) {
				writeError(w, http.StatusForbidden, crm.CodeForbidden, "Missing or wrong X-CSRF-Token header.")
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="crm"`)
		writeError(w, http.StatusUnauthorized, crm.CodeUnauthorized, "Sign in or send an API token: Authorization: Bearer <token>.")
	})
}

// BearerToken reads "Bearer <token>" from an Authorization header; the
// scheme is case-insensitive (RFC 9110, section 11.1).
func BearerToken(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

func writeError(w http.ResponseWriter, status int, code crm.Code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = jsonEncode(w, ErrorBody{Err: ErrorDetail{Code: string(code), Message: msg}})
}

// caller is the authenticated user of an API request (always set past authenticate).
func caller(ctx context.Context) *crm.User { return crm.UserFromContext(ctx) }
