package api

import (
	"net/http"

	"github.com/danielgtaylor/huma/v2"
)

// routes is the route table of the API, read top to bottom.
func (a *apiServer) routes(h huma.API) {
	get := func(id, path, summary, tag string) huma.Operation {
		return huma.Operation{OperationID: id, Method: http.MethodGet, Path: path, Summary: summary, Tags: []string{tag}}
	}
	post := func(id, path, summary, tag string) huma.Operation {
		return huma.Operation{OperationID: id, Method: http.MethodPost, Path: path, Summary: summary, Tags: []string{tag}, DefaultStatus: http.StatusCreated}
	}
	huma.Register(h, get("me", "/api/v1/me", "The caller", "Users"), a.me)
	huma.Register(h, get("list-users", "/api/v1/users", "Every user", "Users"), a.listUsers)
	huma.Register(h, post("create-user", "/api/v1/users", "Add a user (admin only)", "Users"), a.createUser)

	huma.Register(h, get("list-customers", "/api/v1/customers", "Customers matching a filter, one keyset page", "Customers"), a.listCustomers)
	huma.Register(h, post("create-customer", "/api/v1/customers", "Add a customer", "Customers"), a.createCustomer)
	huma.Register(h, get("get-customer", "/api/v1/customers/{id}", "One customer with its contacts", "Customers"), a.getCustomer)

	huma.Register(h, get("list-products", "/api/v1/products", "Products (for fit scores)", "Catalog"), a.listProducts)
	huma.Register(h, get("list-tags", "/api/v1/tags", "Tags with customer counts", "Catalog"), a.listTags)
	huma.Register(h, post("create-tag", "/api/v1/tags", "Add a tag (or get the one of that name)", "Catalog"), a.createTag)
	huma.Register(h, get("list-segments", "/api/v1/segments", "Static segments with member counts", "Catalog"), a.listSegments)
	huma.Register(h, post("create-segment", "/api/v1/segments", "Add a static segment", "Catalog"), a.createSegment)
	huma.Register(h, get("list-companies", "/api/v1/companies", "Companies by name prefix", "Catalog"), a.listCompanies)
	huma.Register(h, post("create-company", "/api/v1/companies", "Add a company", "Catalog"), a.createCompany)
	huma.Register(h, get("list-custom-fields", "/api/v1/custom-fields", "Custom field definitions", "Catalog"), a.listCustomFields)
	huma.Register(h, post("create-custom-field", "/api/v1/custom-fields", "Define a custom field (admin only)", "Catalog"), a.createCustomField)
	huma.Register(h, get("list-countries", "/api/v1/countries", "ISO 3166-1 countries with English names", "Catalog"), a.listCountries)
	huma.Register(h, get("list-languages", "/api/v1/languages", "ISO 639-1 languages with English names", "Catalog"), a.listLanguages)
}
