package crm

import "time"

// Customer is a person the team sells to.
type Customer struct {
	ID           int64          `json:"id"`
	FullName     string         `json:"full_name"`
	FirstName    string         `json:"first_name"`
	LastName     string         `json:"last_name"`
	PrimaryEmail string         `json:"primary_email"`
	PrimaryPhone string         `json:"primary_phone"`
	AvatarURL    string         `json:"avatar_url"`
	Company      *CompanyRef    `json:"company"`
	Owner        *UserRef       `json:"owner"`
	Tags         []string       `json:"tags"`
	Segments     []int64        `json:"segments"`
	Language     string         `json:"language"`
	Country      string         `json:"country"`
	Timezone     string         `json:"timezone"`
	Scores       map[string]int `json:"scores"`
	Custom       map[string]any `json:"custom"`
	HasInbound   bool           `json:"has_inbound"`
	CreatedAt    time.Time      `json:"created_at"`
	UpdatedAt    time.Time      `json:"updated_at"`
	ArchivedAt   *time.Time     `json:"archived_at"`
	MergedInto   *int64         `json:"merged_into"`
	Contacts     []Contact      `json:"contacts,omitempty"`
}

// Archived reports whether the customer is archived.
func (c *Customer) Archived() bool { return c.ArchivedAt != nil }

// NewCustomer is what a store needs to insert a customer; the service fills
// and validates it.
type NewCustomer struct {
	FullName  string
	FirstName string
	LastName  string
	CompanyID *int64
	OwnerID   *int64
	Language  string
	Country   string
	Timezone  string
	CreatedAt time.Time
}

// CustomerPatch changes identity fields of a customer; nil fields are left alone.
// An empty string clears a field (except full name, which is required).
type CustomerPatch struct {
	FullName  *string
	FirstName *string
	LastName  *string
	CompanyID **int64 // set to a nil *int64 to clear the company
	Language  *string
	Country   *string
	Timezone  *string
}

// Empty reports whether the patch changes nothing.
func (p CustomerPatch) Empty() bool {
	return p.FullName == nil && p.FirstName == nil && p.LastName == nil && p.CompanyID == nil &&
		p.Language == nil && p.Country == nil && p.Timezone == nil
}

// Company groups customers.
type Company struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Domain  string `json:"domain"`
	Country string `json:"country"` // ISO 3166-1 alpha-2 or ""
	// CustomersActive counts its customers that are not archived (kept on
	// the row by the store); Customers is the same number under its first name.
	CustomersActive int       `json:"customers_active"`
	Customers       int       `json:"customers"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
}

// CompanyRef is the short form of a company inside a customer.
type CompanyRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Tag is a label; names are unique case-insensitively.
type Tag struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Customers int       `json:"customers"`
	CreatedAt time.Time `json:"created_at"`
}

// Segment is a named static list of customers.
type Segment struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Members   int       `json:"members"`  // every customer in it, archived ones too
	Active    int       `json:"active"`   // members not archived: what the table shows by default
	Archived  int       `json:"archived"` // archived (and merged) members: the table's archived view
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Product is something the organisation sells; customers have a fit score per product.
type Product struct {
	ID       int64  `json:"id"`
	Key      string `json:"key"`
	Name     string `json:"name"`
	Position int    `json:"position"`
}

// CustomerRef is the short form of a customer.
type CustomerRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}
