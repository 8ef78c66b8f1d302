package customers

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/acme/crm/internal/crm"
)

// Companies lists companies whose name starts with prefix.
func (s *Service) Companies(ctx context.Context, prefix string, limit int) ([]crm.Company, error) {
	return s.Store.ListCompanies(ctx, prefix, limit)
}

// CompanyInput is what a user gives for a company.
type CompanyInput struct {
	Name, Domain, Country string
}

// CreateCompany adds a company (the Companies page, the quick-create of the
// Add customer modal, the API). The name is required and unique in any
// case; the domain is normalised and unique among listed companies.
func (s *Service) CreateCompany(ctx context.Context, actor *crm.User, in CompanyInput) (*crm.Company, error) {
	c, err := validCompany(in.Name, in.Domain, in.Country)
	if err != nil {
		return nil, err
	}
	if err := s.domainFree(ctx, c.Domain, 0); err != nil {
		return nil, err
	}
	c.CreatedAt = s.now()
	if err := s.Store.CreateCompany(ctx, c); err != nil {
		if crm.CodeOf(err) == crm.CodeConflict {
			return nil, s.companyConflict(ctx, c, 0, true)
		}
		return nil, err
	}
	return c, nil
}

// domainFree refuses a domain that another listed company has, naming it.
func (s *Service) domainFree(ctx context.Context, domain string, self int64) error {
	if domain == "" {
		return nil
	}
	other, err := s.Store.FindCompanyByDomain(ctx, domain)
	if errors.Is(err, crm.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if other.ID == self {
		return nil
	}
	return crm.FieldErrors{crm.Invalid("domain", "%s already has the domain %s.", other.Name, domain)}
}

// companyConflict says which field a unique violation was about (a company
// written meanwhile by someone else: the store's unique indexes decide).
func (s *Service) companyConflict(ctx context.Context, c *crm.Company, self int64, domainChanged bool) error {
	if domainChanged {
		if err := s.domainFree(ctx, c.Domain, self); err != nil {
			return err
		}
	}
	return crm.FieldErrors{crm.Invalid("name", "A company named %q already exists; pick it instead.", c.Name)}
}

// validCompany checks and tidies a company's name, domain and country.
func validCompany(name, domain, country string) (*crm.Company, error) {
	var fe crm.FieldErrors
	for k, v := range map[string]string{"name": name, "domain": domain, "country": country} {
		if err := crm.CheckText(k, v); err != nil {
			return nil, err
		}
	}
	name = strings.TrimSpace(name)
	if name == "" {
		fe.Add("name", "Enter the company's name.")
	} else if utf8.RuneCountInString(name) > MaxName {
		fe.Add("name", "Use at most %d characters.", MaxName)
	}
	typed := strings.TrimSpace(domain)
	domain = crm.NormalizeDomain(domain)
	if domain != "" && (len(domain) > 253 || !domainRe.MatchString(domain)) {
		fe.Add("domain", "%q is not a domain such as example.com.", typed)
	} else if typed != "" && domain == "" {
		fe.Add("domain", "%q is not a domain such as example.com.", typed)
	}
	code := ""
	if country = strings.TrimSpace(country); country != "" {
		var err error
		if code, err = crm.NormalizeCountry(country); err != nil {
			fe.Add("country", "%q is not a country code or name.", country)
		}
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	return &crm.Company{Name: name, Domain: domain, Country: code}, nil
}

var domainRe = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

// MaxTagPage is the most tags one SearchTags answers.
const MaxTagPage = 1000

// SearchTags lists at most limit tags whose name starts with prefix (after
// the name after, for the next page), by name, with their customer counts.
func (s *Service) SearchTags(ctx context.Context, prefix, after string, limit int) ([]crm.Tag, error) {
	if limit <= 0 || limit > MaxTagPage {
		limit = MaxTagPage
	}
	return s.Store.SearchTags(ctx, strings.TrimSpace(prefix), strings.TrimSpace(after), limit)
}

// CreateTag adds a tag (or returns the existing one of that name, in any case).
func (s *Service) CreateTag(ctx context.Context, actor *crm.User, name string) (*crm.Tag, error) {
	names, err := cleanTags([]string{name})
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, crm.Invalid("name", "Enter a tag name.")
	}
	tags, err := s.Store.EnsureTags(ctx, names, s.now())
	if err != nil {
		return nil, err
	}
	return &tags[0], nil
}

// Segments lists every segment with its member count.
func (s *Service) Segments(ctx context.Context) ([]crm.Segment, error) {
	return s.Store.ListSegments(ctx)
}

// CreateSegment adds a static segment.
func (s *Service) CreateSegment(ctx context.Context, actor *crm.User, name string) (*crm.Segment, error) {
	if err := crm.CheckText("name", name); err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, crm.Invalid("name", "Enter a segment name.")
	}
	if utf8.RuneCountInString(name) > MaxName {
		return nil, crm.Invalid("name", "Use at most %d characters.", MaxName)
	}
	sg := &crm.Segment{Name: name, CreatedAt: s.now()}
	if err := s.Store.CreateSegment(ctx, sg); err != nil {
		if crm.CodeOf(err) == crm.CodeConflict {
			return nil, crm.Invalid("name", "A segment named %q already exists.", name)
		}
		return nil, err
	}
	return sg, nil
}

