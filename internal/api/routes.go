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
	huma.Register(h, get("export-customers", "/api/v1/customers/export.csv", "Every customer of the filter (or id=... selection) with contacts, as CSV", "Customers"), a.exportCSV)
	huma.Register(h, post("create-customer", "/api/v1/customers", "Add a customer", "Customers"), a.createCustomer)
	huma.Register(h, get("get-customer", "/api/v1/customers/{id}", "One customer with its contacts", "Customers"), a.getCustomer)

	patch := func(id, path, summary, tag string) huma.Operation {
		return huma.Operation{OperationID: id, Method: http.MethodPatch, Path: path, Summary: summary, Tags: []string{tag}}
	}
	action := func(id, path, summary, tag string) huma.Operation {
		return huma.Operation{OperationID: id, Method: http.MethodPost, Path: path, Summary: summary, Tags: []string{tag}}
	}
	huma.Register(h, patch("update-customer", "/api/v1/customers/{id}", "Edit a customer (each change is logged)", "Customers"), a.patchCustomer)
	for _, act := range []string{"claim", "unclaim", "release", "archive", "restore"} {
		huma.Register(h, action(act+"-customer", "/api/v1/customers/{id}/"+act, ownerSummary[act], "Ownership"), a.ownerAction(act))
	}
	huma.Register(h, action("reassign-customer", "/api/v1/customers/{id}/reassign", ownerSummary["reassign"], "Ownership"), a.reassign)
	// owner_id is what reassign needs; the schema says so (it cannot be
	// required by tag, since user_id may stand in for it)
	if op := h.OpenAPI().Paths["/api/v1/customers/{id}/reassign"].Post; op.RequestBody != nil {
		for _, mt := range op.RequestBody.Content {
			if s := h.OpenAPI().Components.Schemas.SchemaFromRef(mt.Schema.Ref); s != nil {
				s.Required = []string{"owner_id"}
			}
		}
	}
	huma.Register(h, action("tag-customer", "/api/v1/customers/{id}/tags", "Tag a customer (missing tags are created)", "Customers"), a.addTags)
	huma.Register(h, huma.Operation{OperationID: "untag-customer", Method: http.MethodDelete, Path: "/api/v1/customers/{id}/tags/{tag}",
		Summary: "Remove a tag from a customer", Tags: []string{"Customers"}}, a.removeTag)
	huma.Register(h, get("customer-activity", "/api/v1/customers/{id}/activity", "The customer's activity log, newest first", "Customers"), a.activity)
	huma.Register(h, get("customer-messages", "/api/v1/customers/{id}/messages", "The customer's messages, newest first", "Messages"), a.messages)

	huma.Register(h, post("add-contact", "/api/v1/customers/{id}/contacts", "Add a contact (value normalised)", "Contacts"), a.addContact)
	huma.Register(h, patch("update-contact", "/api/v1/contacts/{id}", "Change a contact's value or make it primary", "Contacts"), a.patchContact)
	huma.Register(h, huma.Operation{OperationID: "remove-contact", Method: http.MethodDelete, Path: "/api/v1/contacts/{id}",
		Summary: "Remove a contact (kept for the audit trail; its address stays suppressed if it was)", Tags: []string{"Contacts"}, DefaultStatus: http.StatusNoContent}, a.removeContact)
	huma.Register(h, action("suppress-contact", "/api/v1/contacts/{id}/suppress", "Suppress a contact's address: no send reaches it, on any customer that has it, now or later", "Contacts"), a.suppress)
	huma.Register(h, action("unsuppress-contact", "/api/v1/contacts/{id}/unsuppress", "Lift the suppression of a contact's address, for every customer that has it (a note is required)", "Contacts"), a.unsuppress)
	a.duplicateRoutes(h)
	a.webhookRoutes(h)
	huma.Register(h, get("contact-suppressions", "/api/v1/contacts/{id}/suppressions", "Every suppress and unsuppress of a contact's address", "Contacts"), a.suppressionHistory)

	huma.Register(h, get("customer-records", "/api/v1/customers/{id}/records", "Deals, notes and tasks of a customer", "Records"), a.records)
	huma.Register(h, post("add-deal", "/api/v1/customers/{id}/deals", "Add a deal", "Records"), a.addDeal)
	huma.Register(h, patch("update-deal", "/api/v1/deals/{id}", "Edit a deal", "Records"), a.editDeal)
	huma.Register(h, post("add-note", "/api/v1/customers/{id}/notes", "Add a note", "Records"), a.addNote)
	huma.Register(h, patch("update-note", "/api/v1/notes/{id}", "Edit a note", "Records"), a.editNote)
	huma.Register(h, post("add-task", "/api/v1/customers/{id}/tasks", "Add a task", "Records"), a.addTask)
	huma.Register(h, patch("update-task", "/api/v1/tasks/{id}", "Edit or complete a task", "Records"), a.editTask)

	huma.Register(h, patch("update-user", "/api/v1/users/{id}", "Change a user's name, role or active flag (admin only)", "Users"), a.patchUser)
	huma.Register(h, patch("update-me", "/api/v1/me", "Change your own name", "Users"), a.patchMe)
	huma.Register(h, action("reset-user-password", "/api/v1/users/{id}/reset-password",
		"Give a user a temporary password, returned once; their sessions end and they choose a new one at sign-in (admin only)", "Users"), a.resetPassword)
	huma.Register(h, post("create-product", "/api/v1/products", "Add a product (admin only)", "Catalog"), a.createProduct)
	huma.Register(h, patch("update-product", "/api/v1/products/{id}", "Rename a product (admin only)", "Catalog"), a.patchProduct)
	huma.Register(h, patch("update-custom-field", "/api/v1/custom-fields/{id}", "Edit or retire a custom field (admin only)", "Catalog"), a.patchCustomField)
	huma.Register(h, get("get-company", "/api/v1/companies/{id}", "One company", "Catalog"), a.getCompany)
	huma.Register(h, patch("update-company", "/api/v1/companies/{id}", "Change a company's name, domain or country", "Catalog"), a.patchCompany)
	a.companyMergeRoutes(h)

	huma.Register(h, action("send-email", "/api/v1/customers/{id}/send", "Send an e-mail (refused for a suppressed contact)", "Messages"), a.sendManual)
	huma.Register(h, huma.Operation{OperationID: "send-segment", Method: http.MethodPost, Path: "/api/v1/segments/{id}/send",
		Summary: "Send an e-mail to every customer of a segment, in the background (suppressed contacts skipped)", Tags: []string{"Messages"},
		DefaultStatus: http.StatusAccepted}, a.sendSegment)
	huma.Register(h, get("get-job", "/api/v1/jobs/{id}", "A background job: status, progress, result", "Jobs"), a.getJob)
	huma.Register(h, huma.Operation{OperationID: "cancel-job", Method: http.MethodPost, Path: "/api/v1/jobs/{id}/cancel",
		Summary: "Cancel a background job of yours (any, for an admin): what it did stays, counted; 409 when it has ended", Tags: []string{"Jobs"},
		Responses: map[string]*huma.Response{"202": {Description: "running: it stops after its current chunk (poll the job until \"canceled\")"}}}, a.cancelJob)
	huma.Register(h, huma.Operation{OperationID: "undo-bulk", Method: http.MethodPost, Path: "/api/v1/jobs/{id}/undo",
		Summary: "Undo a bulk action (its job's id) of yours (any, for an admin) within 24 hours: a job (202) that puts back what it changed, skipping customers changed since; 409 when it was undone already, is over 24 hours old or still runs", Tags: []string{"Jobs"},
		DefaultStatus: http.StatusAccepted}, a.undoBulk)
	huma.Register(h, action("preview-merge", "/api/v1/customers/merge/preview", "What a merge would move and fill; changes nothing", "Customers"), a.previewMerge)
	huma.Register(h, action("merge", "/api/v1/customers/merge", "Merge 2-10 customers into the primary (irreversible: confirm must be true)", "Customers"), a.merge)
	huma.Register(h, get("job-skipped", "/api/v1/jobs/{id}/skipped.csv", "Why a bulk job left each customer alone (CSV)", "Jobs"), a.skippedCSV)
	huma.Register(h, huma.Operation{OperationID: "bulk", Method: http.MethodPost, Path: "/api/v1/customers/bulk",
		Summary: "A bulk action on a selection (answered at once up to 500) or on every customer of a filter (a job: 202)", Tags: []string{"Customers"},
		Responses: map[string]*huma.Response{"202": {Description: "started in the background: {\"job\": {id, status}}"}}}, a.bulk)
	huma.Register(h, post("record-message", "/api/v1/messages", "Record an inbound message (or an outbound one sent elsewhere)", "Messages"), a.recordMessage)
	huma.Register(h, huma.Operation{OperationID: "email-events", Method: http.MethodPost, Path: "/api/v1/webhooks/email-events",
		Summary: "Bounces and complaints from the mail provider (Bearer CRM_WEBHOOK_TOKEN)", Tags: []string{"Messages"},
		Security: []map[string][]string{{"webhook": {}}}}, a.emailEvent)

	a.importRoutes(h)
	a.viewRoutes(h)
	a.eventRoutes(h)
	huma.Register(h, get("list-products", "/api/v1/products", "Products (for fit scores)", "Catalog"), a.listProducts)
	huma.Register(h, get("list-tags", "/api/v1/tags", "Tags by name, with customer counts: those starting with q, a page of limit after after", "Catalog"), a.listTags)
	huma.Register(h, post("create-tag", "/api/v1/tags", "Add a tag (or get the one of that name)", "Catalog"), a.createTag)
	huma.Register(h, get("list-segments", "/api/v1/segments", "Static segments with member counts", "Catalog"), a.listSegments)
	huma.Register(h, post("create-segment", "/api/v1/segments", "Add a static segment", "Catalog"), a.createSegment)
	a.companyRoutes(h)
	huma.Register(h, get("list-custom-fields", "/api/v1/custom-fields", "Custom field definitions", "Catalog"), a.listCustomFields)
	huma.Register(h, post("create-custom-field", "/api/v1/custom-fields", "Define a custom field (admin only)", "Catalog"), a.createCustomField)
	huma.Register(h, get("list-countries", "/api/v1/countries", "ISO 3166-1 countries with English names", "Catalog"), a.listCountries)
	huma.Register(h, get("list-languages", "/api/v1/languages", "ISO 639-1 languages with English names", "Catalog"), a.listLanguages)
}

var ownerSummary = map[string]string{
	"claim":    "Claim an unclaimed customer (refused, naming the owner, when owned)",
	"unclaim":  "Give up your own customer",
	"release":  "Remove any owner (admin only)",
	"reassign": "Give the customer to another active user (admin only); body {owner_id}",
	"archive":  "Archive (admin; a member for their own or unclaimed customers)",
	"restore":  "Restore an archived customer (not a merged one)",
}
