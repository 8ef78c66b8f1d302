package api

import (
	"net/http"

	"github.com/danielgtaylor/huma/v2"
)

// routes is the route table of the API, read top to bottom.
func (a *apiServer) routes(h huma.API) {
	huma.Register(h, huma.Operation{OperationID: "me", Method: http.MethodGet, Path: "/api/v1/me", Summary: "The caller", Tags: []string{"Users"}}, a.me)
	huma.Register(h, huma.Operation{OperationID: "list-users", Method: http.MethodGet, Path: "/api/v1/users", Summary: "Every user", Tags: []string{"Users"}}, a.listUsers)
	huma.Register(h, huma.Operation{OperationID: "create-user", Method: http.MethodPost, Path: "/api/v1/users", Summary: "Add a user (admin only)",
		Tags: []string{"Users"}, DefaultStatus: http.StatusCreated}, a.createUser)
}