// Products lists the organisation's products.
func (s *Service) Products(ctx context.Context) ([]crm.Product, error) {
	return s.Store.ListProducts(ctx)
}

// CustomFields lists the live custom field definitions.
func (s *Service) CustomFields(ctx context.Context) ([]crm.CustomField, error) {
	return s.Store.ListCustomFields(ctx, false)
}

// AllCustomFields lists the custom field definitions, retired ones too (the
// Settings page lists them so that an admin can bring one back).
func (s *Service) AllCustomFields(ctx context.Context) ([]crm.CustomField, error) {
	return s.Store.ListCustomFields(ctx, true)
}

var fieldKeyRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// CreateCustomField defines a custom field (admins only).
func (s *Service) CreateCustomField(ctx context.Context, actor *crm.User, f crm.CustomField) (*crm.CustomField, error) {
	if !actor.IsAdmin() {
		return nil, crm.Forbidden("Only an admin can define custom fields.")
	}
	var fe crm.FieldErrors
	f.Key, f.Label = strings.TrimSpace(f.Key), strings.TrimSpace(f.Label)
	if f.Key == "" { // no key typed: the label's (the form fills it in as the label is typed)
		f.Key = FieldKeyFromLabel(f.Label)
	}
	if !fieldKeyRe.MatchString(f.Key) {
		fe.Add("key", "Use 1-40 lower-case letters, digits and _, starting with a letter.")
	}
	if f.Label == "" || utf8.RuneCountInString(f.Label) > 100 {
		fe.Add("label", "Enter a label of at most 100 characters.")
	}
	if !f.Type.Valid() {
		fe.Add("type", "%q is not a field type.", f.Type)
	}
	var opts []string
	for _, o := range f.Options {
		if o = strings.TrimSpace(o); o != "" && !contains(opts, o) {
			opts = append(opts, o)
		}
	}
	f.Options = opts
	choice := f.Type == crm.FieldSelect || f.Type == crm.FieldMultiselect
	switch {
	case choice && len(f.Options) == 0:
		fe.Add("options", "A %s field needs at least one option.", f.Type)
	case !choice && len(f.Options) > 0 && f.Type.Valid():
		fe.Add("options", "Options are for select and multiselect fields; clear them for a %s field.", f.Type)
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	f.CreatedAt = s.now()
	if err := s.Store.CreateCustomField(ctx, &f); err != nil {
		if errors.Is(err, crm.ErrConflict) {
			return nil, crm.Invalid("key", "A custom field with the key %q already exists.", f.Key)
		}
		return nil, err
	}
	return &f, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

var productKeyRe = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,39}$`)

// CreateProduct adds a product for fit scores (admins only).
func (s *Service) CreateProduct(ctx context.Context, actor *crm.User, key, name string) (*crm.Product, error) {
	if !actor.IsAdmin() {
		return nil, crm.Forbidden("Only an admin can add products.")
	}
	var fe crm.FieldErrors
	key, name = strings.TrimSpace(key), strings.TrimSpace(name)
	if !productKeyRe.MatchString(key) {
		fe.Add("key", "Use 1-40 lower-case letters, digits, - and _, starting with a letter.")
	}
	if name == "" || utf8.RuneCountInString(name) > 100 {
		fe.Add("name", "Enter a name of at most 100 characters.")
	}
	if err := fe.Err(); err != nil {
		return nil, err
	}
	existing, err := s.Store.ListProducts(ctx)
	if err != nil {
		return nil, err
	}
	p := &crm.Product{Key: key, Name: name, Position: len(existing) + 1}
	if err := s.Store.CreateProduct(ctx, p); err != nil {
		if errors.Is(err, crm.ErrConflict) {
			return nil, crm.Invalid("key", "A product with the key %q already exists.", key)
		}
		return nil, err
	}
	return p, nil
}

// RenameProduct changes a product's name (admins only; the key is fixed).
func (s *Service) RenameProduct(ctx context.Context, actor *crm.User, id int64, name string) (*crm.Product, error) {
	if !actor.IsAdmin() {
		return nil, crm.Forbidden("Only an admin can change products.")
	}
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return nil, crm.Invalid("name", "Enter a name of at most 100 characters.")
	}
	ps, err := s.Store.ListProducts(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if p.ID == id {
			p.Name = name
			return &p, s.Store.UpdateProduct(ctx, &p)
		}
	}
	return nil, crm.NotFound("product")
}

// CustomFieldChange edits a definition; key and type are fixed once values exist.
type CustomFieldChange struct {
	Label   *string
	Options *[]string
	Retired *bool
}

// UpdateCustomField edits or retires a custom field (admins only). A retired
// field disappears from forms and the table; its values are kept.
func (s *Service) UpdateCustomField(ctx context.Context, actor *crm.User, id int64, ch CustomFieldChange) (*crm.CustomField, error) {
	if !actor.IsAdmin() {
		return nil, crm.Forbidden("Only an admin can change custom fields.")
	}
	all, err := s.Store.ListCustomFields(ctx, true)
	if err != nil {
		return nil, err
	}
	for _, f := range all {
		if f.ID != id {
			continue
		}
		if ch.Label != nil {
			l := strings.TrimSpace(*ch.Label)
			if l == "" || utf8.RuneCountInString(l) > 100 {
				return nil, crm.Invalid("label", "Enter a label of at most 100 characters.")
			}
			f.Label = l
		}
		if ch.Options != nil {
			var opts []string
			for _, o := range *ch.Options {
				if o = strings.TrimSpace(o); o != "" && !contains(opts, o) {
					opts = append(opts, o)
				}
			}
			if (f.Type == crm.FieldSelect || f.Type == crm.FieldMultiselect) && len(opts) == 0 {
				return nil, crm.Invalid("options", "A %s field needs at least one option.", f.Type)
			}
			f.Options = opts
		}
		if ch.Retired != nil {
			if *ch.Retired && f.RetiredAt == nil {
				now := s.now()
				f.RetiredAt = &now
			} else if !*ch.Retired {
				f.RetiredAt = nil
			}
		}
		if err := s.Store.UpdateCustomField(ctx, &f); err != nil {
			return nil, err
		}
		return &f, nil
	}
	return nil, crm.NotFound("custom field")
}

// Company returns one company.
func (s *Service) Company(ctx context.Context, id int64) (*crm.Company, error) {
	return s.Store.GetCompany(ctx, id)
}

// UpdateCompany changes a company's name, domain or country (nil: kept),
// with the checks of CreateCompany.
func (s *Service) UpdateCompany(ctx context.Context, actor *crm.User, id int64, name, domain, country *string) (*crm.Company, error) {
	c, err := s.Store.GetCompany(ctx, id)
	if err != nil {
		return nil, err
	}
	n, d, k := c.Name, c.Domain, c.Country
	if name != nil {
		n = *name
	}
	if domain != nil {
		d = *domain
	}
	if country != nil {
		k = *country
	}
	check, err := validCompany(n, d, k)
	if err != nil {
		return nil, err
	}
	domainChanged := check.Domain != c.Domain
	if domainChanged {
		if err := s.domainFree(ctx, check.Domain, id); err != nil {
			return nil, err
		}
	}
	c.Name, c.Domain, c.Country, c.UpdatedAt = check.Name, check.Domain, check.Country, s.now()
	if err := s.Store.UpdateCompany(ctx, c); err != nil {
		// the store writes active companies only: one merged into another
		// (a page opened before the merge, or a merge committed meanwhile)
		// is refused, naming the one to edit instead
		if merged := s.mergedCompany(ctx, id); merged != nil {
			return nil, merged
		}
		if errors.Is(err, crm.ErrConflict) {
			return nil, s.companyConflict(ctx, c, id, domainChanged)
		}
		return nil, err
	}
	return s.Store.GetCompany(ctx, id)
}

// mergedCompany is the refusal of a write to a company merged into another
// (nil: it was not).
func (s *Service) mergedCompany(ctx context.Context, id int64) error {
	st, err := s.Store.GetCompanyState(ctx, id)
	if err != nil || st.MergedInto == nil {
		return nil
	}
	into := fmt.Sprintf("company %d", *st.MergedInto)
	if p, err := s.Store.GetCompany(ctx, *st.MergedInto); err == nil {
		into = p.Name
	}
	return crm.Conflict("%s was merged into %s, so nothing was changed here: edit %s instead.", st.Name, into, into)
}

// RenameSegment renames a static segment.
func (s *Service) RenameSegment(ctx context.Context, actor *crm.User, id int64, name string) (*crm.Segment, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > MaxName {
		return nil, crm.Invalid("name", "Enter a name of at most %d characters.", MaxName)
	}
	if err := s.Store.RenameSegment(ctx, id, name, s.now()); err != nil {
		if errors.Is(err, crm.ErrConflict) {
			return nil, crm.Invalid("name", "A segment named %q already exists.", name)
		}
		return nil, err
	}
	return s.Store.GetSegment(ctx, id)
}
